import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { AtomicWriteOptions, CheckpointStorage, WriterGuard } from '../contracts/checkpoint-storage.js';
import { writeFileAtomic } from './atomic-write.js';
import { acquireDirLock } from './dir-lock.js';

/**
 * `CheckpointStorage` in a local directory (or a shared filesystem). `writeAtomic` writes
 * `<name>.tmp`, fsyncs it, renames it over `<name>` and fsyncs the directory (files up to 8 MiB with
 * synchronous calls unless `background`: core/checkpoint/atomic-write.ts); a crash leaves at most a
 * `.tmp` file, which the store deletes on recovery. The one writer holds the directory's `LOCK` file
 * (its pid; core/checkpoint/dir-lock.ts): STATE_LOCKED while another live process holds it.
 */
export class DirectoryCheckpointStorage implements CheckpointStorage {
  private created = false;

  constructor(readonly location: string) {}

  describe(name: string): string {
    return join(this.location, name);
  }

  async read(name: string): Promise<Buffer | null> {
    try {
      return await readFile(join(this.location, name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  async writeAtomic(name: string, chunks: readonly Uint8Array[], opts: AtomicWriteOptions = {}): Promise<number> {
    if (!this.created) {
      await mkdir(this.location, { recursive: true }); // a claim directory may not exist yet
      this.created = true;
    }
    return writeFileAtomic(this.location, name, chunks, opts.onPhase, opts.background ?? false);
  }

  async list(): Promise<string[]> {
    try {
      return (await readdir(this.location)).sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }

  async remove(name: string): Promise<void> {
    await unlink(join(this.location, name)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }

  async acquireWriter(): Promise<WriterGuard> {
    await mkdir(this.location, { recursive: true });
    let unlock: (() => void) | null = acquireDirLock(this.location);
    return {
      release: async () => {
        unlock?.();
        unlock = null;
      },
    };
  }
}
