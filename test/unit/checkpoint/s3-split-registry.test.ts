/**
 * The S3 split registry (adapters/shared-state/s3-split-registry.ts) against a real s3rver: the
 * registry's cases (registry-cases.ts) on an S3 prefix, and `openSplitRegistry`'s pick from state.shared.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3SplitRegistry, type S3SplitRegistryOptions } from '../../../adapters/shared-state/s3-split-registry.js';
import { openSplitRegistry } from '../../../adapters/shared-state/index.js';
import { DirectorySplitRegistry } from '../../../core/checkpoint/split-registry.js';
import { describeRegistryCases } from './registry-cases.js';
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

describeRegistryCases({
  name: 'on S3 (s3rver)',
  guard: 'LEASE',
  async fresh(label) {
    const root = s3.fresh(label);
    return {
      registry: (instance, tuning = {}) => registry(root.prefix, instance, { checkpoints: tuning }),
      list: (path) => root.child(path).list(),
      read: async (path) => (await root.get(path))!,
      write: (path, bytes) => root.put(path, bytes),
      where: (path) => `s3://${BUCKET}/${root.prefix}/${path}`,
    };
  },
});

describe('openSplitRegistry', () => {
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
