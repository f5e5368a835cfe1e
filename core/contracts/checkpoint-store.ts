import type { PositionMap } from './position.js';
import type { StagedFile } from './offline-store.js';

/** One entity's encoded state in a checkpoint; `value: null` records a deletion. */
export interface CheckpointEntry {
  readonly group: string;
  readonly key: string;
  readonly value: Uint8Array | null;
}

/** What one checkpoint holds, atomically: dirty state + every split's position + offline files. */
export interface CheckpointData {
  /** Strictly increasing; 1 for the first checkpoint. */
  readonly id: number;
  readonly createdAt: number;
  readonly positions: PositionMap;
  /** Entries changed since the previous checkpoint (a delta) or all of them (a snapshot). */
  readonly entries: readonly CheckpointEntry[];
  readonly offlineFiles: readonly StagedFile[];
  /** Small engine-owned metadata (dedupe tables of push sources, producer sequences, layout hash). */
  readonly meta: Readonly<Record<string, unknown>>;
}

/** The state recovered from the last complete checkpoint. */
export interface RecoveredState {
  readonly id: number;
  readonly positions: PositionMap;
  /** Every live entity (deltas folded onto the snapshot); deletions already applied. */
  entries(): Iterable<CheckpointEntry>;
  readonly offlineFiles: readonly StagedFile[];
  readonly meta: Readonly<Record<string, unknown>>;
}

/**
 * Durable checkpoint storage.
 *
 * Atomicity: `commit` makes the whole checkpoint visible at once or not at all (write, fsync,
 * atomic rename / single transaction); a crash during `commit` leaves the previous checkpoint as
 * the last complete one. `recover` verifies format version and checksums of everything it reads
 * and throws `CHECKPOINT_CORRUPT` / `CHECKPOINT_VERSION` rather than return partial state.
 * Threading: the runtime never calls `commit` concurrently with itself.
 */
export interface CheckpointStore {
  recover(): Promise<RecoveredState | null>;
  commit(data: CheckpointData): Promise<void>;
  close(): Promise<void>;
}
