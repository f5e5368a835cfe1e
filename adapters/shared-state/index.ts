import { validInstanceId } from '../../core/checkpoint/split-claims.js';
import { DirectorySplitRegistry } from '../../core/checkpoint/split-registry.js';
import type { SplitRegistry } from '../../core/contracts/split-registry.js';
import type { EngineSpec } from '../../core/model.js';
import { makeS3Client } from '../s3/client.js';
import { S3SplitRegistry } from './s3-split-registry.js';

export { S3CheckpointStorage } from './s3-checkpoint-storage.js';
export { S3Lease, LEASE_NAME, type S3LeaseOptions } from './s3-lease.js';
export { S3SplitRegistry, type S3SplitRegistryOptions } from './s3-split-registry.js';

/**
 * The split registry `state.shared` names: `DirectorySplitRegistry` for a directory, `S3SplitRegistry`
 * (with a client made from `state.s3`) for an `s3://` URL; undefined without `state.shared`. The
 * caller takes this instance's checkpoint store from it (`openCheckpointStore`) and calls `close`
 * after the engine stopped. Local state (dead letters, write-ahead logs) stays in `state.dir` either way.
 */
export function openSplitRegistry(state: EngineSpec['state']): SplitRegistry | undefined {
  if (!state.shared) return undefined;
  if (!state.shared.startsWith('s3://')) return new DirectorySplitRegistry(state.shared, state.instanceId);
  validInstanceId(state.instanceId);
  const s3 = state.s3 ?? {};
  const client = makeS3Client({
    ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
    ...(s3.region ? { region: s3.region } : {}),
    ...(s3.forcePathStyle !== undefined ? { forcePathStyle: s3.forcePathStyle } : {}),
    ...(s3.credentials ? { accessKeyId: s3.credentials.accessKeyId, secretAccessKey: s3.credentials.secretAccessKey } : {}),
  });
  return new S3SplitRegistry({ url: state.shared, instance: state.instanceId, client });
}
