/**
 * A conformance case: a stable id, a title that states its purpose (used as the vitest test title),
 * and a body that resolves when the adapter conforms and throws a `ConformanceError` saying what the
 * adapter did wrong otherwise. Bodies are plain async functions so a suite can also run them directly
 * (the kit's own tests run them against deliberately broken adapters and expect the failure).
 */
export interface ConformanceCase<Ctx> {
  readonly id: string;
  readonly title: string;
  /**
   * The reason the case does not apply to an adapter whose context declares so (e.g. a source with one
   * split per process cannot be restored onto more instances), or `undefined` when it applies. The
   * `describe*Conformance` functions then name the test `<title> — not applicable: <reason>`, and
   * `run` still runs: it checks that the declaration is true (a declaration cannot hide a fault).
   */
  notApplicable?(ctx: Ctx): string | undefined;
  run(ctx: Ctx): Promise<void>;
}

/** The vitest title of a case for a context: its title, or its title marked not applicable with the reason. */
export function caseTitle<Ctx>(c: ConformanceCase<Ctx>, ctx: Ctx): string {
  const reason = c.notApplicable?.(ctx);
  return reason === undefined ? c.title : `${c.title} — not applicable: ${reason}`;
}

/** Small seeded PRNG so random cases are reproducible. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let counter = 0;
/** A name unique to this process and call, for isolating cases that share a backend. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `kit_${prefix}_${process.pid}_${Date.now().toString(36)}_${counter}`;
}
