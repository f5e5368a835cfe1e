import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CheckpointStore, RecoveredState } from '../contracts/checkpoint-store.js';
import type { Logger } from '../contracts/logger.js';
import type { SplitClaim, SplitRegistry } from '../contracts/split-registry.js';
import { writeFileAtomic } from './atomic-write.js';
import { FileCheckpointStore } from './file-store.js';
import { nextClaims, parseClaims, validInstanceId } from './split-claims.js';

/**
 * A `SplitRegistry` in a directory every instance can read and write (one host, or a shared
 * filesystem):
 *
 * ```
 * <root>/instances/<instance>/checkpoints/   each instance's FileCheckpointStore
 * <root>/splits/<source>/<split>.json        { "claims": [{ epoch, instance, at }, ...] } newest last
 * ```
 *
 * A claim file is replaced atomically (temp file, fsync, rename, fsync dir). Peers' checkpoints are
 * read with `FileCheckpointStore.peek` (no lock, nothing deleted, retried across compactions).
 */
export class DirectorySplitRegistry implements SplitRegistry {
  constructor(
    private readonly root: string,
    readonly instance: string,
  ) {
    validInstanceId(instance);
  }

  /** The directory of an instance's checkpoint store. */
  checkpointDir(instance: string): string {
    return join(this.root, 'instances', instance, 'checkpoints');
  }

  checkpointLocation(instance: string): string {
    return this.checkpointDir(instance);
  }

  openCheckpointStore(options: { readonly logger?: Logger } = {}): CheckpointStore {
    return new FileCheckpointStore({ dir: this.checkpointDir(this.instance), ...(options.logger ? { logger: options.logger } : {}) });
  }

  private claimFile(source: string, split: string): { dir: string; name: string } {
    return { dir: join(this.root, 'splits', source), name: `${encodeURIComponent(split)}.json` };
  }

  private async claims(source: string, split: string): Promise<SplitClaim[]> {
    const { dir, name } = this.claimFile(source, split);
    let text: string;
    try {
      text = await readFile(join(dir, name), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    return parseClaims(text, join(dir, name));
  }

  async latestClaim(source: string, split: string): Promise<SplitClaim | null> {
    return (await this.claims(source, split)).at(-1) ?? null;
  }

  async claim(source: string, split: string, epoch: number): Promise<void> {
    const next = nextClaims(await this.claims(source, split), source, split, epoch, this.instance);
    if (next === null) return;
    const { dir, name } = this.claimFile(source, split);
    await mkdir(dir, { recursive: true });
    await writeFileAtomic(dir, name, [Buffer.from(JSON.stringify({ claims: next }), 'utf8')]);
  }

  async readCheckpoint(instance: string): Promise<RecoveredState | null> {
    return new FileCheckpointStore({ dir: this.checkpointDir(instance) }).peek();
  }
}
