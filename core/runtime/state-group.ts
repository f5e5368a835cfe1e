import type { AggregatedGroupSpec, SourceSpec } from '../model.js';

/** One entity's finalized aggregates as of a time (what core/window's `read` returns). */
export interface GroupRead {
  readonly found: boolean;
  readonly version: number;
  readonly values: Readonly<Record<string, number | string | null>>;
}

export type GroupApplyOutcome = { ok: true; version: number } | { ok: false; code: 'EVENT_LATE'; reason: string };

/**
 * The per-entity state of one feature group as the runtime drives it: read, checkpoint
 * (dirty keys + encode), recover (restore). core/window's AggregatedGroupState satisfies it; the
 * daemon's stored groups plug in through `EngineDeps.extraGroups`.
 * Threading: called only from the engine's event loop, never concurrently.
 */
export interface StateGroup {
  readonly name: string;
  /** Hash of the feature layout the encoded bytes follow; checked against the checkpoint on recovery. */
  readonly layoutHash: string;
  read(key: string, asOf: number): GroupRead;
  /**
   * Optional: `read`'s values written into `out` in the order of the group's features (spec order),
   * without an object per read; returns `found` (a stored group may write booleans too). Batch reads
   * (FeatureReader.readRows) use it.
   */
  readInto?(key: string, asOf: number, out: Array<number | string | null>): boolean;
  has(key: string): boolean;
  readonly size: number;
  keys(): IterableIterator<string>;
  /** Keys changed since the previous call (each once). */
  drainDirty(): string[];
  /** The key's state bytes, or null when the key has no state (a deletion in the checkpoint). */
  encode(key: string): Uint8Array | null;
  /** Replaces a key's state by checkpointed bytes (throws CHECKPOINT_CORRUPT when they do not decode). */
  restore(key: string, bytes: Uint8Array): void;
  /** Forgets a key (marks it dirty, so the next checkpoint records the deletion); used when a split moves away. */
  delete?(key: string): void;
  /** The version the key's encoded state carries (tombstones included); default: `read(key, now).version`. */
  version?(key: string): number;
}

/** A group the engine feeds with a source's events. */
export interface AggregatingGroup extends StateGroup {
  apply(key: string, ts: number, event: Readonly<Record<string, unknown>>): GroupApplyOutcome;
}

export type GroupFactory = (spec: AggregatedGroupSpec, source: SourceSpec) => AggregatingGroup;
