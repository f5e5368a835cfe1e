import type { S3Client } from '@aws-sdk/client-s3';
import type { CheckpointStoreOptions } from '../../core/checkpoint/manifest-store.js';
import { StorageSplitRegistry } from '../../core/checkpoint/split-registry.js';
import { parseS3Url } from '../s3/client.js';
import { S3Prefix } from '../s3/prefix.js';
import { S3CheckpointStorage } from './s3-checkpoint-storage.js';
import type { S3LeaseOptions } from './s3-lease.js';

export interface S3SplitRegistryOptions {
  /** `s3://bucket/prefix/` shared by the instances of one deployment (`state.shared`). */
  readonly url: string;
  /** This instance's id (`state.instanceId`). */
  readonly instance: string;
  readonly client: S3Client;
  /** Destroy `client` on `close` (default true: the registry was given a client of its own). */
  readonly ownsClient?: boolean;
  /** The checkpoint store's lease timing (tests shorten it). */
  readonly lease?: S3LeaseOptions;
  /** Compaction tuning of this instance's checkpoint store (default: the store's defaults). */
  readonly checkpoints?: Omit<CheckpointStoreOptions, 'logger' | 'faultHook'>;
}

/**
 * The split registry (core/checkpoint/split-registry.ts, `StorageSplitRegistry`) under an S3 prefix,
 * for instances on several hosts: claims and checkpoint files are objects (`S3CheckpointStorage`: one
 * PUT each, atomic and, once answered, visible to every reader by S3's read-after-write consistency),
 * and this instance's checkpoint store holds a `LEASE` in place of the directory's LOCK file.
 */
export class S3SplitRegistry extends StorageSplitRegistry {
  constructor(opts: S3SplitRegistryOptions) {
    const { bucket, prefix } = parseS3Url(opts.url);
    const root = new S3Prefix(opts.client, bucket, prefix);
    let closed = false;
    super(
      {
        storage: (path, o = {}) => new S3CheckpointStorage(root.child(path), { ...opts.lease, ...(o.logger ? { logger: o.logger } : {}) }),
        close: async () => {
          if (closed) return;
          closed = true;
          if (opts.ownsClient !== false) opts.client.destroy();
        },
      },
      opts.instance,
      opts.checkpoints,
    );
  }
}
