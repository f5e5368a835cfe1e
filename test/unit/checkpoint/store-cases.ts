/**
 * The checkpoint store's cases, run on every storage it works over (core/checkpoint/manifest-store.ts
 * over a local directory, adapters/shared-state over S3): round trip, a crash inside a commit, any
 * corrupt byte refused, another format version refused, compaction equal to the fold with commits
 * running meanwhile, crashes inside compaction. Each storage's own guard (the directory's LOCK, the S3
 * LEASE) is tested beside it, in its own file.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { CheckpointStoreOptions, ManifestCheckpointStore } from '../../../core/checkpoint/manifest-store.js';
import { frameHeader, FrameKind } from '../../../core/checkpoint/frame.js';
import { decodeManifest } from '../../../core/checkpoint/manifest.js';
import type { CheckpointData, CheckpointEntry, RecoveredState } from '../../../core/contracts/checkpoint-store.js';
import { FenestraError } from '../../../core/errors.js';

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

export function data(id: number, entries: CheckpointEntry[], extra: Partial<CheckpointData> = {}): CheckpointData {
  return { id, createdAt: 1_000 + id, positions: { tx: { '0': id * 10 } }, entries, offlineFiles: [], meta: { layout: { g: 'h1' } }, ...extra };
}

export function stateOf(r: RecoveredState | null): Record<string, string> {
  const out: Record<string, string> = {};
  if (!r) return out;
  for (const e of r.entries()) out[`${e.group}/${e.key}`] = Buffer.from(e.value!).toString('hex');
  return out;
}

export async function expectCode(p: Promise<unknown>, code: string, hint: string): Promise<FenestraError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FenestraError);
  expect((err as FenestraError).code).toBe(code);
  expect((err as FenestraError).message).toContain(hint);
  return err as FenestraError;
}

/** One empty place (a directory, an S3 prefix) a store under test writes to. */
export interface StoreTarget {
  open(opts?: CheckpointStoreOptions): ManifestCheckpointStore;
  /** Names of the files / objects there, sorted (the writer guard included while a writer is open). */
  list(): Promise<string[]>;
  get(name: string): Promise<Buffer>;
  put(name: string, bytes: Uint8Array): Promise<void>;
  remove(name: string): Promise<void>;
  /** How error messages name the file (a path, an s3:// URL). */
  where(name: string): string;
}

export interface StoreHarness {
  /** "on a local directory", "on S3 (s3rver)". */
  readonly name: string;
  /** The writer guard's name while a writer is open: LOCK, LEASE. */
  readonly guard: string;
  fresh(label: string): Promise<StoreTarget>;
  /** Leftovers of a crash half-way through a write that recovery must ignore (temp files), if the storage has them. */
  tornWrites?(t: StoreTarget): Promise<void>;
  /** fast-check runs of the two property cases (S3 round trips cost more). */
  readonly runs: { readonly corrupt: number; readonly compaction: number };
}

/** Recovers with a fresh store and closes it (releasing its guard) whatever happens. */
async function recoverOnce(t: StoreTarget): Promise<RecoveredState | null> {
  const s = t.open();
  try {
    return await s.recover();
  } finally {
    await s.close();
  }
}

export function describeStoreCases(h: StoreHarness): void {
  describe(`checkpoint store ${h.name}`, () => {
    it('returns null on an empty place and round-trips deltas, deletions, positions and meta', async () => {
      const t = await h.fresh('roundtrip');
      const s = t.open();
      expect(await s.recover()).toBeNull();
      await s.commit(data(1, [{ group: 'g', key: 'k1', value: bytes('one') }, { group: 'g', key: 'k2', value: bytes('two') }]));
      await s.commit(
        data(2, [{ group: 'g', key: 'k1', value: bytes('uno') }, { group: 'g', key: 'k2', value: null }, { group: 'h', key: 'ключ', value: new Uint8Array(0) }], {
          offlineFiles: [{ table: 't', staged: 's/1', final: 'f/1', rows: 3 }],
          meta: { layout: { g: 'h2' }, deadLetters: 17 },
        }),
      );
      await s.close();
      expect(await t.list(), 'close releases the writer guard').toEqual(['MANIFEST', 'delta-000000000001.fnck', 'delta-000000000002.fnck']);
      const r = await recoverOnce(t);
      expect(r!.id).toBe(2);
      expect(r!.positions).toEqual({ tx: { '0': 20 } });
      expect(r!.meta).toEqual({ layout: { g: 'h2' }, deadLetters: 17 });
      expect(r!.offlineFiles).toEqual([{ table: 't', staged: 's/1', final: 'f/1', rows: 3 }]);
      expect(stateOf(r)).toEqual({ 'g/k1': Buffer.from('uno').toString('hex'), 'h/ключ': '' });
    });

    it('ignores an unpublished delta (a crash between writing it and the manifest) and removes it on recovery', async () => {
      const t = await h.fresh('crash');
      const s = t.open();
      await s.recover();
      await s.commit(data(1, [{ group: 'g', key: 'k', value: bytes('v1') }]));
      await s.close();
      await h.tornWrites?.(t);
      const crashing = t.open({
        faultHook: (p) => {
          if (p === 'state-renamed') throw new Error('simulated crash');
        },
      });
      await crashing.recover();
      await expect(crashing.commit(data(2, [{ group: 'g', key: 'k', value: bytes('v2') }]))).rejects.toThrow('simulated crash');
      expect(await t.list()).toContain('delta-000000000002.fnck');
      // The crashed writer is this process: its guard is taken over at once.
      const fresh = t.open();
      const r = await fresh.recover();
      expect(r!.id).toBe(1);
      expect(stateOf(r)).toEqual({ 'g/k': Buffer.from('v1').toString('hex') });
      expect(await t.list()).toEqual([h.guard, 'MANIFEST', 'delta-000000000001.fnck'].sort());
      // The next commit reuses id 2 cleanly.
      await fresh.commit(data(2, [{ group: 'g', key: 'k', value: bytes('v2') }]));
      await fresh.close();
      await crashing.close();
      expect(stateOf(await recoverOnce(t))).toEqual({ 'g/k': Buffer.from('v2').toString('hex') });
    });

    it('refuses any single corrupt byte with CHECKPOINT_CORRUPT naming the file', async () => {
      const t = await h.fresh('corrupt');
      const s = t.open();
      await s.recover();
      await s.commit(data(1, [{ group: 'g', key: 'k', value: bytes('value-1') }]));
      await s.commit(data(2, [{ group: 'g', key: 'k2', value: bytes('value-2') }]));
      await s.close();
      const files = ['MANIFEST', 'delta-000000000001.fnck', 'delta-000000000002.fnck'];
      const originals = await Promise.all(files.map((f) => t.get(f)));
      await fc.assert(
        fc.asyncProperty(fc.nat(files.length - 1), fc.nat(), fc.integer({ min: 1, max: 255 }), async (fi, pos, xor) => {
          const orig = originals[fi]!;
          const at = pos % orig.byteLength;
          if (at === 4 || at === 5) return; // version bytes: the header checksum catches them (next case for a valid one)
          const bad = Buffer.from(orig);
          bad[at] = bad[at]! ^ xor;
          await t.put(files[fi]!, bad);
          try {
            await expectCode(recoverOnce(t), 'CHECKPOINT_CORRUPT', t.where(files[fi]!));
          } finally {
            await t.put(files[fi]!, orig);
          }
        }),
        { numRuns: h.runs.corrupt },
      );
      expect(stateOf(await recoverOnce(t))).toEqual({ 'g/k': Buffer.from('value-1').toString('hex'), 'g/k2': Buffer.from('value-2').toString('hex') });
      // Truncation and a missing file are corrupt too.
      await t.put(files[1]!, originals[1]!.subarray(0, originals[1]!.byteLength - 3));
      await expectCode(recoverOnce(t), 'CHECKPOINT_CORRUPT', t.where(files[1]!));
      await t.remove(files[1]!);
      await expectCode(recoverOnce(t), 'CHECKPOINT_CORRUPT', `${t.where(files[1]!)} named by the manifest is missing`);
    });

    it('refuses another format version with CHECKPOINT_VERSION naming the file', async () => {
      const t = await h.fresh('version');
      const s = t.open();
      await s.recover();
      await s.commit(data(1, [{ group: 'g', key: 'k', value: bytes('v') }]));
      await s.close();
      const buf = await t.get('delta-000000000001.fnck');
      frameHeader(FrameKind.State, Number(buf.readBigUInt64LE(8)), 2).copy(buf, 0);
      await t.put('delta-000000000001.fnck', buf);
      await expectCode(recoverOnce(t), 'CHECKPOINT_VERSION', t.where('delta-000000000001.fnck'));
    });

    it('compaction keeps the state equal to the fold and leaves exactly what the manifest names, also with commits running meanwhile', async () => {
      let compactions = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.array(fc.tuple(fc.constantFrom('g', 'h'), fc.integer({ min: 0, max: 30 }), fc.option(fc.string(), { nil: null })), { maxLength: 20 }), {
            minLength: 1,
            maxLength: 12,
          }),
          async (checkpoints) => {
            const t = await h.fresh('compact');
            const s = t.open({ minCompactBytes: 0, maxDeltas: 3, yieldEvery: 2 });
            await s.recover();
            const oracle = new Map<string, string>();
            let id = 0;
            for (const cp of checkpoints) {
              id++;
              const entries: CheckpointEntry[] = cp.map(([g, k, v]) => ({ group: g, key: `k${k}`, value: v === null ? null : bytes(v) }));
              for (const e of entries) {
                if (e.value === null) oracle.delete(`${e.group}/${e.key}`);
                else oracle.set(`${e.group}/${e.key}`, Buffer.from(e.value).toString('hex'));
              }
              await s.commit(data(id, entries)); // a compaction may be running in the background here
            }
            await s.compactNow();
            await s.close();
            compactions += s.stats().compactions;
            const r = await recoverOnce(t);
            expect(r!.id).toBe(id);
            expect(r!.positions).toEqual({ tx: { '0': id * 10 } });
            expect(stateOf(r)).toEqual(Object.fromEntries([...oracle].sort()));
            const m = decodeManifest(await t.get('MANIFEST'), 'MANIFEST');
            expect(m.deltas.every((d) => d.id > m.snapshot!.id)).toBe(true);
            expect(await t.list()).toEqual(['MANIFEST', ...m.deltas.map((d) => d.file), m.snapshot!.file].sort());
          },
        ),
        { numRuns: h.runs.compaction },
      );
      expect(compactions).toBeGreaterThanOrEqual(h.runs.compaction);
    });

    it.each(['compaction-snapshot-written', 'compaction-manifest-renamed'] as const)('a crash at %s leaves a loadable, equal state', async (point) => {
      const t = await h.fresh('compact-crash');
      const crashing = t.open({
        minCompactBytes: 0,
        maxDeltas: 1000,
        faultHook: (p) => {
          if (p === point) throw new Error(`crash at ${p}`);
        },
      });
      await crashing.recover();
      await crashing.commit(data(1, [{ group: 'g', key: 'a', value: bytes('a1') }, { group: 'g', key: 'b', value: bytes('b1') }]));
      await crashing.commit(data(2, [{ group: 'g', key: 'a', value: bytes('a2') }, { group: 'g', key: 'b', value: null }]));
      await crashing.idle(); // the background compaction hit the fault
      await crashing.close();
      const r = await recoverOnce(t);
      expect(r!.id).toBe(2);
      expect(stateOf(r)).toEqual({ 'g/a': Buffer.from('a2').toString('hex') });
    });
  });
}
