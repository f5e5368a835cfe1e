/**
 * The online-store contract cases, run against every adapter by its integration test (real
 * backend): replays change nothing, older versions never overwrite newer ones, reads return one
 * result per key in request order with null for a miss, expired records read as missing, deletes
 * are version-guarded. Plus a property test against a brute-force oracle of the version rule.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { OnlineRecord, OnlineStore } from '../../../core/contracts/online-store.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

let groupSeq = 0;
/** A fresh group name per case, so cases never see each other's keys. */
export function freshGroup(tag: string): string {
  groupSeq++;
  return `g${process.pid}_${Date.now().toString(36)}_${groupSeq}_${tag}`;
}

function rec(group: string, key: string, version: number, value: string, expiresAt?: number): OnlineRecord {
  return expiresAt === undefined ? { group, key, version, value: enc(value) } : { group, key, version, value: enc(value), expiresAt };
}

async function readAll(store: OnlineStore, group: string, keys: readonly string[], now = Date.now()) {
  const rows = await store.read(group, keys, now);
  expect(rows.length).toBe(keys.length);
  return rows.map((r) => (r === null ? null : { key: r.key, version: r.version, value: dec(r.value) }));
}

/**
 * Registers the cases in the caller's describe block. `store()` returns the opened store under test
 * (the caller opens it in beforeAll and closes it in afterAll).
 */
export function onlineStoreCases(store: () => OnlineStore): void {
  it('applies new records and a replayed batch changes nothing', async () => {
    const g = freshGroup('replay');
    const batch = Array.from({ length: 50 }, (_, i) => rec(g, `k${i}`, i + 1, `value-${i}`));
    expect(await store().write(batch)).toEqual({ applied: 50, skipped: 0 });
    const before = await readAll(store(), g, batch.map((r) => r.key));
    expect(await store().write(batch)).toEqual({ applied: 0, skipped: 50 });
    expect(await readAll(store(), g, batch.map((r) => r.key))).toEqual(before);
    expect(before[7]).toEqual({ key: 'k7', version: 8, value: 'value-7' });
  });

  it('never lets an older or equal version overwrite a newer one', async () => {
    const g = freshGroup('older');
    expect(await store().write([rec(g, 'a', 5, 'five'), rec(g, 'b', 2, 'two')])).toEqual({ applied: 2, skipped: 0 });
    expect(await store().write([rec(g, 'a', 3, 'three'), rec(g, 'a', 5, 'five-again'), rec(g, 'b', 9, 'nine')])).toEqual({
      applied: 1,
      skipped: 2,
    });
    expect(await readAll(store(), g, ['a', 'b'])).toEqual([
      { key: 'a', version: 5, value: 'five' },
      { key: 'b', version: 9, value: 'nine' },
    ]);
  });

  it('returns one result per key in request order, null for a miss, duplicates answered each time', async () => {
    const g = freshGroup('order');
    await store().write([rec(g, 'x', 1, 'X'), rec(g, 'y', 2, 'Y'), rec(g, 'key with spaces:and:colons', 3, 'Z')]);
    expect(await readAll(store(), g, ['y', 'missing', 'x', 'y', 'key with spaces:and:colons'])).toEqual([
      { key: 'y', version: 2, value: 'Y' },
      null,
      { key: 'x', version: 1, value: 'X' },
      { key: 'y', version: 2, value: 'Y' },
      { key: 'key with spaces:and:colons', version: 3, value: 'Z' },
    ]);
    expect(await store().read(g, [], Date.now())).toEqual([]);
  });

  it('keeps groups apart: the same key in two groups is two records', async () => {
    const g1 = freshGroup('iso1');
    const g2 = freshGroup('iso2');
    await store().write([rec(g1, 'k', 1, 'one'), rec(g2, 'k', 7, 'seven')]);
    expect(await readAll(store(), g1, ['k'])).toEqual([{ key: 'k', version: 1, value: 'one' }]);
    expect(await readAll(store(), g2, ['k'])).toEqual([{ key: 'k', version: 7, value: 'seven' }]);
  });

  it('reads an expired record as missing, even while the backend still holds it', async () => {
    const g = freshGroup('ttl');
    const now = Date.now();
    const exp = now + 60_000;
    await store().write([rec(g, 'live', 1, 'L', exp), rec(g, 'forever', 1, 'F')]);
    const at = await store().read(g, ['live', 'forever'], now);
    expect(at[0]?.expiresAt).toBe(exp);
    expect(at[1]?.expiresAt).toBeUndefined();
    expect(await readAll(store(), g, ['live', 'forever'], exp)).toEqual([
      { key: 'live', version: 1, value: 'L' },
      { key: 'forever', version: 1, value: 'F' },
    ]);
    expect(await readAll(store(), g, ['live', 'forever'], exp + 1)).toEqual([null, { key: 'forever', version: 1, value: 'F' }]);
    // A newer write without expiry makes the record permanent again.
    await store().write([rec(g, 'live', 2, 'L2')]);
    expect(await readAll(store(), g, ['live'], exp + 10_000)).toEqual([{ key: 'live', version: 2, value: 'L2' }]);
  });

  it('deletes only when the stored version is not newer than the delete', async () => {
    const g = freshGroup('del');
    await store().write([rec(g, 'a', 10, 'A'), rec(g, 'b', 10, 'B')]);
    await store().delete(g, 'a', 9);
    await store().delete(g, 'b', 10);
    await store().delete(g, 'never-written', 3);
    expect(await readAll(store(), g, ['a', 'b', 'never-written'])).toEqual([{ key: 'a', version: 10, value: 'A' }, null, null]);
    expect(await store().write([rec(g, 'b', 11, 'B11')])).toEqual({ applied: 1, skipped: 0 });
  });

  it('round-trips arbitrary bytes and large batches', async () => {
    const g = freshGroup('bytes');
    const bytes = Uint8Array.from({ length: 4096 }, (_, i) => (i * 131) & 0xff);
    const big = Array.from({ length: 1500 }, (_, i): OnlineRecord => ({ group: g, key: `e${i}`, version: 1_700_000_000_000 + i, value: bytes.subarray(i % 7, 64 + (i % 300)) }));
    big.push({ group: g, key: 'empty', version: 1, value: new Uint8Array(0) });
    expect(await store().write(big)).toEqual({ applied: big.length, skipped: 0 });
    const rows = await store().read(g, big.map((r) => r.key), Date.now());
    rows.forEach((r, i) => {
      expect(r?.version).toBe(big[i]!.version);
      expect(Buffer.from(r!.value).equals(Buffer.from(big[i]!.value))).toBe(true);
    });
  });

  it('converges to the newest version under any order, batching and replay (property, vs oracle)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c', 'd'), version: fc.integer({ min: 1, max: 20 }), tag: fc.nat(999) }), {
          minLength: 1,
          maxLength: 40,
        }),
        fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 10 }),
        async (writes, cuts) => {
          const g = freshGroup('prop');
          const oracle = new Map<string, { version: number; value: string }>();
          let i = 0;
          let c = 0;
          while (i < writes.length) {
            const n = cuts[c++ % cuts.length]!;
            const batch = writes.slice(i, i + n).map((w) => rec(g, w.key, w.version, `${w.key}@${w.version}#${w.tag}`));
            i += n;
            let expectApplied = 0;
            for (const r of batch) {
              const cur = oracle.get(r.key);
              if (cur === undefined || cur.version < r.version) {
                oracle.set(r.key, { version: r.version, value: dec(r.value) });
                expectApplied++;
              }
            }
            const res = await store().write(batch);
            expect(res.applied + res.skipped).toBe(batch.length);
            // With a key twice in one batch, how many of its records count as applied is the adapter's
            // choice (sequential or newest-only); the stored result must match the oracle either way.
            if (new Set(batch.map((r) => r.key)).size === batch.length) expect(res.applied).toBe(expectApplied);
          }
          const keys = ['a', 'b', 'c', 'd'];
          const got = await readAll(store(), g, keys);
          expect(got).toEqual(keys.map((k) => (oracle.has(k) ? { key: k, ...oracle.get(k)! } : null)));
        },
      ),
      { numRuns: 40 },
    );
  });
}

export { describe };
