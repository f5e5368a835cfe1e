/**
 * The error a conformance case throws when the adapter under test breaks its contract. The message
 * says what the adapter did wrong in the adapter's own terms (`key k1: version 3 overwrote version 5`),
 * prefixed by the case it broke, so a red test explains itself without reading the kit.
 */
export class ConformanceError extends Error {
  /** The case id (`online-store/older-never-overwrites-newer`). */
  readonly caseId: string;
  constructor(caseId: string, message: string) {
    super(`[${caseId}] ${message}`);
    this.name = 'ConformanceError';
    this.caseId = caseId;
  }
}

/** Throws a ConformanceError unless `ok`. */
export function check(ok: boolean, caseId: string, message: () => string): asserts ok {
  if (!ok) throw new ConformanceError(caseId, message());
}

/** Runs `fn`, turning an exception of the adapter into a ConformanceError that names the call. */
export async function call<T>(caseId: string, what: string, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ConformanceError) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    throw new ConformanceError(caseId, `${what} threw: ${msg}`);
  }
}

/** A short printable form of a value for failure messages. */
export function show(x: unknown): string {
  if (x instanceof Uint8Array) return `bytes(${Buffer.from(x).toString('utf8').slice(0, 40)})`;
  const s = JSON.stringify(x);
  return s === undefined ? String(x) : s.length > 120 ? `${s.slice(0, 117)}...` : s;
}
