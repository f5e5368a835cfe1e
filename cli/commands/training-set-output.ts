/**
 * Writing a training set: the label columns (carried through) and the feature columns, Parquet.
 *
 * When every label file is Parquet, the output has one row group per label row group, and each
 * label column whose chunks can be taken as they are (a flat column with the same schema element in
 * every file; the time column only as INT64 milliseconds) is copied chunk by chunk, as stored:
 * pages, codec and encodings kept, nothing decoded or re-encoded. The other columns are encoded
 * (GZIP pages compressed on libuv's thread pool while the next row group is encoded).
 */
import { renameSync, rmSync } from 'node:fs';
import type { SchemaElement } from 'hyparquet';
import type { OfflineColumn } from '../../core/contracts/offline-store.js';
import { FenestraError } from '../../core/errors.js';
import type { OutputType } from '../../core/training/plan.js';
import type { FeatureColumn } from '../../core/training/replay-join.js';
import { FileSink } from '../../adapters/offline/parquet/file-sink.js';
import { epochMsDivisor, isFlatElement, topLevelElements } from '../../adapters/offline/parquet/parquet-reader.js';
import { ParquetStreamWriter, type CopiedChunk, type ParquetCodec, type WriterColumn } from '../../adapters/offline/parquet/parquet-writer.js';
import { columnChunkOf, type LoadedFile, type Table } from '../../adapters/offline/parquet/table-reader.js';

export interface TrainingOutput {
  readonly path: string;
  readonly codec: ParquetCodec;
  /** The label files (their Parquet chunks may be copied). */
  readonly labelFiles: readonly LoadedFile[];
  /** Every label column, in file order. */
  readonly labelNames: readonly string[];
  /** Decoded label columns: at least every label column not in `copied`. */
  readonly labels: Table;
  readonly labelTime: { readonly name: string; readonly times: ArrayLike<number> };
  /** Label columns written by copying their chunks (see `copyableColumns`), with their schema elements. */
  readonly copied: ReadonlyMap<string, SchemaElement>;
  readonly features: ReadonlyArray<{ readonly name: string; readonly type: OutputType; readonly data: FeatureColumn }>;
  readonly rows: number;
}

/** Top-level schema elements by name. */
function topLevel(schema: readonly SchemaElement[]): Map<string, SchemaElement> {
  return new Map(topLevelElements(schema).map((el) => [el.name, el]));
}

function sameElement(a: SchemaElement, b: SchemaElement): boolean {
  const key = (e: SchemaElement) =>
    JSON.stringify([e.type, e.type_length, e.repetition_type, e.converted_type, e.logical_type, e.scale, e.precision], (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  return key(a) === key(b);
}

/**
 * Label columns that can be written by copying their chunks: every label file is Parquet, the column
 * is flat (not nested, not repeated) with the same schema element in every file and a chunk in every
 * row group; the time column only when it holds INT64 epoch milliseconds (else it is written from
 * the parsed times, as milliseconds).
 */
export function copyableColumns(files: readonly LoadedFile[], timeColumn: string): Map<string, SchemaElement> {
  const out = new Map<string, SchemaElement>();
  if (files.length === 0 || files.some((f) => f.parquet === null)) return out;
  const first = topLevel(files[0]!.parquet!.metadata.schema);
  for (const [name, el] of first) {
    if (!isFlatElement(el) || (name === timeColumn && epochMsDivisor(el) !== 1)) continue;
    const ok = files.every((f) => {
      const other = topLevel(f.parquet!.metadata.schema).get(name);
      if (!other || !sameElement(other, el)) return false;
      return f.parquet!.metadata.row_groups.every((_rg, r) => columnChunkOf(f, r, name) !== undefined);
    });
    if (ok) out.set(name, el);
  }
  return out;
}

/**
 * The label columns of the label files, in file order (Parquet), or as decoded (NDJSON). Throws
 * BAD_REQUEST for a nested or repeated Parquet column: label columns are carried through as flat
 * columns only.
 */
export function labelColumnNames(files: readonly LoadedFile[], decoded?: Table): string[] {
  const first = files[0];
  if (first?.parquet) {
    const elements = topLevelElements(first.parquet.metadata.schema);
    const nested = elements.find((el) => !isFlatElement(el));
    if (nested) {
      throw new FenestraError('BAD_REQUEST', `labels ${first.name}: column "${nested.name}" is nested or repeated; training sets carry flat label columns only (drop it or flatten it)`, { path: nested.name });
    }
    return elements.map((el) => el.name);
  }
  return [...(decoded?.names ?? [])];
}

/**
 * The output type of a decoded label column: its Parquet type, else (NDJSON) the one type of its
 * values. Throws BAD_REQUEST for a value that is not a scalar, or values of two types (written as
 * one, one of them would be lost).
 */
function outputType(table: Table, name: string, col: ArrayLike<unknown>): OfflineColumn['type'] {
  const t = table.types.get(name);
  if (t && t !== 'unknown') return t;
  let type: OfflineColumn['type'] | undefined;
  let first = -1;
  for (let i = 0; i < col.length; i++) {
    const v = col[i];
    if (v === null || v === undefined) continue;
    const vt = typeof v === 'number' ? 'double' : typeof v === 'boolean' ? 'boolean' : typeof v === 'bigint' ? 'long' : typeof v === 'string' ? 'string' : undefined;
    if (vt === undefined) {
      throw new FenestraError('BAD_REQUEST', `label column "${name}", row ${i}: ${JSON.stringify(v)} is not a scalar; training sets carry flat label columns only`, { path: `${name}[${i}]` });
    }
    if (type === undefined) {
      type = vt;
      first = i;
    } else if (vt !== type) {
      throw new FenestraError('BAD_REQUEST', `label column "${name}": row ${first} holds a ${type}, row ${i} a ${vt}; a label column has one type`, { path: `${name}[${i}]` });
    }
  }
  return type ?? 'string';
}

function hasNull(col: ArrayLike<unknown>): boolean {
  if (col instanceof Float64Array) {
    for (let i = 0; i < col.length; i++) if (Number.isNaN(col[i])) return true;
    return false;
  }
  for (let i = 0; i < col.length; i++) if (col[i] === null || col[i] === undefined) return true;
  return false;
}

function slice(col: ArrayLike<unknown>, s: number, e: number): ArrayLike<unknown> {
  if (s === 0 && e === col.length) return col;
  const c = col as ArrayLike<unknown> & { subarray?: (a: number, b: number) => ArrayLike<unknown>; slice?: (a: number, b: number) => ArrayLike<unknown> };
  if (typeof c.subarray === 'function') return c.subarray(s, e);
  if (typeof c.slice === 'function') return c.slice(s, e);
  return Array.from({ length: e - s }, (_, i) => col[s + i]);
}

/** Writes the training set to `out.path` (through a temporary file, fsynced, renamed into place). */
export async function writeTrainingSet(out: TrainingOutput): Promise<void> {
  const columns: WriterColumn[] = [];
  const sources: Array<{ copy: string } | { data: ArrayLike<unknown> }> = [];
  for (const n of out.labelNames) {
    const el = out.copied.get(n);
    if (el) {
      columns.push({ name: n, type: 'string', element: el });
      sources.push({ copy: n });
      continue;
    }
    const col = n === out.labelTime.name ? out.labelTime.times : out.labels.columns.get(n);
    if (col === undefined) throw new FenestraError('INTERNAL', `training-set output: label column "${n}" was not read`);
    columns.push({ name: n, type: n === out.labelTime.name ? 'timestamp' : outputType(out.labels, n, col), required: !hasNull(col) });
    sources.push({ data: col });
  }
  for (const f of out.features) {
    if (out.labelNames.includes(f.name)) throw new FenestraError('BAD_REQUEST', `feature column "${f.name}" clashes with a label column`, { path: f.name });
    columns.push({ name: f.name, type: f.type });
    sources.push({ data: f.data });
  }
  const tmp = `${out.path}.tmp-${process.pid}`;
  const sink = new FileSink(tmp);
  try {
    const writer = new ParquetStreamWriter(sink, columns, { codec: out.codec });
    const write = async (s: number, e: number, file?: LoadedFile, rg?: number): Promise<void> => {
      const data = sources.map((src): ArrayLike<unknown> | CopiedChunk => {
        if ('data' in src) return slice(src.data, s, e);
        const chunk = columnChunkOf(file!, rg!, src.copy)!;
        return { kind: 'copied-chunk', ...chunk };
      });
      await writer.writeRowGroupAsync(data, e - s);
    };
    if (out.copied.size > 0) {
      let s = 0;
      for (const f of out.labelFiles) {
        const groups = f.parquet!.metadata.row_groups;
        for (let r = 0; r < groups.length; r++) {
          const rows = Number(groups[r]!.num_rows);
          await write(s, s + rows, f, r);
          s += rows;
        }
      }
      if (s !== out.rows) throw new FenestraError('INTERNAL', `training-set output: ${s} label rows in row groups, ${out.rows} read`);
    } else {
      const group = 262_144;
      for (let s = 0; s < out.rows; s += group) await write(s, Math.min(out.rows, s + group));
    }
    await writer.flush();
    writer.finish();
    sink.close({ fsync: true });
  } catch (e) {
    sink.close();
    rmSync(tmp, { force: true });
    throw e;
  }
  renameSync(tmp, out.path);
}
