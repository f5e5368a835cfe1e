import type { S3Client } from '@aws-sdk/client-s3';
import { type CheckpointStoreOptions, ManifestCheckpointStore } from '../../core/checkpoint/manifest-store.js';
import { nextClaims, parseClaims, validInstanceId } from '../../core/checkpoint/split-claims.js';
import type { CheckpointStore, RecoveredState } from '../../core/contracts/checkpoint-store.js';
import type { Logger } from '../../core/contracts/logger.js';
import type { SplitClaim, SplitRegistry } from '../../core/contracts/split-registry.js';
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
 * A `SplitRegistry` under an S3 prefix, for instances on several hosts:
 *
 * ```
 * <prefix>/instances/<instance>/checkpoints/   each instance's checkpoint store (MANIFEST, snapshot-*, delta-*, LEASE)
 * <prefix>/splits/<source>/<split>.json        { "claims": [{ epoch, instance, at }, ...] } newest last
 * ```
 *
 * A claim object is replaced whole by one PUT (atomic: a reader sees the old or the new list), and
 * is durable and visible to every reader once the PUT returns (S3's read-after-write consistency),
 * which is what the protocol's "checkpoint durable before the claim" needs. Claims of one split never
 * race (the consumer group assigns a split to one member at a time), so the read-modify-write needs no
 * conditional PUT; a zombie member is not fenced (as with the directory registry). Peers' checkpoints
 * are read with `ManifestCheckpointStore.peek` over S3: no lease, nothing deleted, retried when a
 * compaction removed a file the manifest named.
 */
export class S3SplitRegistry implements SplitRegistry {
  readonly instance: string;
  private readonly root: S3Prefix;
  private closed = false;

  constructor(private readonly opts: S3SplitRegistryOptions) {
    validInstanceId(opts.instance);
    this.instance = opts.instance;
    const { bucket, prefix } = parseS3Url(opts.url);
    this.root = new S3Prefix(opts.client, bucket, prefix);
  }

  private checkpoints(instance: string): S3Prefix {
    return this.root.child(`instances/${instance}/checkpoints`);
  }

  checkpointLocation(instance: string): string {
    return this.checkpoints(instance).url();
  }

  openCheckpointStore(options: { readonly logger?: Logger } = {}): CheckpointStore {
    const lease = { ...this.opts.lease, ...(options.logger ? { logger: options.logger } : {}) };
    const tuning = { ...this.opts.checkpoints, ...(options.logger ? { logger: options.logger } : {}) };
    return new ManifestCheckpointStore(new S3CheckpointStorage(this.checkpoints(this.instance), lease), tuning);
  }

  private claimName(source: string, split: string): string {
    return `splits/${source}/${encodeURIComponent(split)}.json`;
  }

  private async claims(source: string, split: string): Promise<SplitClaim[]> {
    const name = this.claimName(source, split);
    const buf = await this.root.get(name);
    return buf === null ? [] : parseClaims(buf.toString('utf8'), this.root.url(name));
  }

  async latestClaim(source: string, split: string): Promise<SplitClaim | null> {
    return (await this.claims(source, split)).at(-1) ?? null;
  }

  async claim(source: string, split: string, epoch: number): Promise<void> {
    const next = nextClaims(await this.claims(source, split), source, split, epoch, this.instance);
    if (next === null) return;
    await this.root.put(this.claimName(source, split), Buffer.from(JSON.stringify({ claims: next }), 'utf8'));
  }

  async readCheckpoint(instance: string): Promise<RecoveredState | null> {
    return new ManifestCheckpointStore(new S3CheckpointStorage(this.checkpoints(instance))).peek();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.opts.ownsClient !== false) this.opts.client.destroy();
  }
}
