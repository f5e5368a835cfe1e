import { describe, it, beforeAll, afterAll } from 'vitest';
import type { OnlineRecord, OnlineStore } from '../../core/contracts/online-store.js';
import { call, check, show } from './failure.js';
import { mulberry32, uniqueName, type ConformanceCase, caseTitle } from './case.js';

/**
 * What an online-store author supplies to run the kit against a real backend.
 * The kit creates a store per case with case-unique group names, so cases never see each other's keys.
 */
export interface OnlineStoreConformanceContext {
  /** Start the backend (once, before all cases). A backend that cannot start must throw saying what is missing. */
  setup?(): Promise<void>;
  /** Stop the backend (once, after all cases). */
  teardown?(): Promise<void>;
  /** A new, not yet opened store that will hold `groups`. The kit calls `open()` and `close()`. */
  createStore(groups: readonly string[]): OnlineStore | Promise<OnlineStore>;
}

async function withStore<T>(caseId: string, ctx: OnlineStoreConformanceContext, groups: readonly string[],
  fn: (store: OnlineStore) => Promise<T>): Promise<T> {
  const store = await call(caseId, 'createStore()', () => ctx.createStore(groups));
  await call(caseId, 'open()', () => store.open());
  let failed = true;
  try {
    const result = await fn(store);
    failed = false;
    return result;
  } finally {
    // A close() error must not hide the case's own failure.
    if (failed) await Promise.resolve().then(() => store.close()).catch(() => undefined);
    else await call(caseId, 'close()', () => store.close());
  }
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

async function readOne(caseId: string, store: OnlineStore, group: string, key: string, now: number): Promise<OnlineRecord | null> {
  const got = await call(caseId, `read(${group}, [${key}])`, () => store.read(group, [key], now));
  check(Array.isArray(got) && got.length === 1, caseId, () => `read of 1 key returned ${Array.isArray(got) ? got.length : typeof got} results`);
  return got[0] ?? null;
}

function describeRecord(r: OnlineRecord | null): string {
  return r === null ? 'null (missing)' : `version ${r.version} value "${dec(r.value)}"`;
}

/**
 * **A replayed batch changes nothing.**
 * Purpose: after a crash the runtime re-writes batches it cannot know were applied; they must converge.
 * Steps: write a batch of 20 keys (versions 1..20); read them; write the same batch again, then the
 * same keys with the same versions but different values; read again.
 * Pass: the replay reports `applied: 0, skipped: 20` (each record counted in exactly one of the two),
 * and every key reads back with the version and bytes of the first write.
 */
export const onlineReplayedBatchChangesNothing: ConformanceCase<OnlineStoreConformanceContext> = {
  id: 'online-store/replayed-batch-changes-nothing',
  title: 'a replayed batch changes nothing (writes are idempotent per version)',
  async run(ctx) {
    const id = 'online-store/replayed-batch-changes-nothing';
    const group = uniqueName('replay');
    const now = Date.now();
    const batch: OnlineRecord[] = Array.from({ length: 20 }, (_, i) => ({
      group, key: `k${i}`, version: i + 1, value: enc(`first-${i}`),
    }));
    await withStore(id, ctx, [group], async (store) => {
      const r1 = await call(id, 'write(batch)', () => store.write(batch));
      check(r1.applied === 20 && r1.skipped === 0, id, () => `first write of 20 new keys reported ${show(r1)}, expected {"applied":20,"skipped":0}`);
      const replay = await call(id, 'write(same batch again)', () => store.write(batch));
      check(replay.applied === 0 && replay.skipped === 20, id,
        () => `replaying the same batch reported ${show(replay)}, expected {"applied":0,"skipped":20}`);
      const altered = batch.map((r) => ({ ...r, value: enc(`replayed-${r.key}`) }));
      const r3 = await call(id, 'write(same versions, other values)', () => store.write(altered));
      check(r3.applied === 0, id, () => `re-writing the same versions with other values applied ${r3.applied} records; an equal version must be ignored`);
      const got = await call(id, 'read', () => store.read(group, batch.map((r) => r.key), now));
      check(got.length === batch.length, id, () => `read of ${batch.length} keys returned ${got.length} results`);
      batch.forEach((w, i) => {
        const g = got[i] ?? null;
        check(g !== null, id, () => `key ${w.key}: missing after the replay (wrote version ${w.version})`);
        check(g.version === w.version && sameBytes(g.value, w.value), id,
          () => `key ${w.key}: replay changed the record: expected version ${w.version} value "${dec(w.value)}", read ${describeRecord(g)}`);
      });
    });
  },
};

/**
 * **An older version never overwrites a newer one.**
 * Purpose: writes may arrive out of order (retries, replays, several writers); readers must never see
 * a value go backwards.
 * Steps: write k1@5; write k1@3 (older) and k1@5 with other bytes (equal); then, for 40 keys, a seeded
 * random sequence of single-record and multi-record batches with shuffled versions, compared against an
 * oracle that keeps the maximum version per key.
 * Pass: k1 still reads version 5 with its first bytes, each write's `applied`/`skipped` counts agree
 * with the oracle, and every key reads back the record with the highest version written.
 */
export const onlineOlderNeverOverwritesNewer: ConformanceCase<OnlineStoreConformanceContext> = {
  id: 'online-store/older-never-overwrites-newer',
  title: 'an older version never overwrites a newer one',
  async run(ctx) {
    const id = 'online-store/older-never-overwrites-newer';
    const group = uniqueName('order');
    const now = Date.now();
    await withStore(id, ctx, [group], async (store) => {
      await call(id, 'write(k1@5)', () => store.write([{ group, key: 'k1', version: 5, value: enc('v5') }]));
      await call(id, 'write(k1@3)', () => store.write([{ group, key: 'k1', version: 3, value: enc('v3') }]));
      let got = await readOne(id, store, group, 'k1', now);
      check(got !== null, id, () => 'key k1: missing after writing version 5 then version 3');
      check(got.version === 5 && dec(got.value) === 'v5', id,
        () => `key k1: version 3 overwrote version 5 (read ${describeRecord(got)})`);
      await call(id, 'write(k1@5 other bytes)', () => store.write([{ group, key: 'k1', version: 5, value: enc('v5-again') }]));
      got = await readOne(id, store, group, 'k1', now);
      check(got !== null && dec(got.value) === 'v5', id,
        () => `key k1: an equal version (5) overwrote the stored version 5 (read ${describeRecord(got)}); only strictly newer versions may win`);

      // Seeded random interleaving against an oracle (max version per key).
      const rand = mulberry32(0xfe57a);
      const oracle = new Map<string, OnlineRecord>();
      const keys = Array.from({ length: 40 }, (_, i) => `r${i}`);
      for (let step = 0; step < 60; step++) {
        const size = 1 + Math.floor(rand() * 8);
        const batchKeys = new Set<string>();
        const batch: OnlineRecord[] = [];
        while (batch.length < size) {
          const key = keys[Math.floor(rand() * keys.length)]!;
          if (batchKeys.has(key)) continue; // one record per key per batch, as the runtime sends
          batchKeys.add(key);
          const version = 1 + Math.floor(rand() * 30);
          batch.push({ group, key, version, value: enc(`${key}@${version}`) });
        }
        let expectApplied = 0;
        for (const r of batch) {
          const held = oracle.get(r.key);
          if (held === undefined || r.version > held.version) { oracle.set(r.key, r); expectApplied += 1; }
        }
        const res = await call(id, `write(batch ${step})`, () => store.write(batch));
        check(res.applied === expectApplied && res.skipped === batch.length - expectApplied, id,
          () => `batch ${step} ${show(batch.map((r) => `${r.key}@${r.version}`))}: store reported ${show(res)}, expected applied ${expectApplied}, skipped ${batch.length - expectApplied}`);
      }
      const all = await call(id, 'read(all keys)', () => store.read(group, keys, now));
      keys.forEach((key, i) => {
        const want = oracle.get(key) ?? null;
        const have = all[i] ?? null;
        if (want === null) {
          check(have === null, id, () => `key ${key}: never written, but read ${describeRecord(have)}`);
          return;
        }
        check(have !== null, id, () => `key ${key}: missing, expected version ${want.version}`);
        check(have.version >= want.version, id, () => `key ${key}: version ${have.version} overwrote version ${want.version}`);
        check(have.version === want.version && dec(have.value) === dec(want.value), id,
          () => `key ${key}: expected ${describeRecord(want)} (the highest version written), read ${describeRecord(have)}`);
      });
    });
  },
};

/**
 * **One result per key, in request order, null for a miss.**
 * Purpose: the server zips read results with the requested keys; a missing, extra or reordered entry
 * would serve one card's features for another.
 * Steps: write a, b, c in group G and a in group H (other bytes); read G with [c, missing, a, c, b, other].
 * Pass: exactly 6 results; entry i has the key and group requested at i (null for `missing` and
 * `other`); the duplicate key is answered twice; group H's `a` does not leak into G; an empty read
 * returns an empty array.
 */
export const onlineOneResultPerKey: ConformanceCase<OnlineStoreConformanceContext> = {
  id: 'online-store/one-result-per-key-in-order',
  title: 'read returns one result per key, in request order, null for a miss',
  async run(ctx) {
    const id = 'online-store/one-result-per-key-in-order';
    const g = uniqueName('readg');
    const h = uniqueName('readh');
    const now = Date.now();
    await withStore(id, ctx, [g, h], async (store) => {
      await call(id, 'write', () => store.write([
        { group: g, key: 'a', version: 1, value: enc('G/a') },
        { group: g, key: 'b', version: 2, value: enc('G/b') },
        { group: g, key: 'c', version: 3, value: enc('G/c') },
        { group: h, key: 'a', version: 9, value: enc('H/a') },
        { group: h, key: 'other', version: 9, value: enc('H/other') },
      ]));
      const ask = ['c', 'missing', 'a', 'c', 'b', 'other'];
      const want: Array<string | null> = ['G/c', null, 'G/a', 'G/c', 'G/b', null];
      const got = await call(id, 'read', () => store.read(g, ask, now));
      check(Array.isArray(got) && got.length === ask.length, id,
        () => `read of ${ask.length} keys ${show(ask)} returned ${Array.isArray(got) ? got.length : 'no array of'} results`);
      ask.forEach((key, i) => {
        const r = got[i] ?? null;
        const w = want[i] ?? null;
        if (w === null) {
          check(r === null, id, () => `key ${key} (position ${i}): expected null for a miss${key === 'other' ? ' (it exists only in another group)' : ''}, read ${describeRecord(r)}`);
          return;
        }
        check(r !== null, id, () => `key ${key} (position ${i}): expected "${w}", read null`);
        check(r.key === key && r.group === g, id, () => `position ${i}: asked for ${g}/${key}, got the record of ${r.group}/${r.key}`);
        check(dec(r.value) === w, id, () => `key ${key} (position ${i}): expected "${w}", read ${describeRecord(r)}`);
      });
      const empty = await call(id, 'read([])', () => store.read(g, [], now));
      check(Array.isArray(empty) && empty.length === 0, id, () => `read of no keys returned ${show(empty)}, expected []`);
    });
  },
};

/**
 * **Expiry is honoured on read.**
 * Purpose: stored groups have a TTL; a record past `expiresAt` must read as missing whatever the
 * backend's own TTL machinery has done yet.
 * Steps: write x with expiresAt = T (an hour ahead), y without expiry, z with expiresAt 5 s in the past;
 * read at T − 1 and at T + 1.
 * Pass: at T − 1, x and y are present; at T + 1, x is null and y present; z is null at both times.
 */
export const onlineExpiryHonouredOnRead: ConformanceCase<OnlineStoreConformanceContext> = {
  id: 'online-store/expiry-honoured-on-read',
  title: 'expiry is honoured on read (expired records read as null)',
  async run(ctx) {
    const id = 'online-store/expiry-honoured-on-read';
    const group = uniqueName('ttl');
    const wall = Date.now();
    const T = wall + 3_600_000;
    await withStore(id, ctx, [group], async (store) => {
      await call(id, 'write', () => store.write([
        { group, key: 'x', version: 1, value: enc('x'), expiresAt: T },
        { group, key: 'y', version: 1, value: enc('y') },
        { group, key: 'z', version: 1, value: enc('z'), expiresAt: wall - 5_000 },
      ]));
      const before = await call(id, 'read(now = T - 1)', () => store.read(group, ['x', 'y', 'z'], T - 1));
      check(before[0] != null && dec(before[0].value) === 'x', id, () => `key x: expires at ${T}, but read at ${T - 1} gave ${describeRecord(before[0] ?? null)}`);
      check(before[1] != null, id, () => 'key y: has no expiry, but read as missing');
      check(before[2] == null, id, () => `key z: expired at ${wall - 5_000}, but read at ${T - 1} gave ${describeRecord(before[2] ?? null)}`);
      const after = await call(id, 'read(now = T + 1)', () => store.read(group, ['x', 'y', 'z'], T + 1));
      check(after[0] == null, id, () => `key x: expired at ${T}, but read at ${T + 1} gave ${describeRecord(after[0] ?? null)} (expiry must be checked on read with \`now\`)`);
      check(after[1] != null, id, () => `key y: has no expiry, but read at ${T + 1} as missing`);
      check(after[2] == null, id, () => `key z: expired, but read as ${describeRecord(after[2] ?? null)}`);
    });
  },
};

/**
 * **Delete never removes a newer version; healthy() answers.**
 * Purpose: SageMaker DeleteRecord carries an event time; a delayed delete must not erase a newer write.
 * Steps: write d@7; delete(d, 6); read; delete(d, 7); read; check `healthy()`.
 * Pass: after delete@6 the record still reads version 7; after delete@7 it reads null; healthy() is true.
 */
export const onlineDeleteIsVersioned: ConformanceCase<OnlineStoreConformanceContext> = {
  id: 'online-store/delete-is-versioned',
  title: 'delete never removes a newer version, and healthy() answers',
  async run(ctx) {
    const id = 'online-store/delete-is-versioned';
    const group = uniqueName('del');
    const now = Date.now();
    await withStore(id, ctx, [group], async (store) => {
      check(await call(id, 'healthy()', () => store.healthy()) === true, id, () => 'healthy() returned false on an open store whose backend is up');
      await call(id, 'write(d@7)', () => store.write([{ group, key: 'd', version: 7, value: enc('d7') }]));
      await call(id, 'delete(d, 6)', () => store.delete(group, 'd', 6));
      const kept = await readOne(id, store, group, 'd', now);
      check(kept !== null && kept.version === 7, id, () => `key d: delete with version 6 removed version 7 (read ${describeRecord(kept)})`);
      await call(id, 'delete(d, 7)', () => store.delete(group, 'd', 7));
      const gone = await readOne(id, store, group, 'd', now);
      check(gone === null, id, () => `key d: delete with version 7 left ${describeRecord(gone)}`);
    });
  },
};

/**
 * **Reads concurrent with writes never go backwards.**
 * Purpose: the server reads while the flusher writes; a reader must see each key either before or
 * after a write, never an older version after a newer one.
 * Steps: write 30 successive versions of keys m0..m4 (one batch per version) while, concurrently, a
 * chain of reads of [m0..m4] runs; each read starts after the previous one finished.
 * Pass: for every key, the versions the chain of reads returns never decrease, and the final read
 * returns version 30 for every key.
 */
export const onlineConcurrentReadsMonotonic: ConformanceCase<OnlineStoreConformanceContext> = {
  id: 'online-store/concurrent-reads-never-go-backwards',
  title: 'reads concurrent with writes never see a version go backwards',
  async run(ctx) {
    const id = 'online-store/concurrent-reads-never-go-backwards';
    const group = uniqueName('conc');
    const keys = ['m0', 'm1', 'm2', 'm3', 'm4'];
    const now = Date.now();
    await withStore(id, ctx, [group], async (store) => {
      let writing = true;
      let abandoned = false; // a read failed the case: the writer stops before the store is closed
      const writer = (async () => {
        try {
          for (let v = 1; v <= 30 && !abandoned; v++) {
            await call(id, `write(version ${v})`, () => store.write(keys.map((key) => ({ group, key, version: v, value: enc(`${key}@${v}`) }))));
          }
        } finally {
          writing = false;
        }
      })();
      const seen = new Map<string, number>();
      const readOnce = async (): Promise<void> => {
        const got = await call(id, 'read (concurrent)', () => store.read(group, keys, now));
        keys.forEach((key, i) => {
          const r = got[i] ?? null;
          const before = seen.get(key) ?? 0;
          const v = r === null ? 0 : r.version;
          check(v >= before, id, () => `key ${key}: a read returned version ${v} after an earlier read had returned version ${before}`);
          check(r === null || dec(r.value) === `${key}@${r.version}`, id, () => `key ${key}: version ${r!.version} came with the bytes of another version ("${dec(r!.value)}")`);
          seen.set(key, v);
        });
      };
      try {
        while (writing) await readOnce();
      } catch (e) {
        abandoned = true;
        await writer.catch(() => undefined); // the read's failure is the case's verdict
        throw e;
      }
      await writer;
      await readOnce();
      for (const key of keys) check(seen.get(key) === 30, id, () => `key ${key}: after all writes, read version ${seen.get(key)}, expected 30`);
    });
  },
};

/** Every online-store case, in the order `describeOnlineStoreConformance` registers them. */
export const onlineStoreCases: readonly ConformanceCase<OnlineStoreConformanceContext>[] = [
  onlineReplayedBatchChangesNothing,
  onlineOlderNeverOverwritesNewer,
  onlineOneResultPerKey,
  onlineExpiryHonouredOnRead,
  onlineDeleteIsVersioned,
  onlineConcurrentReadsMonotonic,
];

/**
 * Registers the online-store conformance suite as a vitest `describe` block in the caller's test file.
 * `setup` runs in `beforeAll`, `teardown` in `afterAll`; each case is one `it`.
 */
export function describeOnlineStoreConformance(name: string, ctx: OnlineStoreConformanceContext): void {
  describe(`online-store conformance: ${name}`, () => {
    beforeAll(async () => { await ctx.setup?.(); });
    afterAll(async () => { await ctx.teardown?.(); });
    for (const c of onlineStoreCases) it(caseTitle(c, ctx), () => c.run(ctx));
  });
}

