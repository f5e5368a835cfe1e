import type { CheckpointStore, RecoveredState } from './checkpoint-store.js';
import type { Logger } from './logger.js';

/** One instance's claim on a split: from `epoch` on, `instance` owns the split's state. */
export interface SplitClaim {
  /** Strictly increasing per split: each new owner claims the previous epoch + 1. */
  readonly epoch: number;
  /** The claiming instance's id (`state.instanceId`). */
  readonly instance: string;
  /** Wall-clock time of the claim (ms), for operators. */
  readonly at: number;
}

/**
 * What instances of one deployment share so that a split (a Kafka partition) moves between them
 * *with its state*: who owns each split since which epoch, and read access to every instance's last
 * complete checkpoint (Kafka Streams keeps task state in changelog topics; Fenestra hands it over
 * through the previous owner's checkpoint, which already holds that split's entities, position,
 * and — atomically with them — the offline rows and dead letters of its events).
 *
 * Protocol (the engine's side, core/runtime/split-ownership.ts):
 * 1. A new owner reads the split's latest claim `(e, j)`, loads the split's entities and position
 *    from instance `j`'s last checkpoint (which must record the split at epoch `e`), makes them
 *    durable in its own checkpoint at epoch `e + 1`, and only then calls `claim(…, e + 1)`.
 * 2. An instance that gave a split up keeps the split's state (in memory and in its checkpoints)
 *    until it sees a newer claim; only then does it drop it. So the checkpoint a new owner reads
 *    never loses the split underneath it, even if the previous owner crashed and restarted.
 *
 * Ordering and threading: the consumer group assigns a split to one member at a time, so claims of
 * one split never race (a member evicted from the group without noticing — a zombie — is not fenced;
 * see docs/STREAMS.md). `claim` is atomic (a reader sees the old or the new claim list, never a
 * torn one) and durable when it resolves. Idempotency: claiming the current epoch again is a no-op.
 * `readCheckpoint` never takes locks and never modifies the other instance's files.
 *
 * Implementations: `DirectorySplitRegistry` (core/checkpoint/split-registry.ts: a directory shared by
 * the instances of one host or a shared filesystem) and `S3SplitRegistry`
 * (adapters/shared-state/s3-split-registry.ts: an S3 prefix, for instances on several hosts).
 */
export interface SplitRegistry {
  /** This instance's id, the `instance` of its claims. */
  readonly instance: string;
  /** The newest claim of a source's split, or null when the split was never claimed. */
  latestClaim(source: string, split: string): Promise<SplitClaim | null>;
  /** Records that this instance owns the split from `epoch` on; refuses an epoch not above the latest. */
  claim(source: string, split: string, epoch: number): Promise<void>;
  /** Another instance's last complete checkpoint (read-only), or null when it has none. */
  readCheckpoint(instance: string): Promise<RecoveredState | null>;
  /** Where an instance's checkpoint store lives (a directory, an `s3://` URL), for messages. */
  checkpointLocation(instance: string): string;
  /**
   * This instance's own checkpoint store, where `readCheckpoint(instance)` finds it: the engine must
   * commit to this one. Each call makes a new store object (open one per process).
   */
  openCheckpointStore(options?: { readonly logger?: Logger }): CheckpointStore;
  /** Releases connections (an S3 client); call after the engine stopped. Idempotent. */
  close?(): Promise<void>;
}
