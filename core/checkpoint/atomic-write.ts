import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { WritePhase } from '../contracts/checkpoint-storage.js';

/**
 * Below this size a file is written with synchronous calls: a checkpoint's delta then costs a few
 * milliseconds of the event loop instead of ~10 sequential async round trips, each of which waits
 * behind a batch of ingestion (which made commits take hundreds of ms under load). Larger files
 * (compaction snapshots) are written asynchronously.
 */
export const SYNC_WRITE_LIMIT = 8 << 20;

/** fsyncs a directory so a rename in it is durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Writes `chunks` to `dir/name.tmp`, fsyncs it, renames it to `dir/name` and fsyncs the directory:
 * readers see either the old file or the complete new one. `onPhase` is called at the half-written
 * temp file (`half`) and after the fsync, before the rename (`written`), so crash tests can kill the
 * process there.
 */
export async function writeFileAtomic(
  dir: string,
  name: string,
  chunks: readonly Uint8Array[],
  onPhase?: (p: WritePhase) => void,
  /** Always write asynchronously (background work such as compaction). */
  background = false,
): Promise<number> {
  let total = 0;
  for (const c of chunks) total += c.byteLength;
  if (!background && total <= SYNC_WRITE_LIMIT) return writeFileAtomicSync(dir, name, chunks, onPhase);
  const tmp = join(dir, `${name}.tmp`);
  const fh = await open(tmp, 'w');
  let bytes = 0;
  try {
    const half = Math.floor(chunks.length / 2);
    for (let i = 0; i < chunks.length; i++) {
      if (i === half) onPhase?.('half');
      const c = chunks[i]!;
      let off = 0;
      while (off < c.byteLength) {
        const { bytesWritten } = await fh.write(c, off, c.byteLength - off);
        off += bytesWritten;
      }
      bytes += c.byteLength;
    }
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  onPhase?.('written');
  await rename(tmp, join(dir, name));
  await fsyncDir(dir);
  return bytes;
}

/** The synchronous variant of {@link writeFileAtomic} (same steps, same phases). */
export function writeFileAtomicSync(dir: string, name: string, chunks: readonly Uint8Array[], onPhase?: (p: WritePhase) => void): number {
  const tmp = join(dir, `${name}.tmp`);
  const fd = openSync(tmp, 'w');
  let bytes = 0;
  try {
    const half = Math.floor(chunks.length / 2);
    for (let i = 0; i < chunks.length; i++) {
      if (i === half) onPhase?.('half');
      const c = chunks[i]!;
      let off = 0;
      while (off < c.byteLength) off += writeSync(fd, c, off, c.byteLength - off);
      bytes += c.byteLength;
    }
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw e;
  }
  closeSync(fd);
  onPhase?.('written');
  renameSync(tmp, join(dir, name));
  fsyncDirSync(dir);
  return bytes;
}

export function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
