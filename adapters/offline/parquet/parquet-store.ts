/**
 * The `parquet` offline store: Parquet files under a local directory or an S3 prefix.
 *
 * Layout: `<table>/date=YYYY-MM-DD/hour=HH/part-<checkpointId>-<seq>.parquet` for committed files
 * (`feature/<group>`, `raw/<source>`), and the same path under `_staging/` while staged. Readers
 * (DuckDB `read_parquet('<root>/raw/tx/*\/*\/*.parquet', hive_partitioning=true)`, Spark, Athena,
 * training sets) never look under `_staging/`, so a staged file is invisible until committed.
 *
 * Several instances (`state.shared`) write one store side by side: each one's names carry its id
 * (`part-<writer>-…`, staged under `_staging/<writer>/`), so neither collides nor cleans the other's.
 *
 * Exactly-once: names are deterministic (checkpoint id + sequence), `commit` moves staged → final
 * (a rename locally; copy + delete on S3) and is a no-op for a file already moved; `recover`
 * deletes every staged object the last checkpoint does not list. Calls are serialized by the
 * runtime (see the `OfflineStore` contract); `list` may run concurrently with `stage`.
 */
import type { OfflineBatch, OfflineStore, StagedFile } from '../../../core/contracts/offline-store.js';
import type { Logger } from '../../../core/contracts/logger.js';
import { BlobNotFound, type BlobStore } from './blob-store.js';
import { MemorySink, ParquetStreamWriter } from './parquet-writer.js';
import { finalPath, partitionOf, splitByPartition, stagedPath, stagingPrefix } from '../../../core/offline/partition.js';

export interface ParquetStoreOptions {
  /** Snappy page compression (default true). */
  readonly compressed?: boolean;
  readonly rowGroupSize?: number;
  /**
   * The writing instance's id when several instances share the store (`PluginContext.writerId`):
   * names become `part-<writer>-<checkpointId>-<seq>.parquet`, staged files live under
   * `_staging/<writer>/`, and `recover` cleans only those.
   */
  readonly writer?: string;
}

export class ParquetOfflineStore implements OfflineStore {
  constructor(
    readonly blobs: BlobStore,
    private readonly logger: Logger | undefined,
    private readonly opts: ParquetStoreOptions = {},
  ) {}

  async open(): Promise<void> {}

  /**
   * Writes `batch` as one staged Parquet file. All rows must fall into one hour partition
   * (`splitByPartition`, or `stageAll` which splits for you); a batch spanning hours is refused.
   */
  async stage(batch: OfflineBatch, checkpointId: number, seq: number): Promise<StagedFile> {
    const parts = splitByPartition(batch);
    if (parts.length !== 1) {
      throw new Error(`offline batch for "${batch.table}" spans ${parts.length} hour partitions; split it (stageAll)`);
    }
    const final = finalPath(batch.table, parts[0]!.partition, checkpointId, seq, this.opts.writer);
    const staged = stagedPath(final, this.opts.writer);
    await this.blobs.put(staged, encodeBatch(batch, this.opts));
    const rows = batch.data[0]?.length ?? 0;
    return { table: batch.table, staged, final, rows };
  }

  /** Stages a batch of any time span: one file per hour partition, sequence numbers from `seq` on. */
  async stageAll(batch: OfflineBatch, checkpointId: number, seq: number): Promise<StagedFile[]> {
    const out: StagedFile[] = [];
    for (const part of splitByPartition(batch)) out.push(await this.stage(part.batch, checkpointId, seq++));
    return out;
  }

  async commit(files: readonly StagedFile[]): Promise<void> {
    for (const f of files) {
      try {
        await this.blobs.move(f.staged, f.final);
      } catch (e) {
        if (!(e instanceof BlobNotFound)) throw e;
        // Already committed (moved earlier). A file missing in both places is lost: say so.
        if (!(await this.blobs.exists(f.final))) {
          throw new Error(`offline commit: neither staged ${f.staged} nor committed ${f.final} exists in ${this.blobs.root}`);
        }
      }
    }
  }

  async recover(keep: readonly StagedFile[]): Promise<void> {
    const keepSet = new Set(keep.map((f) => f.staged));
    let removed = 0;
    for (const key of await this.blobs.list(stagingPrefix(this.opts.writer))) {
      if (keepSet.has(key)) continue;
      await this.blobs.delete(key);
      removed++;
    }
    if (removed > 0) this.logger?.info({ removed, root: this.blobs.root }, 'offline store: removed orphaned staged files');
  }

  async list(table: string): Promise<readonly string[]> {
    const keys = await this.blobs.list(`${table}/`);
    return keys.filter((k) => k.endsWith('.parquet'));
  }

  /** Bytes of a committed (or staged) file, for replay readers. */
  read(key: string): Promise<Uint8Array> {
    return this.blobs.get(key);
  }

  async close(): Promise<void> {
    await this.blobs.close();
  }
}

export { partitionOf };

export function encodeBatch(batch: OfflineBatch, opts: ParquetStoreOptions = {}): Buffer {
  const sink = new MemorySink();
  const w = new ParquetStreamWriter(sink, batch.columns, {
    compressed: opts.compressed !== false,
    kvMetadata: { 'fenestra.table': batch.table, 'fenestra.timeColumn': batch.timeColumn },
  });
  const rows = batch.data[0]?.length ?? 0;
  const size = opts.rowGroupSize ?? 131_072;
  for (let start = 0; start < rows; start += size) {
    const end = Math.min(rows, start + size);
    w.writeRowGroup(
      batch.data.map((col) => (start === 0 && end === col.length ? col : sliceOf(col, start, end))),
      end - start,
    );
  }
  w.finish();
  return sink.toBuffer();
}

function sliceOf(col: ArrayLike<unknown>, start: number, end: number): ArrayLike<unknown> {
  const c = col as ArrayLike<unknown> & { slice?: (a: number, b: number) => ArrayLike<unknown> };
  return typeof c.slice === 'function' ? c.slice(start, end) : Array.from({ length: end - start }, (_, i) => col[start + i]);
}
