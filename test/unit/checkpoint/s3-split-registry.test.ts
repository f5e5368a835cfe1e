/**
 * The S3 split registry (adapters/shared-state/s3-split-registry.ts) against a real s3rver: claims
 * are ordered by epoch and replaced whole; this instance's checkpoint store lives where peers find it;
 * a peer's checkpoint is read without its lease and survives the peer compacting meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3SplitRegistry, type S3SplitRegistryOptions } from '../../../adapters/shared-state/s3-split-registry.js';
import { openSplitRegistry } from '../../../adapters/shared-state/index.js';
import { DirectorySplitRegistry } from '../../../core/checkpoint/split-registry.js';
import type { ManifestCheckpointStore } from '../../../core/checkpoint/manifest-store.js';
import { BUCKET, type S3Fixture, startS3Fixture } from './s3-support.js';

let s3: S3Fixture;
beforeAll(async () => {
  s3 = await startS3Fixture();
});
afterAll(async () => {
  await s3?.stop();
});

function registry(prefix: string, instance: string, opts: Partial<S3SplitRegistryOptions> = {}): S3SplitRegistry {
  return new S3SplitRegistry({ url: `s3://${BUCKET}/${prefix}/`, instance, client: s3.client, ownsClient: false, ...opts });
}

describe('S3SplitRegistry', () => {
  it('records claims in epoch order, refuses a stale epoch, and treats re-claiming the same epoch as a no-op', async () => {
    const root = s3.fresh('claims');
    const a = registry(root.prefix, 'a');
    const b = registry(root.prefix, 'b');
    expect(await a.latestClaim('tx', '3')).toBeNull();
    await a.claim('tx', '3', 1);
    await a.claim('tx', '3', 1); // idempotent
    expect(await b.latestClaim('tx', '3')).toMatchObject({ epoch: 1, instance: 'a' });
    await b.claim('tx', '3', 2);
    expect(await a.latestClaim('tx', '3')).toMatchObject({ epoch: 2, instance: 'b' });
    await expect(a.claim('tx', '3', 2)).rejects.toMatchObject({ code: 'SPLIT_HANDOFF_FAILED', message: expect.stringMatching(/instance "b" already claimed epoch 2/) });
    await expect(a.claim('tx', '3', 1)).rejects.toMatchObject({ code: 'SPLIT_HANDOFF_FAILED' });
    expect(await a.latestClaim('tx', '4')).toBeNull();
    // One object per split, replaced whole, holding every claim newest last.
    expect(await root.child('splits/tx').list()).toEqual(['3.json']);
    const body = JSON.parse((await root.get('splits/tx/3.json'))!.toString('utf8')) as { claims: Array<{ epoch: number; instance: string }> };
    expect(body.claims.map((c) => [c.epoch, c.instance])).toEqual([[1, 'a'], [2, 'b']]);
  });

  it('refuses an instance id that is not a safe key segment, naming state.instanceId', () => {
    expect(() => registry('x', '../evil')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', path: 'state.instanceId' }));
  });

  it('reports a damaged claim object as CHECKPOINT_CORRUPT with its s3:// URL', async () => {
    const root = s3.fresh('damaged');
    const a = registry(root.prefix, 'a');
    await a.claim('tx', '0', 1);
    await root.put('splits/tx/0.json', Buffer.from('{"claims": '));
    await expect(a.latestClaim('tx', '0')).rejects.toMatchObject({ code: 'CHECKPOINT_CORRUPT', path: `s3://${BUCKET}/${root.prefix}/splits/tx/0.json` });
  });

  it("keeps each instance's checkpoints under instances/<id>/checkpoints and reads a peer's last checkpoint without its lease, while the peer keeps committing and compacting", async () => {
    const root = s3.fresh('peek');
    // Small deltas, compacted every 3: the peer's reads race compactions that remove the files they name.
    const a = registry(root.prefix, 'a', { checkpoints: { minCompactBytes: 0, maxDeltas: 3 } });
    const b = registry(root.prefix, 'b');
    expect(a.checkpointLocation('a')).toBe(`s3://${BUCKET}/${root.prefix}/instances/a/checkpoints`);
    expect(await b.readCheckpoint('a')).toBeNull();
    const store = a.openCheckpointStore() as ManifestCheckpointStore;
    await store.recover(); // takes the lease: reading must not need it
    expect(await root.child('instances/a/checkpoints').list()).toEqual(['LEASE']);
    const value = (n: number) => new TextEncoder().encode(`v${n}`);
    for (let id = 1; id <= 40; id++) {
      await store.commit({
        id,
        createdAt: id,
        positions: { tx: { '0': id } },
        entries: [{ group: 'g', key: `k${id % 7}`, value: value(id) }],
        offlineFiles: [],
        meta: { splitEpochs: { tx: { '0': 1 } } },
      });
      const seen = await b.readCheckpoint('a');
      expect(seen?.id).toBe(id);
      expect(seen?.positions).toEqual({ tx: { '0': id } });
      const got = new Map([...seen!.entries()].map((e) => [e.key, new TextDecoder().decode(e.value!)]));
      expect(got.get(`k${id % 7}`)).toBe(`v${id}`);
    }
    await store.close();
    expect(store.stats().compactions).toBeGreaterThan(0);
  });

  it('is what state.shared picks: s3:// gives the S3 registry (connected by state.s3), a directory the directory one', async () => {
    const root = s3.fresh('pick');
    const { endpoint, region, accessKeyId, secretAccessKey } = s3.server.s3;
    const picked = openSplitRegistry({
      dir: '/unused',
      checkpointInterval: 1000,
      flushInterval: 100,
      shared: `s3://${BUCKET}/${root.prefix}/`,
      instanceId: 'p',
      s3: { endpoint, region, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } },
    })!;
    expect(picked).toBeInstanceOf(S3SplitRegistry);
    await picked.claim('tx', '1', 1);
    expect(await registry(root.prefix, 'q').latestClaim('tx', '1')).toMatchObject({ epoch: 1, instance: 'p' });
    await picked.close!();
    expect(openSplitRegistry({ dir: '/unused', checkpointInterval: 1000, flushInterval: 100, shared: '/tmp/x', instanceId: 'p' })).toBeInstanceOf(DirectorySplitRegistry);
    expect(openSplitRegistry({ dir: '/unused', checkpointInterval: 1000, flushInterval: 100, instanceId: 'p' })).toBeUndefined();
  });
});
