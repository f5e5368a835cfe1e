/**
 * Reads tables (Parquet, NDJSON) from local files, directories, or `s3://` objects/prefixes into
 * memory, column-wise: what training sets and backfill replay from. Directories and prefixes are
 * read recursively in name order (Hive partitions sort by time), skipping `_staging/`.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { startWorker } from '../../../core/worker-entry.js';
import type { OfflineColumn } from '../../../core/contracts/offline-store.js';
import { FenestraError } from '../../../core/errors.js';
import { concatColumnChunks } from '../../../core/training/columns.js';
import { makeS3Client, S3BlobStore, type S3Options } from './blob-store.js';
import type { ColumnMetaData } from 'hyparquet';
import { openParquetBytes, parquetColumns, type ParquetBytes } from './parquet-reader.js';
import { decodeRowGroups, decodeTransferred, type DecodedRowGroup, type EncodedStrings } from './row-groups.js';

export interface Table {
  readonly rows: number;
  readonly columns: ReadonlyMap<string, ArrayLike<unknown>>;
  readonly types: ReadonlyMap<string, OfflineColumn['type'] | 'unknown'>;
  /** Column names in file order. */
  readonly names: readonly string[];
}

export interface ReadTableOptions {
  readonly baseDir?: string;
  readonly s3?: S3Options;
  /** Columns to read (default: all). Missing ones are an error naming the file. */
  readonly columns?: readonly string[];
  /** Columns that may be missing (read as all-null). */
  readonly optionalColumns?: readonly string[];
  readonly onProgress?: (rowsRead: number) => void;
  /**
   * Decode a Parquet file's row groups on up to this many threads (this one and worker threads;
   * default 1). Pays off for large files with idle cores.
   */
  readonly threads?: number;
}

interface FileRef {
  readonly name: string;
  load(): Promise<Uint8Array>;
}

const TABLE_FILE = /\.(parquet|ndjson|jsonl|json)$/i;

async function localFiles(path: string): Promise<FileRef[]> {
  const st = await stat(path).catch(() => null);
  if (!st) throw new FenestraError('BAD_REQUEST', `input not found: ${path}`, { path: 'input' });
  if (st.isFile()) return [{ name: path, load: () => readFile(path) }];
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const ent of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      if (ent.name === '_staging' || ent.name.startsWith('.')) continue;
      const p = join(dir, ent.name);
      if (ent.isDirectory()) await walk(p);
      else if (TABLE_FILE.test(ent.name)) out.push(p);
    }
  };
  await walk(path);
  return out.map((p) => ({ name: p, load: () => readFile(p) }));
}

async function s3Files(url: string, s3: S3Options): Promise<{ files: FileRef[]; close: () => Promise<void> }> {
  const isObject = TABLE_FILE.test(url);
  const m = /^(s3:\/\/[^/]+)\/?(.*)$/.exec(url)!;
  const store = new S3BlobStore(isObject ? m[1]! : url, makeS3Client(s3));
  if (isObject) return { files: [{ name: url, load: () => store.get(m[2]!) }], close: () => store.close() };
  const keys = (await store.list('')).filter((k) => TABLE_FILE.test(k) && !k.startsWith('_staging/'));
  return { files: keys.map((k) => ({ name: store.url(k), load: () => store.get(k) })), close: () => store.close() };
}

/** Lists the table files behind locations (files, directories, s3:// objects or prefixes). */
export async function resolveInputs(locations: readonly string[], opts: ReadTableOptions = {}): Promise<{ files: FileRef[]; close: () => Promise<void> }> {
  const files: FileRef[] = [];
  const closers: Array<() => Promise<void>> = [];
  for (const loc of locations) {
    if (loc.startsWith('s3://')) {
      const r = await s3Files(loc, opts.s3 ?? {});
      files.push(...r.files);
      closers.push(r.close);
    } else {
      files.push(...(await localFiles(isAbsolute(loc) ? loc : resolve(opts.baseDir ?? process.cwd(), loc))));
    }
  }
  return { files, close: async () => void (await Promise.all(closers.map((c) => c()))) };
}

/** A table file read into memory (Parquet files opened: footer parsed). */
export interface LoadedFile {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly parquet: ParquetBytes | null;
}

/** Loads every file behind `locations` into memory (for callers that reuse the bytes, e.g. to copy column chunks). */
export async function loadFiles(locations: readonly string[], opts: ReadTableOptions = {}): Promise<LoadedFile[]> {
  const { files, close } = await resolveInputs(locations, opts);
  try {
    if (files.length === 0) throw new FenestraError('BAD_REQUEST', `no Parquet or NDJSON files at ${locations.join(', ')}`, { path: 'input' });
    const out: LoadedFile[] = [];
    for (const f of files) {
      const bytes = await f.load();
      out.push({ name: f.name, bytes, parquet: /\.parquet$/i.test(f.name) ? openParquetBytes(bytes) : null });
    }
    return out;
  } finally {
    await close();
  }
}

/** Reads every file behind `locations` into one table (one file in memory at a time). */
export async function readTable(locations: readonly string[], opts: ReadTableOptions = {}): Promise<Table> {
  const { files, close } = await resolveInputs(locations, opts);
  try {
    if (files.length === 0) throw new FenestraError('BAD_REQUEST', `no Parquet or NDJSON files at ${locations.join(', ')}`, { path: 'input' });
    const b = new TableBuilder(opts);
    for (const f of files) {
      const bytes = await f.load();
      await b.add({ name: f.name, bytes, parquet: /\.parquet$/i.test(f.name) ? openParquetBytes(bytes) : null });
    }
    return b.finish();
  } finally {
    await close();
  }
}

/** Reads loaded files into one table. */
export async function readLoaded(files: readonly LoadedFile[], opts: ReadTableOptions = {}): Promise<Table> {
  const b = new TableBuilder(opts);
  for (const f of files) await b.add(f);
  return b.finish();
}

/** Concatenates the columns of table files, in order. */
class TableBuilder {
  private readonly chunks = new Map<string, ArrayLike<unknown>[]>();
  private readonly types = new Map<string, OfflineColumn['type'] | 'unknown'>();
  private names: string[] | null;
  private rows = 0;

  constructor(private readonly opts: ReadTableOptions) {
    this.names = opts.columns ? [...opts.columns] : null;
  }

  async add(f: LoadedFile): Promise<void> {
    const opts = this.opts;
    if (f.parquet) {
      const pq = f.parquet;
      const cols = parquetColumns(pq.metadata);
      const present = new Set(cols.map((c) => c.name));
      for (const c of cols) if (!this.types.has(c.name)) this.types.set(c.name, c.type);
      const names = (this.names ??= cols.map((c) => c.name));
      const want = names.filter((n) => present.has(n));
      for (const n of names) {
        if (!present.has(n) && !opts.optionalColumns?.includes(n)) {
          throw new FenestraError('BAD_REQUEST', `column "${n}" not found in ${f.name} (it has: ${cols.map((c) => c.name).join(', ')})`, { path: n });
        }
      }
      const groups = pq.metadata.row_groups.length;
      const parts = Math.max(1, Math.min(opts.threads ?? 1, groups));
      const bounds = Array.from({ length: parts + 1 }, (_, p) => Math.round((p * groups) / parts));
      const shared = parts > 1 ? sharedCopy(f.bytes) : null;
      const remote = bounds.slice(1, -1).map((from, p) => decodeInWorker(shared!, from, bounds[p + 2]!, want));
      for (const r of remote) r.catch(() => undefined); // awaited below; no unhandled rejection meanwhile
      const add = (rg: DecodedRowGroup) => {
        for (const n of names) this.push(n, rg.columns.get(n) ?? new Array(rg.rows).fill(null));
        this.rows += rg.rows;
        opts.onProgress?.(this.rows);
      };
      await decodeRowGroups(pq, 0, bounds[1]!, want, add);
      for (const r of remote) for (const rg of await r) add(rg);
    } else {
      // Column-wise as lines are parsed (no object kept per row). Without `columns`, every key of any
      // line is a column (null where a line leaves it out, and in the rows of earlier files); a
      // requested column that no line of the file has is an error, as for Parquet.
      const infer = opts.columns === undefined;
      const names = (this.names ??= []);
      const index = new Map(names.map((name, c) => [name, c]));
      const cols: unknown[][] = names.map(() => []);
      const present: boolean[] = names.map(() => false);
      let n = 0;
      forEachLine(f.bytes, (line, lineNo) => {
        if (line.trim() === '') return;
        let o: Record<string, unknown>;
        try {
          o = JSON.parse(line) as Record<string, unknown>;
        } catch {
          throw new FenestraError('EVENT_MALFORMED', `${f.name}:${lineNo}: not a JSON object`, { path: `${f.name}:${lineNo}` });
        }
        if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new FenestraError('EVENT_MALFORMED', `${f.name}:${lineNo}: not a JSON object`, { path: `${f.name}:${lineNo}` });
        if (infer) {
          for (const k in o) {
            if (index.has(k)) continue;
            index.set(k, names.length);
            names.push(k);
            cols.push(new Array<unknown>(n).fill(null));
            present.push(false);
            if (this.rows > 0) this.push(k, new Array<unknown>(this.rows).fill(null));
          }
        }
        for (let c = 0; c < names.length; c++) {
          const v = o[names[c]!];
          if (v === undefined) cols[c]!.push(null);
          else {
            cols[c]!.push(v);
            present[c] = true;
          }
        }
        n++;
      });
      if (n > 0 && !infer) {
        const missing = names.find((name, c) => !present[c] && !opts.optionalColumns?.includes(name));
        if (missing !== undefined) throw new FenestraError('BAD_REQUEST', `column "${missing}" not found in ${f.name} (no line has it)`, { path: missing });
      }
      for (let c = 0; c < names.length; c++) {
        const name = names[c]!;
        if (!this.types.has(name)) this.types.set(name, 'unknown');
        this.push(name, cols[c]!);
      }
      this.rows += n;
      opts.onProgress?.(this.rows);
    }
  }

  private push(name: string, data: ArrayLike<unknown>): void {
    let list = this.chunks.get(name);
    if (!list) this.chunks.set(name, (list = []));
    list.push(data);
  }

  finish(): Table {
    const columns = new Map<string, ArrayLike<unknown>>();
    for (const n of this.names ?? []) columns.set(n, concatColumnChunks(this.chunks.get(n) ?? [], this.rows));
    return { rows: this.rows, columns, types: this.types, names: this.names ?? [] };
  }
}

function sharedCopy(bytes: Uint8Array): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(bytes.byteLength);
  new Uint8Array(sab).set(bytes);
  return sab;
}

/** Row groups [from, to) of the file in `bytes` decoded on a worker thread (decode-worker.ts). */
function decodeInWorker(bytes: SharedArrayBuffer, from: number, to: number, want: readonly string[]): Promise<DecodedRowGroup[]> {
  return new Promise((resolve, reject) => {
    const w = startWorker('decode-worker', import.meta.url, { workerData: { bytes, from, to, want: [...want] } });
    w.once('message', (m: { ok: true; groups: Array<{ rows: number; columns: Record<string, ArrayLike<unknown> | EncodedStrings> }> } | { ok: false; message: string }) => {
      void w.terminate();
      if (!m.ok) return reject(new FenestraError('BAD_REQUEST', `parquet decode (worker): ${m.message}`));
      resolve(m.groups.map((g) => ({ rows: g.rows, columns: new Map(Object.entries(g.columns).map(([n, c]) => [n, decodeTransferred(c)])) })));
    });
    w.once('error', reject);
  });
}

/** Where column `name`'s chunk of row group `rg` lies in a Parquet file (undefined when it cannot be copied as stored). */
export function columnChunkOf(file: LoadedFile, rg: number, name: string): { bytes: Uint8Array; meta: ColumnMetaData; sourceOffset: number } | undefined {
  const group = file.parquet?.metadata.row_groups[rg];
  const chunk = group?.columns.find((c) => c.meta_data?.path_in_schema.length === 1 && c.meta_data.path_in_schema[0] === name);
  const meta = chunk?.meta_data;
  if (!chunk || !meta || chunk.file_path) return undefined;
  const data = meta.data_page_offset;
  const dict = meta.dictionary_page_offset;
  const start = Number(dict !== undefined && dict > 0n && dict < data ? dict : data);
  const end = start + Number(meta.total_compressed_size);
  if (start < 4 || end > file.bytes.length) return undefined;
  return { bytes: file.bytes.subarray(start, end), meta, sourceOffset: start };
}

/** Calls `fn` for every line of UTF-8 `bytes`, decoding in blocks (files may exceed V8's string limit). */
function forEachLine(bytes: Uint8Array, fn: (line: string, lineNo: number) => void): void {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const block = 16 << 20;
  let start = 0;
  let lineNo = 0;
  while (start < buf.length) {
    let end = Math.min(buf.length, start + block);
    if (end < buf.length) {
      const nl = buf.indexOf(10, end);
      end = nl < 0 ? buf.length : nl + 1;
    }
    const text = buf.toString('utf8', start, end);
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    for (const line of lines) fn(line, ++lineNo);
    start = end;
  }
}

