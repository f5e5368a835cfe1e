/**
 * The manifest checkpoint store on S3 (adapters/shared-state/s3-checkpoint-storage.ts) against a real
 * s3rver: the store's cases (store-cases.ts: round trip, crash leftovers, any corrupt byte refused
 * naming the object, another format version refused, compaction equal with commits running meanwhile,
 * crashes inside compaction), and the lease that stands in for the LOCK file (a live holder in another
 * process refused, a dead one taken over, a silent remote holder taken over after its ttl, a holder
 * that lost its lease stops writing).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { S3Prefix } from '../../../adapters/s3/prefix.js';
import { S3CheckpointStorage } from '../../../adapters/shared-state/s3-checkpoint-storage.js';
import type { S3LeaseOptions } from '../../../adapters/shared-state/s3-lease.js';
import { type CheckpointStoreOptions, ManifestCheckpointStore } from '../../../core/checkpoint/manifest-store.js';
import { decodeManifest } from '../../../core/checkpoint/manifest.js';
import { BUCKET, type S3Fixture, startS3Fixture } from './s3-support.js';
import { bytes, data, describeStoreCases, expectCode, stateOf } from './store-cases.js';

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

describeStoreCases({
  name: 'on S3 (s3rver)',
  guard: 'LEASE',
  runs: { corrupt: 40, compaction: 8 },
  async fresh(label) {
    const dir = s3.fresh(label);
    return {
      open: (opts = {}) => store(dir, opts),
      list: async () => (await dir.list()).sort(),
      get: async (name) => (await dir.get(name))!,
      put: (name, b) => dir.put(name, b),
      remove: (name) => dir.delete(name),
      where: (name) => `s3://${BUCKET}/${dir.prefix}/${name}`,
    };
  },
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
    const inFlight = new Set<Promise<void>>();
    const renew = (): Promise<void> => {
      const p = dir.put('LEASE', Buffer.from(JSON.stringify({ host: 'elsewhere', boot: 'other-boot', pid: 4242, token: 'remote', beats: ++beats, at: Date.now(), ttlMs: 600 })));
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p)).catch(() => undefined);
      return p;
    };
    await renew();
    const timer = setInterval(() => void renew().catch(() => undefined), 60);
    try {
      // The watcher refuses at the first change it sees (a renewal every 60 ms); its ttl only bounds how
      // long it watches, and is long so a stalled loaded machine cannot see no renewal land within it.
      await expectCode(store(dir, {}, { ttlMs: 20_000, heartbeatMs: 100 }).recover(), 'STATE_LEASED', 'process 4242 on elsewhere, which is renewing it');
    } finally {
      clearInterval(timer);
    }
    await Promise.all([...inFlight]); // every renewal sent has landed: the lease stops changing from here
    const started = Date.now();
    const s = store(dir, {}, { ttlMs: 600, heartbeatMs: 100 });
    expect(await s.recover()).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    expect(JSON.parse((await dir.get('LEASE'))!.toString()).token).not.toBe('remote');
    await s.close();
    expect(await dir.get('LEASE')).toBeNull();
  });

  it('a writer whose lease another process took over publishes no checkpoint (STATE_LEASED) and leaves the new lease alone', async () => {
    const dir = s3.fresh('lease-lost');
    // A heartbeat far away: the commit itself reads the lease back before publishing (deterministic).
    const s = store(dir, {}, { ttlMs: 180_000, heartbeatMs: 60_000 });
    await s.recover();
    await s.commit(data(1, [{ group: 'g', key: 'k', value: bytes('v1') }]));
    const theirs = JSON.stringify({ host: 'elsewhere', boot: 'x', pid: 4243, token: 'usurper', beats: 1, at: Date.now(), ttlMs: 300 });
    await dir.put('LEASE', Buffer.from(theirs));
    await expectCode(s.commit(data(2, [{ group: 'g', key: 'k', value: bytes('v2') }])), 'STATE_LEASED', 'took the lease over');
    // Lost for good: no further write, not even a delta.
    await expectCode(s.commit(data(3, [{ group: 'g', key: 'k', value: bytes('v3') }])), 'STATE_LEASED', 'took the lease over');
    await s.close();
    expect((await dir.get('LEASE'))!.toString()).toBe(theirs);
    // Checkpoint 2's delta was written before the manifest check and is unpublished: the new owner's recovery removes it.
    expect(decodeManifest((await dir.get('MANIFEST'))!, 'MANIFEST').id).toBe(1);
    expect(await dir.list()).toEqual(['LEASE', 'MANIFEST', 'delta-000000000001.fnck', 'delta-000000000002.fnck']);
  });
});
