/**
 * Decoding Parquet row groups into columns (timestamps as epoch ms), and the string encoding for a
 * thread hop: what the table reader and its decode workers share. Imports only the Parquet reader,
 * so a decode worker loads no S3 client or file walking.
 */
import { epochMsDivisor, readRowGroups, type ParquetBytes } from './parquet-reader.js';

/** One decoded row group: `rows` values per requested column. */
export interface DecodedRowGroup {
  readonly rows: number;
  readonly columns: ReadonlyMap<string, ArrayLike<unknown>>;
}

/** Decodes row groups [from, to) of a Parquet file (timestamps as epoch ms), in order. */
export async function decodeRowGroups(pq: ParquetBytes, from: number, to: number, want: readonly string[], onRowGroup: (rg: DecodedRowGroup) => void): Promise<void> {
  if (to <= from) return;
  // INT64 timestamps in ms/µs are read as plain INT64 and converted without a BigInt per value
  const { file, epochMs } = withRawTimestamps(pq, want);
  const part: ParquetBytes = { buffer: file.buffer, metadata: { ...file.metadata, row_groups: file.metadata.row_groups.slice(from, to) } };
  await readRowGroups(part, want, (rg) => {
    const columns = new Map<string, ArrayLike<unknown>>();
    for (const n of want) {
      const col = rg.columns.get(n)!;
      const unit = epochMs.get(n);
      columns.set(n, unit !== undefined ? int64ToEpochMs(col, unit) : col);
    }
    onRowGroup({ rows: rg.rows, columns });
  });
}

/** A string column as its distinct values and an index per row (-1: null), for a thread hop. */
export interface EncodedStrings {
  readonly kind: 'strings';
  readonly dict: string[];
  readonly ids: Int32Array;
}

/** Strings dictionary-encoded (fewer objects to copy between threads); other columns as they are. */
export function encodeForTransfer(col: ArrayLike<unknown>): ArrayLike<unknown> | EncodedStrings {
  if (ArrayBuffer.isView(col)) return col;
  const ids = new Int32Array(col.length);
  const index = new Map<string, number>();
  const dict: string[] = [];
  for (let i = 0; i < col.length; i++) {
    const v = col[i];
    if (v === null || v === undefined) {
      ids[i] = -1;
      continue;
    }
    if (typeof v !== 'string') return col;
    let k = index.get(v);
    if (k === undefined) {
      k = dict.push(v) - 1;
      index.set(v, k);
    }
    ids[i] = k;
  }
  return { kind: 'strings', dict, ids };
}

export function decodeTransferred(col: ArrayLike<unknown> | EncodedStrings): ArrayLike<unknown> {
  if (!('kind' in col) || (col as EncodedStrings).kind !== 'strings') return col as ArrayLike<unknown>;
  const { dict, ids } = col as EncodedStrings;
  const out: Array<string | null> = [];
  for (let i = 0; i < ids.length; i++) out.push(ids[i]! < 0 ? null : dict[ids[i]!]!);
  return out;
}

/**
 * The file with the `TIMESTAMP_MILLIS` / `TIMESTAMP_MICROS` annotations of the `want` columns
 * removed (so the reader returns their INT64 values as they are), and the divisor to epoch ms of
 * each such column.
 */
function withRawTimestamps(pq: ParquetBytes, want: readonly string[]): { file: ParquetBytes; epochMs: Map<string, number> } {
  const epochMs = new Map<string, number>();
  const wanted = new Set(want);
  const schema = pq.metadata.schema.map((el, i) => {
    if (i === 0 || el.num_children || !wanted.has(el.name)) return el;
    const unit = epochMsDivisor(el);
    if (unit === 0) return el;
    epochMs.set(el.name, unit);
    const { converted_type: _c, logical_type: _l, ...plain } = el;
    return plain;
  });
  if (epochMs.size === 0) return { file: pq, epochMs };
  return { file: { buffer: pq.buffer, metadata: { ...pq.metadata, schema } }, epochMs };
}

/**
 * INT64 values (a BigInt64Array, or an array with nulls) as epoch ms numbers: value / unit, floored,
 * like the reader's timestamp parsers. Exact while |value| < 2^53.
 */
function int64ToEpochMs(col: ArrayLike<unknown>, unit: number): ArrayLike<unknown> {
  const n = col.length;
  if (col instanceof BigInt64Array) {
    const words = new Int32Array(col.buffer, col.byteOffset, n * 2);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const hi = words[2 * i + 1]!;
      const v = hi * 4294967296 + (words[2 * i]! >>> 0);
      if (v > Number.MAX_SAFE_INTEGER || v < Number.MIN_SAFE_INTEGER) return slowInt64ToEpochMs(col, unit);
      out[i] = unit === 1 ? v : Math.floor(v / unit);
    }
    return out;
  }
  return slowInt64ToEpochMs(col, unit);
}

function slowInt64ToEpochMs(col: ArrayLike<unknown>, unit: number): unknown[] {
  const out = new Array<unknown>(col.length);
  for (let i = 0; i < col.length; i++) {
    const v = col[i];
    out[i] = typeof v === 'bigint' ? (unit === 1 ? Number(v) : Math.floor(Number(v) / unit)) : v ?? null;
  }
  return out;
}
