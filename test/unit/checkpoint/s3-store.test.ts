/**
 * The manifest checkpoint store on S3 (adapters/shared-state/s3-checkpoint-storage.ts) against a real
 * s3rver: the FileCheckpointStore cases that apply to objects (round trip, crash leftovers, any
 * corrupt byte refused naming the object, another format version refused, compaction equal with
 * commits running meanwhile, crashes inside compaction), and the lease that stands in for the LOCK
 * file (a live holder in another process refused, a dead one taken over, a silent remote holder taken
 * over after its ttl, a holder that lost its lease stops writing).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import type { S3Prefix } from '../../../adapters/s3/prefix.js';
import { S3CheckpointStorage } from '../../../adapters/shared-state/s3-checkpoint-storage.js';
import type { S3LeaseOptions } from '../../../adapters/shared-state/s3-lease.js';
import { type CheckpointStoreOptions, ManifestCheckpointStore } from '../../../core/checkpoint/manifest-store.js';
import { frameHeader, FrameKind } from '../../../core/checkpoint/frame.js';
import { decodeManifest } from '../../../core/checkpoint/manifest.js';
import type { CheckpointEntry } from '../../../core/contracts/checkpoint-store.js';
import { BUCKET, bytes, data, expectCode, type S3Fixture, startS3Fixture, stateOf } from './s3-support.js';

let s3: S3Fixture;
beforeAll(async () => {
  s3 = await startS3Fixture();
});
afterAll(async () => {
  await s3?.stop();
});

function store(dir: S3Prefix, opts: CheckpointStoreOptions = {}, lease: S3LeaseOptions = {}): ManifestCheckpointStore {
  return new ManifestCheckpointStore(new S3CheckpointStorage(dir, lease), opts);
}

/** Recovers with a fresh store and closes it (releasing its lease) whatever happens. */
async function recoverOnce(dir: S3Prefix) {
  const s = store(dir);
  try {
    return await s.recover();
  } finally {
    await s.close();
  }
}

describe('ManifestCheckpointStore on S3', () => {
  it('returns null on an empty prefix and round-trips deltas, deletions, positions and meta; close releases the lease', async () => {
    const dir = s3.fresh('roundtrip');
    const s = store(dir);
    expect(await s.recover()).toBeNull();
    expect(await dir.list()).toEqual(['LEASE']);
    await s.commit(data(1, [{ group: 'g', key: 'k1', value: bytes('one') }, { group: 'g', key: 'k2', value: bytes('two') }]));
    await s.commit(
      data(2, [{ group: 'g', key: 'k1', value: bytes('uno') }, { group: 'g', key: 'k2', value: null }, { group: 'h', key: 'ключ', value: new Uint8Array(0) }], {
        offlineFiles: [{ table: 't', staged: 's/1', final: 'f/1', rows: 3 }],
        meta: { layout: { g: 'h2' }, deadLetters: 17 },
      }),
    );
    await s.close();
    expect(await dir.list()).toEqual(['MANIFEST', 'delta-000000000001.fnck', 'delta-000000000002.fnck']);
    const r = await recoverOnce(dir);
    expect(r!.id).toBe(2);
    expect(r!.positions).toEqual({ tx: { '0': 20 } });
    expect(r!.meta).toEqual({ layout: { g: 'h2' }, deadLetters: 17 });
    expect(r!.offlineFiles).toEqual([{ table: 't', staged: 's/1', final: 'f/1', rows: 3 }]);
    expect(stateOf(r)).toEqual({ 'g/k1': Buffer.from('uno').toString('hex'), 'h/ключ': '' });
  });

  it('ignores an unpublished delta (crash between its PUT and the manifest) and removes it on recovery', async () => {
    const dir = s3.fresh('crash');
    const s = store(dir);
    await s.recover();
    await s.commit(data(1, [{ group: 'g', key: 'k', value: bytes('v1') }]));
    await s.close();
    const crashing = store(dir, {
      faultHook: (p) => {
        if (p === 'state-renamed') throw new Error('simulated crash');
      },
    });
    await crashing.recover();
    await expect(crashing.commit(data(2, [{ group: 'g', key: 'k', value: bytes('v2') }]))).rejects.toThrow('simulated crash');
    expect(await dir.list()).toContain('delta-000000000002.fnck');
    // The crashed writer is this process (its lease is this process's own): taken over at once.
    const fresh = store(dir);
    const r = await fresh.recover();
    expect(r!.id).toBe(1);
    expect(stateOf(r)).toEqual({ 'g/k': Buffer.from('v1').toString('hex') });
    expect(await dir.list()).toEqual(['LEASE', 'MANIFEST', 'delta-000000000001.fnck']);
    await fresh.commit(data(2, [{ group: 'g', key: 'k', value: bytes('v2') }]));
    await fresh.close();
    await crashing.close();
    expect(stateOf(await recoverOnce(dir))).toEqual({ 'g/k': Buffer.from('v2').toString('hex') });
  });

  it('refuses any single corrupt byte with CHECKPOINT_CORRUPT naming the object', async () => {
    const dir = s3.fresh('corrupt');
    const s = store(dir);
    await s.recover();
    await s.commit(data(1, [{ group: 'g', key: 'k', value: bytes('value-1') }]));
    await s.commit(data(2, [{ group: 'g', key: 'k2', value: bytes('value-2') }]));
    await s.close();
    const files = ['MANIFEST', 'delta-000000000001.fnck', 'delta-000000000002.fnck'];
    const originals = await Promise.all(files.map(async (f) => (await dir.get(f))!));
    const url = (f: string): string => `s3://${BUCKET}/${dir.prefix}/${f}`;
    await fc.assert(
      fc.asyncProperty(fc.nat(files.length - 1), fc.nat(), fc.integer({ min: 1, max: 255 }), async (fi, pos, xor) => {
        const orig = originals[fi]!;
        const at = pos % orig.byteLength;
        if (at === 4 || at === 5) return; // version bytes: the header checksum catches them (next test for a valid one)
        const bad = Buffer.from(orig);
        bad[at] = bad[at]! ^ xor;
        await dir.put(files[fi]!, bad);
        try {
          await expectCode(recoverOnce(dir), 'CHECKPOINT_CORRUPT', url(files[fi]!));
        } finally {
          await dir.put(files[fi]!, orig);
        }
      }),
      { numRuns: 40 },
    );
    expect(stateOf(await recoverOnce(dir))).toEqual({ 'g/k': Buffer.from('value-1').toString('hex'), 'g/k2': Buffer.from('value-2').toString('hex') });
    // Truncation and a missing object are corrupt too.
    await dir.put(files[1]!, originals[1]!.subarray(0, originals[1]!.byteLength - 3));
    await expectCode(recoverOnce(dir), 'CHECKPOINT_CORRUPT', url(files[1]!));
    await dir.delete(files[1]!);
    await expectCode(recoverOnce(dir), 'CHECKPOINT_CORRUPT', `${url(files[1]!)} named by the manifest is missing`);
  });

  it('refuses another format version with CHECKPOINT_VERSION naming the object', async () => {
    const dir = s3.fresh('version');
    const s = store(dir);
    await s.recover();
    await s.commit(data(1, [{ group: 'g', key: 'k', value: bytes('v') }]));
    await s.close();
    const buf = (await dir.get('delta-000000000001.fnck'))!;
    frameHeader(FrameKind.State, Number(buf.readBigUInt64LE(8)), 2).copy(buf, 0);
    await dir.put('delta-000000000001.fnck', buf);
    await expectCode(recoverOnce(dir), 'CHECKPOINT_VERSION', `s3://${BUCKET}/${dir.prefix}/delta-000000000001.fnck`);
  });

  it('compaction keeps the state equal and removes folded objects, also with commits running meanwhile', async () => {
    let compactions = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.tuple(fc.constantFrom('g', 'h'), fc.integer({ min: 0, max: 30 }), fc.option(fc.string(), { nil: null })), { maxLength: 20 }), {
          minLength: 1,
          maxLength: 12,
        }),
        async (checkpoints) => {
          const dir = s3.fresh('compact');
          const s = store(dir, { minCompactBytes: 0, maxDeltas: 3, yieldEvery: 2 });
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
          const r = await recoverOnce(dir);
          expect(r!.id).toBe(id);
          expect(r!.positions).toEqual({ tx: { '0': id * 10 } });
          expect(stateOf(r)).toEqual(Object.fromEntries([...oracle].sort()));
          // Exactly what the manifest names is left: one snapshot, the deltas committed after the fold.
          const m = decodeManifest((await dir.get('MANIFEST'))!, 'MANIFEST');
          expect(m.deltas.every((d) => d.id > m.snapshot!.id)).toBe(true);
          expect(await dir.list()).toEqual(['MANIFEST', ...m.deltas.map((d) => d.file), m.snapshot!.file].sort());
        },
      ),
      { numRuns: 8 },
    );
    expect(compactions).toBeGreaterThanOrEqual(8);
  });

  it.each(['compaction-snapshot-written', 'compaction-manifest-renamed'] as const)('a crash at %s leaves a loadable, equal state', async (point) => {
    const dir = s3.fresh('compact-crash');
    const crashing = store(dir, {
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
    const r = await recoverOnce(dir);
    expect(r!.id).toBe(2);
    expect(stateOf(r)).toEqual({ 'g/a': Buffer.from('a2').toString('hex') });
    await crashing.close();
  });
});

describe('the S3 checkpoint store lease (one writer per instance id)', () => {
  it('refuses a second writer while another live process holds the lease (STATE_LEASED) and takes a dead holder\'s over at once', async () => {
    const dir = s3.fresh('lease-live');
    const holder = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./s3-lease-holder.ts', import.meta.url)), s3.server.endpoint, BUCKET, dir.prefix], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    holder.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        holder.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('READY')) resolve();
        });
        holder.once('exit', (code) => reject(new Error(`lease holder exited (${code}) before READY: ${err}`)));
      });
      const e = await expectCode(store(dir).recover(), 'STATE_LEASED', `process ${holder.pid} on ${hostname()}, which is alive on this machine`);
      expect(e.message).toContain(`s3://${BUCKET}/${dir.prefix}/LEASE`);
      // A peer's read takes no lease.
      expect((await store(dir).peek())!.id).toBe(1);
    } finally {
      holder.kill('SIGKILL');
      await new Promise((r) => (holder.exitCode === null && holder.signalCode === null ? holder.once('exit', r) : r(null)));
    }
    const s = store(dir);
    const r = await s.recover();
    expect(stateOf(r)).toEqual({ 'g/child': Buffer.from('v').toString('hex') });
    expect(JSON.parse((await dir.get('LEASE'))!.toString()).pid).toBe(process.pid);
    await s.commit(data(2, [{ group: 'g', key: 'parent', value: bytes('w') }]));
    await s.close();
  }, 60_000);

  it('watches a lease from another machine: refused while it is renewed, taken over once it stops changing for the ttl', async () => {
    const dir = s3.fresh('lease-remote');
    let beats = 0;
    const renew = () => dir.put('LEASE', Buffer.from(JSON.stringify({ host: 'elsewhere', boot: 'other-boot', pid: 4242, token: 'remote', beats: ++beats, at: Date.now(), ttlMs: 600 })));
    await renew();
    const timer = setInterval(() => void renew(), 60);
    try {
      await expectCode(store(dir, {}, { ttlMs: 600, heartbeatMs: 100 }).recover(), 'STATE_LEASED', 'process 4242 on elsewhere, which is renewing it');
    } finally {
      clearInterval(timer);
    }
    await new Promise((r) => setTimeout(r, 100)); // a renewal in flight lands
    const started = Date.now();
    const s = store(dir, {}, { ttlMs: 600, heartbeatMs: 100 });
    expect(await s.recover()).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    expect(JSON.parse((await dir.get('LEASE'))!.toString()).token).not.toBe('remote');
    await s.close();
    expect(await dir.get('LEASE')).toBeNull();
  });

  it('a writer whose lease another process took over stops writing (STATE_LEASED) and leaves the new lease alone', async () => {
    const dir = s3.fresh('lease-lost');
    const s = store(dir, {}, { ttlMs: 300, heartbeatMs: 50 });
    await s.recover();
    await s.commit(data(1, [{ group: 'g', key: 'k', value: bytes('v1') }]));
    const theirs = JSON.stringify({ host: 'elsewhere', boot: 'x', pid: 4243, token: 'usurper', beats: 1, at: Date.now(), ttlMs: 300 });
    await dir.put('LEASE', Buffer.from(theirs));
    await new Promise((r) => setTimeout(r, 250)); // a few heartbeats
    await expectCode(s.commit(data(2, [{ group: 'g', key: 'k', value: bytes('v2') }])), 'STATE_LEASED', 'took the lease over');
    await s.close();
    expect((await dir.get('LEASE'))!.toString()).toBe(theirs);
    expect(await dir.list()).toEqual(['LEASE', 'MANIFEST', 'delta-000000000001.fnck']);
  });
});
