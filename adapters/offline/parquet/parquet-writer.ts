/**
 * A streaming, columnar Parquet writer tuned for large tables.
 *
 * Built on `hyparquet-writer`'s low-level pieces (thrift page headers, footer metadata, Snappy,
 * RLE/bit-packing) with its own column encoder: `hyparquet-writer`'s `writeColumn` looks every
 * value up in its dictionary with `Array.indexOf` (quadratic: minutes for a 5M-row table of 10k card
 * numbers) and needs a `Date` object per timestamp. Here dictionaries use a `Map`, numbers are
 * encoded straight from typed arrays, and timestamps are epoch-millisecond numbers written as
 * `INT64` with `TIMESTAMP_MILLIS` (DuckDB, Spark and Athena read them as timestamps).
 *
 * Rows are appended one row group at a time (`writeRowGroup`), so a file of any size is written
 * with the memory of one row group. `writeRowGroupAsync` compresses GZIP pages on libuv's thread
 * pool (native zlib) while the caller encodes the next row group. A column chunk of another Parquet
 * file can be copied as stored (`CopiedChunk`: pages, codec, encodings and statistics kept), which
 * is how training sets carry label columns through. Not thread-safe; one writer per file.
 */
import { ByteWriter } from 'hyparquet-writer/src/bytewriter.js';
import { writePageHeader } from 'hyparquet-writer/src/datapage.js';
import { writeRleBitPackedHybrid } from 'hyparquet-writer/src/encoding.js';
import { writeMetadata } from 'hyparquet-writer/src/metadata.js';
import { snappyCompress } from 'hyparquet-writer/src/snappy.js';
import { gzip, gzipSync } from 'node:zlib';
import type { ColumnChunk, ColumnMetaData, Encoding, FileMetaData, RowGroup, SchemaElement, Statistics } from 'hyparquet';
import type { OfflineColumn } from '../../../core/contracts/offline-store.js';

/** Page compression codecs written. */
export type ParquetCodec = 'snappy' | 'gzip' | 'none';

/** Where the bytes go: a file descriptor, an in-memory buffer, ... */
export interface ByteSink {
  write(bytes: Uint8Array): void;
}

/** Values of one column for one row group. `timestamp`: epoch ms numbers (or `Date`); `long`: numbers or bigints. */
export type ColumnValues = ArrayLike<unknown>;

const MAGIC = new Uint8Array([0x50, 0x41, 0x52, 0x31]); // PAR1

/**
 * A column to write; `required` columns hold no nulls (no definition levels: faster to read).
 * `element`: the schema element as given (for columns whose chunks are copied from another file).
 */
export type WriterColumn = OfflineColumn & { readonly required?: boolean; readonly element?: SchemaElement };

/**
 * One column chunk of another Parquet file, to be written as stored: `bytes` are the chunk's pages
 * (from its dictionary page, or first data page, on), `meta` its column metadata as read, whose
 * page offsets are relative to `sourceOffset` (the chunk's first byte in its file).
 */
export interface CopiedChunk {
  readonly kind: 'copied-chunk';
  readonly bytes: Uint8Array;
  readonly meta: ColumnMetaData;
  readonly sourceOffset: number;
}

function isCopied(v: ColumnValues | CopiedChunk): v is CopiedChunk {
  return (v as CopiedChunk).kind === 'copied-chunk';
}

export function schemaElement(col: WriterColumn): SchemaElement {
  if (col.element) return { ...col.element, name: col.name };
  const base = { name: col.name, repetition_type: col.required ? ('REQUIRED' as const) : ('OPTIONAL' as const) };
  switch (col.type) {
    case 'string':
      return { ...base, type: 'BYTE_ARRAY', converted_type: 'UTF8' };
    case 'double':
      return { ...base, type: 'DOUBLE' };
    case 'long':
      return { ...base, type: 'INT64' };
    case 'int':
      return { ...base, type: 'INT32' };
    case 'boolean':
      return { ...base, type: 'BOOLEAN' };
    case 'timestamp':
      return { ...base, type: 'INT64', converted_type: 'TIMESTAMP_MILLIS' };
  }
}

/** A growable little-endian byte buffer (plain encoding target). */
class Bytes {
  buf: Buffer;
  len = 0;
  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafe(Math.max(64, capacity));
  }
  ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + extra));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  view(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

function toBytes(w: ByteWriter): Uint8Array {
  return new Uint8Array(w.buffer, 0, w.index);
}

/** RLE-encodes `n` definition levels all equal to 1 (no nulls) with bit width 1. */
function allPresentLevels(n: number): Uint8Array {
  const w = new ByteWriter();
  w.appendVarInt(n << 1);
  w.appendUint8(1);
  return toBytes(w);
}

function isNullish(v: unknown): boolean {
  return v === null || v === undefined;
}

function isNullOrNaN(v: unknown): boolean {
  return v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v));
}

function tsNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'bigint') return Number(v);
  throw new TypeError(`expected epoch milliseconds, got ${typeof v}`);
}

function longNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  throw new TypeError(`expected an integer, got ${typeof v}`);
}

/** A column of a row group encoded, before compression. */
interface PreparedColumn {
  readonly dict: { readonly body: Uint8Array; readonly numValues: number } | null;
  readonly levels: Uint8Array;
  readonly body: Uint8Array;
  readonly encoding: Encoding;
  readonly nulls: number;
  readonly rows: number;
  readonly statistics: Statistics | undefined;
}

interface EncodedColumn {
  pages: Uint8Array[];
  encodings: Encoding[];
  dictionaryPageSize: number;
  /** Bytes of the chunk with every page uncompressed (headers included). */
  uncompressedSize: number;
  statistics: Statistics | undefined;
}

export class ParquetStreamWriter {
  private readonly schema: SchemaElement[];
  private readonly rowGroups: RowGroup[] = [];
  private numRows = 0;
  private offset = 0;
  private finished = false;

  private readonly codec: ParquetCodec;
  /** Row groups of `writeRowGroupAsync` not yet written to the sink, oldest first. */
  private readonly inFlight: Array<Promise<void>> = [];

  constructor(
    private readonly sink: ByteSink,
    private readonly columns: readonly WriterColumn[],
    private readonly opts: {
      /** Page codec (default `snappy`). `gzip` (zlib level 1, native) writes about 3× faster than the JS Snappy. */
      codec?: ParquetCodec;
      /** @deprecated use `codec`; `false` means `none`. */
      compressed?: boolean;
      kvMetadata?: Record<string, string>;
    } = {},
  ) {
    this.codec = opts.codec ?? (opts.compressed === false ? 'none' : 'snappy');
    this.schema = [{ name: 'root', num_children: columns.length }, ...columns.map(schemaElement)];
    this.emit(MAGIC);
  }

  get rowsWritten(): number {
    return this.numRows;
  }

  private emit(bytes: Uint8Array): void {
    this.sink.write(bytes);
    this.offset += bytes.length;
  }

  /**
   * Appends one row group; `data[i]` holds column i's values for rows `0 .. rows-1`, or a chunk
   * copied as stored from another file. Must not be mixed with a pending `writeRowGroupAsync`.
   */
  writeRowGroup(data: readonly (ColumnValues | CopiedChunk)[], rows = rowsOf(data)): void {
    if (this.inFlight.length > 0) throw new Error('parquet writer: writeRowGroup while an async row group is pending (await flush())');
    const prepared = this.prepareRowGroup(data, rows);
    if (prepared === null) return;
    this.emitRowGroup(prepared.map((p) => (p === null || 'kind' in p ? p : this.assemble(p, p.dict ? this.compress(p.dict.body) : null, this.compress(p.body)))), rows);
  }

  /**
   * `writeRowGroup` with GZIP pages compressed on libuv's thread pool: encodes the columns now,
   * returns once at most one earlier row group is still being compressed (so the caller encodes the
   * next row group meanwhile), and emits row groups in order. `flush()` waits for all of them;
   * `finish()` must come after it. Other codecs compress on the calling thread.
   */
  async writeRowGroupAsync(data: readonly (ColumnValues | CopiedChunk)[], rows = rowsOf(data)): Promise<void> {
    const prepared = this.prepareRowGroup(data, rows);
    if (prepared === null) return;
    const columns = Promise.all(
      prepared.map(async (p) => {
        if (p === null || 'kind' in p) return p;
        const [dict, body] = await Promise.all([p.dict ? this.compressAsync(p.dict.body) : null, this.compressAsync(p.body)]);
        return this.assemble(p, dict, body);
      }),
    );
    const previous = this.inFlight[this.inFlight.length - 1] ?? Promise.resolve();
    const done = previous.then(async () => this.emitRowGroup(await columns, rows));
    this.inFlight.push(done);
    done.then(
      () => this.inFlight.splice(this.inFlight.indexOf(done), 1),
      () => undefined,
    );
    if (this.inFlight.length > 1) await this.inFlight[this.inFlight.length - 2];
  }

  /** Waits until every row group given to `writeRowGroupAsync` is written to the sink. */
  async flush(): Promise<void> {
    while (this.inFlight.length > 0) await this.inFlight[this.inFlight.length - 1];
  }

  private prepareRowGroup(data: readonly (ColumnValues | CopiedChunk)[], rows: number): Array<PreparedColumn | CopiedChunk | null> | null {
    if (this.finished) throw new Error('parquet writer already finished');
    if (data.length !== this.columns.length) throw new Error(`expected ${this.columns.length} columns, got ${data.length}`);
    if (rows === 0) return null;
    return data.map((values, c) => {
      const col = this.columns[c]!;
      if (isCopied(values)) {
        if (Number(values.meta.num_values) !== rows && !this.columns[c]!.element?.repetition_type?.startsWith('REPEATED')) {
          throw new Error(`column ${col.name}: the copied chunk holds ${values.meta.num_values} values for ${rows} rows`);
        }
        return values;
      }
      if (col.element) throw new Error(`column ${col.name}: declared with a schema element, it takes copied chunks only`);
      if (values.length < rows) throw new Error(`column ${col.name}: ${values.length} values for ${rows} rows`);
      return this.prepareColumn(col, values, rows);
    });
  }

  private emitRowGroup(encoded: Array<EncodedColumn | CopiedChunk | null>, rows: number): void {
    const start = this.offset;
    const chunks: ColumnChunk[] = [];
    for (let c = 0; c < this.columns.length; c++) {
      const col = this.columns[c]!;
      const element = this.schema[c + 1]!;
      const enc = encoded[c]!;
      const chunkStart = this.offset;
      if ('kind' in enc) {
        this.emit(enc.bytes);
        const shift = (v: bigint | undefined): bigint | undefined => (v === undefined ? undefined : v - BigInt(enc.sourceOffset) + BigInt(chunkStart));
        const m = enc.meta;
        const meta: ColumnMetaData = {
          type: m.type,
          encodings: m.encodings,
          path_in_schema: [col.name],
          codec: m.codec,
          num_values: m.num_values,
          total_compressed_size: m.total_compressed_size,
          total_uncompressed_size: m.total_uncompressed_size,
          data_page_offset: shift(m.data_page_offset)!,
          dictionary_page_offset: m.dictionary_page_offset !== undefined && m.dictionary_page_offset >= BigInt(enc.sourceOffset) ? shift(m.dictionary_page_offset) : undefined,
          // min/max statistics are decoded by the reader into display values; only counts are kept
          statistics: m.statistics ? { null_count: m.statistics.null_count, distinct_count: m.statistics.distinct_count } : undefined,
          encoding_stats: m.encoding_stats,
        };
        chunks.push({ file_offset: BigInt(chunkStart), meta_data: meta });
        continue;
      }
      for (const p of enc.pages) this.emit(p);
      const size = this.offset - chunkStart;
      const meta: ColumnMetaData = {
        type: element.type!,
        encodings: enc.encodings,
        path_in_schema: [col.name],
        codec: this.codec === 'none' ? 'UNCOMPRESSED' : this.codec === 'gzip' ? 'GZIP' : 'SNAPPY',
        num_values: BigInt(rows),
        total_compressed_size: BigInt(size),
        total_uncompressed_size: BigInt(enc.uncompressedSize),
        data_page_offset: BigInt(chunkStart + enc.dictionaryPageSize),
        dictionary_page_offset: enc.dictionaryPageSize > 0 ? BigInt(chunkStart) : undefined,
        statistics: enc.statistics,
      };
      chunks.push({ file_offset: BigInt(chunkStart), meta_data: meta });
    }
    this.rowGroups.push({ columns: chunks, total_byte_size: BigInt(this.offset - start), num_rows: BigInt(rows) });
    this.numRows += rows;
  }

  /** Writes the footer. The sink then holds a complete Parquet file. */
  finish(): void {
    if (this.finished) return;
    if (this.inFlight.length > 0) throw new Error('parquet writer: finish() while async row groups are pending (await flush())');
    this.finished = true;
    const metadata: FileMetaData = {
      version: 2,
      created_by: 'fenestra (hyparquet-writer)',
      schema: this.schema,
      num_rows: BigInt(this.numRows),
      row_groups: this.rowGroups,
      metadata_length: 0,
      key_value_metadata: this.opts.kvMetadata
        ? Object.entries(this.opts.kvMetadata).map(([key, value]) => ({ key, value }))
        : undefined,
    };
    delete (metadata as Partial<FileMetaData>).metadata_length;
    const w = new ByteWriter();
    writeMetadata(w, metadata);
    w.appendUint32(0x31524150);
    this.emit(toBytes(w));
  }

  private compressAsync(page: Uint8Array): Promise<Uint8Array> {
    if (this.codec !== 'gzip') return Promise.resolve(this.compress(page));
    return new Promise((resolve, reject) => gzip(page, { level: 1 }, (err, out) => (err ? reject(err) : resolve(out))));
  }

  private compress(page: Uint8Array): Uint8Array {
    if (this.codec === 'none') return page;
    if (this.codec === 'gzip') return gzipSync(page, { level: 1 });
    const w = new ByteWriter();
    snappyCompress(w, page);
    return toBytes(w);
  }

  private prepareColumn(col: WriterColumn, values: ColumnValues, rows: number): PreparedColumn {
    // definition levels (for doubles NaN is null too: Fenestra features are never NaN, and typed
    // Float64Array columns use NaN for "no value")
    const isNull = col.type === 'double' ? isNullOrNaN : isNullish;
    let nulls = 0;
    if (values instanceof Float64Array) {
      for (let i = 0; i < rows; i++) if (values[i] !== values[i]) nulls++;
    } else {
      for (let i = 0; i < rows; i++) if (isNull(values[i])) nulls++;
    }
    let levels: Uint8Array;
    if (col.required) {
      if (nulls > 0) throw new Error(`parquet column ${col.name} is required but has ${nulls} null value(s)`);
      levels = new Uint8Array(0);
    } else if (nulls === 0) {
      levels = allPresentLevels(rows);
    } else {
      const defs = new Array<number>(rows);
      for (let i = 0; i < rows; i++) defs[i] = isNull(values[i]) ? 0 : 1;
      const w = new ByteWriter();
      writeRleBitPackedHybrid(w, defs, 1);
      levels = toBytes(w);
    }
    const present = rows - nulls;
    let dict: PreparedColumn['dict'] = null;
    let encoding: Encoding = 'PLAIN';
    let body: Uint8Array;
    let statistics: Statistics | undefined;

    switch (col.type) {
      case 'double': {
        const d = doubleDictionary(values, rows, present, isNull);
        if (d !== null) {
          dict = { body: new Uint8Array(d.values.buffer, d.values.byteOffset, d.values.byteLength), numValues: d.values.length };
          body = dictionaryIndices(d.indices, present, d.bitWidth);
          encoding = 'RLE_DICTIONARY';
          statistics = { min_value: d.min, max_value: d.max, null_count: BigInt(nulls) };
          break;
        }
        const out = new Float64Array(present);
        let j = 0;
        let min = Infinity;
        let max = -Infinity;
        for (let i = 0; i < rows; i++) {
          const v = values[i];
          if (isNull(v)) continue;
          const x = v as number;
          out[j++] = x;
          if (x < min) min = x;
          if (x > max) max = x;
        }
        body = new Uint8Array(out.buffer);
        if (present > 0) statistics = { min_value: min, max_value: max, null_count: BigInt(nulls) };
        else statistics = { null_count: BigInt(nulls) };
        break;
      }
      case 'int': {
        const out = new Int32Array(present);
        let j = 0;
        let min = Infinity;
        let max = -Infinity;
        for (let i = 0; i < rows; i++) {
          const v = values[i];
          if (isNull(v)) continue;
          const x = longNumber(v);
          out[j++] = x;
          if (x < min) min = x;
          if (x > max) max = x;
        }
        body = new Uint8Array(out.buffer);
        statistics = present > 0 ? { min_value: min, max_value: max, null_count: BigInt(nulls) } : { null_count: BigInt(nulls) };
        break;
      }
      case 'long':
      case 'timestamp': {
        const out = new Int32Array(present * 2);
        let j = 0;
        let min = Infinity;
        let max = -Infinity;
        const conv = col.type === 'timestamp' ? tsNumber : longNumber;
        for (let i = 0; i < rows; i++) {
          const v = values[i];
          if (isNull(v)) continue;
          const x = conv(v);
          const hi = Math.floor(x / 4294967296);
          out[j++] = (x - hi * 4294967296) | 0;
          out[j++] = hi | 0;
          if (x < min) min = x;
          if (x > max) max = x;
        }
        body = new Uint8Array(out.buffer);
        statistics =
          present > 0
            ? { min_value: BigInt(min), max_value: BigInt(max), null_count: BigInt(nulls) }
            : { null_count: BigInt(nulls) };
        break;
      }
      case 'boolean': {
        const out = new Uint8Array(Math.ceil(present / 8));
        let j = 0;
        for (let i = 0; i < rows; i++) {
          const v = values[i];
          if (isNull(v)) continue;
          if (v) out[j >> 3]! |= 1 << (j & 7);
          j++;
        }
        body = out;
        break;
      }
      case 'string': {
        const dictionary = new Map<string, number>();
        const idx = new Array<number>(present);
        let j = 0;
        let plainBytes = 0;
        for (let i = 0; i < rows; i++) {
          const v = values[i];
          if (isNull(v)) continue;
          const s = typeof v === 'string' ? v : String(v);
          let k = dictionary.get(s);
          if (k === undefined) {
            k = dictionary.size;
            dictionary.set(s, k);
          }
          idx[j++] = k;
          plainBytes += s.length;
        }
        if (present > 0 && dictionary.size * 2 <= present) {
          // dictionary page (PLAIN byte arrays) + RLE_DICTIONARY indices
          const d = new Bytes(16);
          for (const s of dictionary.keys()) writeByteArray(d, s);
          dict = { body: d.view(), numValues: dictionary.size };
          const bitWidth = Math.max(1, Math.ceil(Math.log2(dictionary.size)));
          body = dictionaryIndices(idx, present, bitWidth);
          encoding = 'RLE_DICTIONARY';
        } else {
          const b = new Bytes(plainBytes + 4 * present + 16);
          for (let i = 0; i < rows; i++) {
            const v = values[i];
            if (isNull(v)) continue;
            writeByteArray(b, typeof v === 'string' ? v : String(v));
          }
          body = b.view();
        }
        break;
      }
    }

    return { dict, levels, body, encoding, nulls, rows, statistics };
  }

  /** Page headers and pages of a prepared column, given its compressed dictionary and data bodies. */
  private assemble(p: PreparedColumn, dictCompressed: Uint8Array | null, compressed: Uint8Array): EncodedColumn {
    const pages: Uint8Array[] = [];
    let dictionaryPageSize = 0;
    let uncompressedSize = 0;
    if (p.dict) {
      const hw = new ByteWriter();
      writePageHeader(hw, {
        type: 'DICTIONARY_PAGE',
        uncompressed_page_size: p.dict.body.length,
        compressed_page_size: dictCompressed!.length,
        dictionary_page_header: { num_values: p.dict.numValues, encoding: 'PLAIN' },
      });
      const header = toBytes(hw);
      pages.push(header, dictCompressed!);
      dictionaryPageSize = header.length + dictCompressed!.length;
      uncompressedSize += header.length + p.dict.body.length;
    }
    const hw = new ByteWriter();
    writePageHeader(hw, {
      type: 'DATA_PAGE_V2',
      uncompressed_page_size: p.levels.length + p.body.length,
      compressed_page_size: p.levels.length + compressed.length,
      data_page_header_v2: {
        num_values: p.rows,
        num_nulls: p.nulls,
        num_rows: p.rows,
        encoding: p.encoding,
        definition_levels_byte_length: p.levels.length,
        repetition_levels_byte_length: 0,
        is_compressed: this.codec !== 'none',
      },
    });
    const header = toBytes(hw);
    uncompressedSize += header.length + p.levels.length + p.body.length;
    pages.push(header, p.levels, compressed);
    const encodings: Encoding[] = p.encoding === 'RLE_DICTIONARY' ? ['PLAIN', 'RLE', 'RLE_DICTIONARY'] : ['PLAIN', 'RLE'];
    return { pages, encodings, dictionaryPageSize, uncompressedSize, statistics: p.statistics };
  }
}

/**
 * A dictionary for a double column of small whole numbers (counts): every value an integer in
 * [0, 65535] (no -0), with at most 1/8 as many distinct values as values. Null otherwise (checked
 * as it goes: a fraction ends the attempt at once).
 */
function doubleDictionary(values: ColumnValues, rows: number, present: number, isNull: (v: unknown) => boolean): { values: Float64Array; indices: number[]; bitWidth: number; min: number; max: number } | null {
  if (present < 16) return null;
  let max = -1;
  for (let i = 0; i < rows; i++) {
    const v = values[i];
    if (isNull(v)) continue;
    const x = v as number;
    if (!(x >= 0 && x <= 65_535 && Math.floor(x) === x) || (x === 0 && 1 / x < 0)) return null;
    if (x > max) max = x;
  }
  const id = new Int32Array(max + 1).fill(-1);
  for (let i = 0; i < rows; i++) {
    const v = values[i];
    if (!isNull(v)) id[v as number] = 0;
  }
  const dict: number[] = [];
  for (let x = 0; x <= max; x++) if (id[x] === 0) id[x] = dict.push(x) - 1;
  if (dict.length > present >> 3) return null;
  const indices = new Array<number>(present);
  let j = 0;
  for (let i = 0; i < rows; i++) {
    const v = values[i];
    if (!isNull(v)) indices[j++] = id[v as number]!;
  }
  return { values: Float64Array.from(dict), indices, bitWidth: Math.max(1, Math.ceil(Math.log2(dict.length))), min: dict[0]!, max };
}

/**
 * RLE_DICTIONARY data: the bit width, then the indices as one bit-packed run of the RLE /
 * bit-packing hybrid (groups of 8 values, least significant bits first, the last group zero-padded).
 */
function dictionaryIndices(indices: ArrayLike<number>, n: number, bitWidth: number): Uint8Array {
  const groups = Math.ceil(n / 8);
  const out = new Uint8Array(1 + 5 + groups * bitWidth);
  let pos = 0;
  out[pos++] = bitWidth;
  let header = groups * 2 + 1;
  while (header >= 0x80) {
    out[pos++] = (header & 0x7f) | 0x80;
    header = Math.floor(header / 0x80);
  }
  out[pos++] = header;
  if (bitWidth > 24) {
    let acc = 0;
    let bits = 0;
    for (let i = 0; i < groups * 8; i++) {
      acc += (i < n ? indices[i]! : 0) * 2 ** bits;
      bits += bitWidth;
      while (bits >= 8) {
        out[pos++] = acc % 256;
        acc = Math.floor(acc / 256);
        bits -= 8;
      }
    }
  } else {
    let acc = 0;
    let bits = 0;
    for (let i = 0; i < groups * 8; i++) {
      acc |= (i < n ? indices[i]! : 0) << bits;
      bits += bitWidth;
      while (bits >= 8) {
        out[pos++] = acc & 0xff;
        acc >>>= 8;
        bits -= 8;
      }
    }
  }
  return out.subarray(0, pos);
}

function rowsOf(data: readonly (ColumnValues | CopiedChunk)[]): number {
  const first = data[0];
  if (first === undefined) return 0;
  return isCopied(first) ? Number(first.meta.num_values) : first.length;
}

function writeByteArray(b: Bytes, s: string): void {
  b.ensure(4 + s.length * 3);
  const n = b.buf.write(s, b.len + 4, 'utf8');
  b.buf.writeUInt32LE(n, b.len);
  b.len += 4 + n;
}

/** A sink collecting bytes in memory (for S3 uploads and tests). */
export class MemorySink implements ByteSink {
  private readonly parts: Uint8Array[] = [];
  private size = 0;
  write(bytes: Uint8Array): void {
    // pages may be views over buffers reused later: copy
    this.parts.push(Buffer.from(bytes));
    this.size += bytes.length;
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.parts, this.size);
  }
}
