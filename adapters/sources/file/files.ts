import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { FenestraError } from '../../../core/errors.js';
import { type FileFormat, formatOf } from './options.js';

export interface DataFile {
  /** The split id: the file's name (unique within the source). */
  readonly id: string;
  readonly path: string;
  readonly format: FileFormat;
}

function globToRegExp(glob: string): RegExp {
  const re = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${re}$`);
}

/** Resolves `path` (file, directory, or glob in the last segment) to data files in name order. */
export async function resolveFiles(path: string, baseDir: string, forced?: FileFormat): Promise<DataFile[]> {
  const abs = isAbsolute(path) ? path : resolve(baseDir, path);
  const name = basename(abs);
  let dir: string;
  let names: string[];
  if (/[*?]/.test(name)) {
    dir = dirname(abs);
    const re = globToRegExp(name);
    names = (await listDir(dir, path)).filter((n) => re.test(n));
  } else {
    const st = await stat(abs).catch(() => null);
    if (!st) throw new FenestraError('CONFIG_INVALID', `file source: ${abs} does not exist`, { path: 'path' });
    if (st.isFile()) {
      const format = formatOf(abs, forced);
      if (!format) throw new FenestraError('CONFIG_INVALID', `file source: cannot tell the format of ${abs}; set \`format\``, { path: 'format' });
      return [{ id: name, path: abs, format }];
    }
    dir = abs;
    names = await listDir(dir, path);
  }
  const out: DataFile[] = [];
  for (const n of names.sort()) {
    const format = formatOf(n, forced);
    if (!format) continue;
    const st = await stat(join(dir, n));
    if (st.isFile()) out.push({ id: n, path: join(dir, n), format });
  }
  if (out.length === 0) throw new FenestraError('CONFIG_INVALID', `file source: no NDJSON, CSV or Parquet files match ${abs}`, { path: 'path' });
  return out;
}

async function listDir(dir: string, configured: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    throw new FenestraError('CONFIG_INVALID', `file source: directory ${dir} (from path "${configured}") cannot be read`, { path: 'path' });
  }
}
