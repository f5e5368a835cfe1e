import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { backoffMs, isThrottling } from '../../../adapters/sources/kinesis/backoff.js';

describe('kinesis throttling backoff', () => {
  it('waits within [ceiling/2, ceiling] where ceiling = min(max, base·2^attempt) (property, against the formula)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 100_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, base, extra, u) => {
        const max = base + extra;
        let ceiling = base;
        for (let i = 0; i < attempt && ceiling < max; i++) ceiling *= 2;
        ceiling = Math.min(ceiling, max);
        const w = backoffMs(attempt, base, max, () => u);
        expect(w).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
        expect(w).toBeLessThanOrEqual(Math.ceil(ceiling));
      }),
    );
  });

  it('grows until the cap and is jittered', () => {
    const mid = (a: number) => backoffMs(a, 100, 10_000, () => 0.5);
    expect([0, 1, 2, 3, 10].map(mid)).toEqual([75, 150, 300, 600, 7500]);
    const samples = new Set(Array.from({ length: 50 }, () => backoffMs(5, 100, 10_000)));
    expect(samples.size).toBeGreaterThan(10);
  });

  it('recognises the throttling errors Kinesis answers, and only those', () => {
    for (const name of ['ProvisionedThroughputExceededException', 'LimitExceededException', 'ThrottlingException']) expect(isThrottling({ name })).toBe(true);
    for (const e of [{ name: 'ExpiredIteratorException' }, { name: 'ResourceNotFoundException' }, new Error('socket hang up'), null, undefined]) expect(isThrottling(e)).toBe(false);
  });
});
