/**
 * The `memory` online store against a brute-force oracle (fast-check): any sequence of batched
 * writes (duplicate keys across batches, any versions, optional expiry), versioned deletes and
 * reads leaves exactly what the oracle — "per key, the record with the highest version written,
 * unless a delete at a version >= it came later; expired reads as null" — says, and every write
 * reports applied/skipped as the oracle counts them.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MemoryOnlineStore } from '../../../adapters/online/memory/index.js';
import type { OnlineRecord } from '../../../plugins/sdk/index.js';

const KEYS = ['a', 'b', 'c', 'd'];
const GROUPS = ['g1', 'g2'];

type Op =
  | { kind: 'write'; batch: Array<{ group: string; key: string; version: number; expiresAt?: number }> }
  | { kind: 'delete'; group: string; key: string; version: number };

const recordArb = fc.record({
  group: fc.constantFrom(...GROUPS),
  key: fc.constantFrom(...KEYS),
  version: fc.integer({ min: 1, max: 20 }),
  expiresAt: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
});
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.uniqueArray(recordArb, { minLength: 1, maxLength: 6, selector: (r) => `${r.group}/${r.key}` }).map((batch) => ({ kind: 'write' as const, batch })) },
  { weight: 1, arbitrary: fc.record({ group: fc.constantFrom(...GROUPS), key: fc.constantFrom(...KEYS), version: fc.integer({ min: 1, max: 20 }) }).map((d) => ({ kind: 'delete' as const, ...d })) },
);

describe('memory online store vs oracle', () => {
  it('matches the max-version oracle for any sequence of writes, deletes and reads', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 40 }), fc.integer({ min: 0, max: 120 }), async (ops, now) => {
        const store = new MemoryOnlineStore();
        await store.open();
        const oracle = new Map<string, OnlineRecord>();
        for (const op of ops) {
          if (op.kind === 'delete') {
            const id = `${op.group}/${op.key}`;
            const held = oracle.get(id);
            if (held !== undefined && held.version <= op.version) oracle.delete(id);
            await store.delete(op.group, op.key, op.version);
            continue;
          }
          let applied = 0;
          const records: OnlineRecord[] = op.batch.map((r) => ({ ...r, value: new TextEncoder().encode(`${r.key}@${r.version}`) }));
          for (const r of records) {
            const id = `${r.group}/${r.key}`;
            const held = oracle.get(id);
            if (held === undefined || r.version > held.version) { oracle.set(id, r); applied++; }
          }
          expect(await store.write(records)).toEqual({ applied, skipped: records.length - applied });
        }
        for (const group of GROUPS) {
          const got = await store.read(group, KEYS, now);
          const want = KEYS.map((k) => {
            const r = oracle.get(`${group}/${k}`);
            return r === undefined || (r.expiresAt !== undefined && now > r.expiresAt) ? null : r.version;
          });
          expect(got.map((r) => (r === null ? null : r.version))).toEqual(want);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('refuses use before open', async () => {
    await expect(new MemoryOnlineStore().read('g', ['k'], 0)).rejects.toThrow('used before open()');
  });
});
