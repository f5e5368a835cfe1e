import { join } from 'node:path';
import type { CheckpointStore, RecoveredState } from '../contracts/checkpoint-store.js';
import type { CheckpointStorage } from '../contracts/checkpoint-storage.js';
import type { Logger } from '../contracts/logger.js';
import type { SplitClaim, SplitRegistry } from '../contracts/split-registry.js';
import { DirectoryCheckpointStorage } from './directory-storage.js';
import { type CheckpointStoreOptions, ManifestCheckpointStore } from './manifest-store.js';
import { nextClaims, parseClaims, validInstanceId } from './split-claims.js';

/** The place every instance of a deployment shares (`state.shared`), as storages under relative paths. */
export interface SharedStateRoot {
  /**
   * The storage at `path` below the root (`splits/<source>`, `instances/<id>/checkpoints`). `logger`
   * is given for this instance's own checkpoint storage (e.g. the S3 lease logs through it).
   */
  storage(path: string, opts?: { readonly logger?: Logger }): CheckpointStorage;
  /** Releases what the root holds (an S3 client); optional. */
  close?(): Promise<void>;
}

/**
 * A `SplitRegistry` over a shared root of `CheckpointStorage`s — a directory (`DirectorySplitRegistry`)
 * or an S3 prefix (adapters/shared-state) — laid out as:
 *
 * ```
 * <root>/instances/<instance>/checkpoints/   each instance's checkpoint store (ManifestCheckpointStore)
 * <root>/splits/<source>/<split>.json        { "claims": [{ epoch, instance, at }, ...] } newest last
 * ```
 *
 * A claim list is replaced whole by the storage's atomic write (a reader sees the old or the new list),
 * durable and visible to every reader when it resolves (the storage contract). Claims of one split never
 * race — the consumer group hands a split to one member at a time — so the read-modify-write needs no
 * conditional write; a zombie member is not fenced. Peers' checkpoints are read with
 * `ManifestCheckpointStore.peek`: no writer guard, nothing deleted, retried across compactions.
 */
export class StorageSplitRegistry implements SplitRegistry {
  constructor(
    private readonly root: SharedStateRoot,
    readonly instance: string,
    /** Compaction tuning of this instance's checkpoint store (default: the store's defaults). */
    private readonly tuning: Omit<CheckpointStoreOptions, 'logger' | 'faultHook'> = {},
  ) {
    validInstanceId(instance);
  }

  private checkpoints(instance: string, opts?: { readonly logger?: Logger }): CheckpointStorage {
    return this.root.storage(`instances/${instance}/checkpoints`, opts);
  }

  checkpointLocation(instance: string): string {
    return this.checkpoints(instance).location;
  }

  openCheckpointStore(options: { readonly logger?: Logger } = {}): CheckpointStore {
    return new ManifestCheckpointStore(this.checkpoints(this.instance, options), { ...this.tuning, ...(options.logger ? { logger: options.logger } : {}) });
  }

  private async claims(source: string, split: string): Promise<{ list: SplitClaim[]; storage: CheckpointStorage; name: string }> {
    const storage = this.root.storage(`splits/${source}`);
    const name = `${encodeURIComponent(split)}.json`;
    const buf = await storage.read(name);
    return { list: buf === null ? [] : parseClaims(buf.toString('utf8'), storage.describe(name)), storage, name };
  }

  async latestClaim(source: string, split: string): Promise<SplitClaim | null> {
    return (await this.claims(source, split)).list.at(-1) ?? null;
  }

  async claim(source: string, split: string, epoch: number): Promise<void> {
    const { list, storage, name } = await this.claims(source, split);
    const next = nextClaims(list, source, split, epoch, this.instance);
    if (next !== null) await storage.writeAtomic(name, [Buffer.from(JSON.stringify({ claims: next }), 'utf8')]);
  }

  readCheckpoint(instance: string): Promise<RecoveredState | null> {
    return new ManifestCheckpointStore(this.checkpoints(instance)).peek();
  }

  async close(): Promise<void> {
    await this.root.close?.();
  }
}

/**
 * The split registry in a directory every instance can read and write (one host, or a shared
 * filesystem): claim files are replaced atomically (temp file, fsync, rename, fsync dir), checkpoint
 * stores are `FileCheckpointStore`s (each with its LOCK file).
 */
export class DirectorySplitRegistry extends StorageSplitRegistry {
  constructor(root: string, instance: string, tuning: Omit<CheckpointStoreOptions, 'logger' | 'faultHook'> = {}) {
    super({ storage: (path) => new DirectoryCheckpointStorage(join(root, path)) }, instance, tuning);
  }
}
