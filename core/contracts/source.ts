import type { Position, SplitState } from './position.js';
import type { SourceSpec } from '../model.js';
import type { Logger } from './logger.js';

/**
 * One record read from a split. `position` is the position *after* this record: restoring the
 * split at it resumes with the next record (Kafka's "committed offset = last processed + 1").
 */
export interface SourceRecord {
  readonly split: string;
  readonly position: Position;
  /** The decoded payload (a JSON object for JSON formats) or raw bytes the engine decodes. */
  readonly value: unknown;
  /** Where the record came from, for dead letters (`partition 3 offset 1200`). */
  readonly origin?: string;
  /** When the record was produced or accepted (ms), for freshness metrics; optional. */
  readonly producedAt?: number;
}

/** What the runtime hands a source when it opens it. */
export interface SourceContext {
  readonly spec: SourceSpec;
  /**
   * Splits restored from the last checkpoint. The source must resume each split it owns from
   * exactly this position; splits absent here start from the source's configured start.
   */
  readonly restored: readonly SplitState[];
  readonly logger: Logger;
  /** Directory the source may use for its own durable files (e.g. the HTTP source's log). */
  readonly dataDir: string;
  /**
   * Rebalance hooks (Kafka consumer groups). The runtime checkpoints the splits in `revoked`
   * before the promise resolves, and restores state + positions for `assigned` from the shared
   * checkpoint store; the source must not deliver records of an assigned split before
   * `onAssigned` resolves, nor any record of a revoked split after calling `onRevoked`.
   */
  readonly onRevoked: (splits: readonly string[]) => Promise<void>;
  readonly onAssigned: (splits: readonly string[]) => Promise<readonly SplitState[]>;
}

/**
 * A source adapter (FLIP-27 style: the split *is* the checkpoint; Kafka Connect style: the
 * runtime, not the plugin, owns positions).
 *
 * Ordering: records of one split are returned in split order; records of different splits may
 * interleave arbitrarily. Idempotency: the source never decides what is committed — the runtime
 * records `position` of the last applied record per split in its checkpoint and, on recovery,
 * passes it back through `SourceContext.restored`. Replaying from a restored position must yield
 * the same records in the same order (replayable sources), which is what `exactlyOnce: true`
 * declares. Threading: the runtime calls `poll` from one loop, never concurrently with itself,
 * `checkpointed` or `close`; a source may buffer in the background but must not call back into the
 * runtime except through the `SourceContext` hooks.
 */
export interface Source {
  /**
   * True when an external coordinator (a Kafka consumer group) decides which splits this instance
   * reads, through `SourceContext.onAssigned` / `onRevoked`. With a shared state directory
   * (`state.shared`) the runtime then moves such splits between instances *with their state*
   * (core/runtime/split-ownership.ts) and opens the source with no `restored` splits: every
   * position comes from `onAssigned`.
   */
  readonly assignsSplits?: boolean;
  /** Open connections and seek every owned split to its restored position. */
  open(ctx: SourceContext): Promise<void>;
  /**
   * Return up to `max` records that are available now, waiting at most `waitMs` for the first one.
   * An empty array means "nothing now"; it is not end of stream unless `finished()` is true.
   */
  poll(max: number, waitMs: number): Promise<readonly SourceRecord[]>;
  /** True when a bounded source (a file) has delivered every record. Unbounded sources: always false. */
  finished(): boolean;
  /**
   * Called after a checkpoint holding `positions` (this source's splits) is durable. Sources may
   * commit them upstream for lag monitoring (Kafka consumer-group commit) or truncate their own
   * log. Must be idempotent. Never the source of truth.
   */
  checkpointed?(positions: Readonly<Record<string, Position>>): Promise<void>;
  /** How far behind the head each split is, in records, where known (for `/metrics` and `/readyz`). */
  lag?(): Readonly<Record<string, number>>;
  close(): Promise<void>;
}

/** What a source plugin declares about itself (checked before start). */
export interface SourceCapabilities {
  /** Replays from a restored position yield the same records: exactly-once effect is possible. */
  readonly exactlyOnce: boolean;
  /** Events are pushed by clients through the daemon (HTTP, WebSocket) rather than pulled. */
  readonly push?: boolean;
}
