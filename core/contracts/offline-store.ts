import type { Logger } from './logger.js';

/** A column of an offline table. `timestamp` columns hold epoch milliseconds. */
export interface OfflineColumn {
  readonly name: string;
  readonly type: 'string' | 'double' | 'long' | 'int' | 'boolean' | 'timestamp';
}

/**
 * Rows bound for one table: per feature group, `feature/<group>` (entity key, event time, feature
 * values, write time); per source, `raw/<source>` (the raw events, the replayable history).
 */
export interface OfflineBatch {
  readonly table: string;
  readonly columns: readonly OfflineColumn[];
  /** Column-major values, one array per column, equal lengths. */
  readonly data: ReadonlyArray<ReadonlyArray<unknown>>;
  /** Name of the event-time column (used for Hive-style `date=`/`hour=` partitions). */
  readonly timeColumn: string;
}

/** A file written but not yet visible. */
export interface StagedFile {
  readonly table: string;
  /** Store-relative path of the staged object. */
  readonly staged: string;
  /** Store-relative path it gets when committed (deterministic: derived from checkpoint id + sequence). */
  readonly final: string;
  readonly rows: number;
}

/**
 * An offline (history) store adapter.
 *
 * Exactly-once: the runtime stages a checkpoint's rows with `stage`, writes the returned
 * `StagedFile`s into the checkpoint, and only after the checkpoint is durable calls `commit`.
 * Readers (DuckDB, Spark, Athena, training sets) see only committed files. `commit` is idempotent
 * (committing an already committed file is a no-op) so the runtime re-commits the files listed in
 * the last checkpoint on recovery, then calls `recover` to delete every staged file that no
 * checkpoint lists (orphans of a crash between stage and checkpoint).
 *
 * Threading: calls are serialized by the runtime; `stage` may run while readers list committed files.
 */
export interface OfflineStore {
  open(): Promise<void>;
  /** Write rows to a staged (invisible) file; `checkpointId` + `seq` make its final name deterministic. */
  stage(batch: OfflineBatch, checkpointId: number, seq: number): Promise<StagedFile>;
  /** Make staged files visible. Idempotent. */
  commit(files: readonly StagedFile[]): Promise<void>;
  /** Remove staged files not in `keep` (called on recovery after re-committing the last checkpoint's files). */
  recover(keep: readonly StagedFile[]): Promise<void>;
  /** Committed file paths (store-relative or URLs) of a table, for replay readers. */
  list(table: string): Promise<readonly string[]>;
  close(): Promise<void>;
}

export interface OfflineStoreContext {
  readonly logger: Logger;
}
