/**
 * Columnar Parquet reading with `hyparquet`: whole columns as arrays, timestamps as epoch
 * milliseconds (numbers, no `Date` per row), strings decoded once per dictionary entry.
 */
import { parquetMetadata, parquetRead } from 'hyparquet';
import type { AsyncBuffer, FileMetaData, ParquetParsers, SchemaElement } from 'hyparquet';
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import type { OfflineColumn } from '../../../core/contracts/offline-store.js';

const decoder = new TextDecoder();

/** Parsers that keep timestamps as epoch-millisecond numbers. */
export const EPOCH_MS_PARSERS: ParquetParsers = {
  timestampFromMilliseconds: (v: bigint) => Number(v),
  timestampFromMicroseconds: (v: bigint) => Math.floor(Number(v) / 1000),
  timestampFromNanoseconds: (v: bigint) => Math.floor(Number(v / 1000n) / 1000),
  dateFromDays: (d: number) => d * 86_400_000,
  stringFromBytes: (b: Uint8Array) => b && decoder.decode(b),
  geometryFromBytes: (b: Uint8Array) => b,
  geographyFromBytes: (b: Uint8Array) => b,
};

/** GZIP pages (what `fenestra training-set` writes by default) through Node's native zlib. */
const GZIP = { GZIP: (input: Uint8Array) => new Uint8Array(gunzipSync(input)) };

/** An in-memory Parquet file. */
export interface ParquetBytes {
  readonly buffer: AsyncBuffer;
  readonly metadata: FileMetaData;
}

export function bufferOf(bytes: Uint8Array): AsyncBuffer {
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  return { byteLength: ab.byteLength, slice: (start: number, end?: number) => ab.slice(start, end) };
}

export function openParquetBytes(bytes: Uint8Array): ParquetBytes {
  const buffer = bufferOf(bytes);
  const ab = buffer.slice(0, bytes.byteLength) as ArrayBuffer;
  return { buffer, metadata: parquetMetadata(ab) };
}

export async function openParquetFile(path: string): Promise<ParquetBytes> {
  return openParquetBytes(await readFile(path));
}

/**
 * The schema's top-level elements, in file order: a nested column (a group: LIST, MAP, struct) is
 * one element, its descendants at every depth skipped.
 */
export function topLevelElements(schema: readonly SchemaElement[]): SchemaElement[] {
  const out: SchemaElement[] = [];
  // index after the subtree rooted at i
  const skip = (i: number): number => {
    let next = i + 1;
    for (let k = 0; k < (schema[i]!.num_children ?? 0); k++) next = skip(next);
    return next;
  };
  for (let i = 1; i < schema.length; i = skip(i)) out.push(schema[i]!);
  return out;
}

/** A flat column with one value per row (not a group, not a repeated field). */
export function isFlatElement(el: SchemaElement): boolean {
  return !el.num_children && el.repetition_type !== 'REPEATED';
}

/** The divisor to epoch ms of an INT64 timestamp column (MILLIS: 1, MICROS: 1000), or 0 for any other column. */
export function epochMsDivisor(el: SchemaElement): number {
  if (el.type !== 'INT64') return 0;
  const unit = el.logical_type?.type === 'TIMESTAMP' ? el.logical_type.unit : undefined;
  if (el.converted_type === 'TIMESTAMP_MILLIS' || unit === 'MILLIS') return 1;
  if (el.converted_type === 'TIMESTAMP_MICROS' || unit === 'MICROS') return 1000;
  return 0;
}

/** The file's top-level columns as Fenestra column types (unknown physical types map to `string`). */
export function parquetColumns(metadata: FileMetaData): OfflineColumn[] {
  return topLevelElements(metadata.schema).map((el) => ({ name: el.name, type: columnType(el) }));
}

function columnType(el: SchemaElement): OfflineColumn['type'] {
  const lt = el.logical_type?.type;
  if (el.converted_type === 'TIMESTAMP_MILLIS' || el.converted_type === 'TIMESTAMP_MICROS' || lt === 'TIMESTAMP') return 'timestamp';
  if (el.converted_type === 'DATE') return 'timestamp';
  switch (el.type) {
    case 'DOUBLE':
    case 'FLOAT':
      return 'double';
    case 'INT64':
      return 'long';
    case 'INT32':
      return 'int';
    case 'BOOLEAN':
      return 'boolean';
    default:
      return 'string';
  }
}

export interface RowGroupColumns {
  readonly rowStart: number;
  readonly rows: number;
  /** Column values by requested name, `rows` long. */
  readonly columns: ReadonlyMap<string, ArrayLike<unknown>>;
}

/** Reads row groups in order, calling `onRowGroup` with each one's columns. */
export async function readRowGroups(
  file: ParquetBytes,
  columns: readonly string[],
  onRowGroup: (rg: RowGroupColumns) => void,
): Promise<void> {
  let rowStart = 0;
  for (const rg of file.metadata.row_groups) {
    const rows = Number(rg.num_rows);
    const got = new Map<string, ArrayLike<unknown>>();
    await parquetRead({
      file: file.buffer,
      metadata: file.metadata,
      columns: [...columns],
      rowStart,
      rowEnd: rowStart + rows,
      parsers: EPOCH_MS_PARSERS,
      compressors: GZIP,
      onChunk: (chunk) => {
        const off = rowStart - chunk.rowStart;
        const data = chunk.columnData as ArrayLike<unknown> & { subarray?: unknown; slice(a: number, b: number): ArrayLike<unknown> };
        got.set(chunk.columnName, off === 0 && data.length === rows ? data : data.slice(off, off + rows));
      },
    });
    for (const c of columns) if (!got.has(c)) throw new Error(`parquet column "${c}" not found`);
    onRowGroup({ rowStart, rows, columns: got });
    rowStart += rows;
  }
}
