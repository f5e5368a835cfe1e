/**
 * A conformance case: a stable id, a title that states its purpose (used as the vitest test title),
 * and a body that resolves when the adapter conforms and throws a `ConformanceError` saying what the
 * adapter did wrong otherwise. Bodies are plain async functions so a suite can also run them directly
 * (the kit's own tests run them against deliberately broken adapters and expect the failure).
 */
export interface ConformanceCase<Ctx> {
  readonly id: string;
  readonly title: string;
  run(ctx: Ctx): Promise<void>;
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
