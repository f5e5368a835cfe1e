/**
 * Reads tables (Parquet, NDJSON) from local files, directories, or `s3://` objects/prefixes into
 * memory, column-wise: what training sets and backfill replay from. Directories and prefixes are
 * read recursively in name order (Hive partitions sort by time), skipping `_staging/`.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import type { OfflineColumn } from '../../../core/contracts/offline-store.js';
import { FenestraError } from '../../../core/errors.js';
import { makeS3Client, S3BlobStore, type S3Options } from './blob-store.js';
import { openParquetBytes, parquetColumns, readRowGroups } from './parquet-reader.js';

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

/** Reads every file behind `locations` into one table. */
export async function readTable(locations: readonly string[], opts: ReadTableOptions = {}): Promise<Table> {
  const { files, close } = await resolveInputs(locations, opts);
  try {
    if (files.length === 0) throw new FenestraError('BAD_REQUEST', `no Parquet or NDJSON files at ${locations.join(', ')}`, { path: 'input' });
    const chunks = new Map<string, ArrayLike<unknown>[]>();
    const types = new Map<string, OfflineColumn['type'] | 'unknown'>();
    let names: string[] | null = opts.columns ? [...opts.columns] : null;
    let rows = 0;
    for (const f of files) {
      const bytes = await f.load();
      if (/\.parquet$/i.test(f.name)) {
        const pq = openParquetBytes(bytes);
        const cols = parquetColumns(pq.metadata);
        const present = new Set(cols.map((c) => c.name));
        for (const c of cols) if (!types.has(c.name)) types.set(c.name, c.type);
        if (!names) names = cols.map((c) => c.name);
        const want = names.filter((n) => present.has(n));
        for (const n of names) {
          if (!present.has(n) && !opts.optionalColumns?.includes(n)) {
            throw new FenestraError('BAD_REQUEST', `column "${n}" not found in ${f.name} (it has: ${cols.map((c) => c.name).join(', ')})`, { path: n });
          }
        }
        await readRowGroups(pq, want, (rg) => {
          for (const n of names!) push(chunks, n, rg.columns.get(n) ?? new Array(rg.rows).fill(null));
          rows += rg.rows;
          opts.onProgress?.(rows);
        });
      } else {
        // column-wise as lines are parsed (no object kept per row)
        let cols: unknown[][] | null = null;
        let n = 0;
        forEachLine(bytes, (line, lineNo) => {
          if (line.trim() === '') return;
          let o: Record<string, unknown>;
          try {
            o = JSON.parse(line) as Record<string, unknown>;
          } catch {
            throw new FenestraError('EVENT_MALFORMED', `${f.name}:${lineNo}: not a JSON object`, { path: `${f.name}:${lineNo}` });
          }
          if (o === null || typeof o !== 'object') throw new FenestraError('EVENT_MALFORMED', `${f.name}:${lineNo}: not a JSON object`, { path: `${f.name}:${lineNo}` });
          if (!names) names = Object.keys(o);
          if (!cols) cols = names.map(() => []);
          for (let c = 0; c < names.length; c++) cols[c]!.push(o[names[c]!] ?? null);
          n++;
        });
        for (let c = 0; c < (names ?? []).length; c++) {
          const name = names![c]!;
          if (!types.has(name)) types.set(name, 'unknown');
          push(chunks, name, cols ? cols[c]! : []);
        }
        rows += n;
        opts.onProgress?.(rows);
      }
    }
    const columns = new Map<string, ArrayLike<unknown>>();
    for (const n of names ?? []) columns.set(n, concatChunks(chunks.get(n) ?? [], rows));
    return { rows, columns, types, names: names ?? [] };
  } finally {
    await close();
  }
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

function push(chunks: Map<string, ArrayLike<unknown>[]>, name: string, data: ArrayLike<unknown>): void {
  let list = chunks.get(name);
  if (!list) chunks.set(name, (list = []));
  list.push(data);
}

function concatChunks(parts: ArrayLike<unknown>[], rows: number): ArrayLike<unknown> {
  if (parts.length === 1 && parts[0]!.length === rows) return parts[0]!;
  const out = new Array<unknown>(rows);
  let off = 0;
  for (const p of parts) {
    for (let i = 0; i < p.length; i++) out[off + i] = p[i];
    off += p.length;
  }
  return out;
}
