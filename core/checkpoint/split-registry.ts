import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RecoveredState } from '../contracts/checkpoint-store.js';
import type { SplitClaim, SplitRegistry } from '../contracts/split-registry.js';
import { FenestraError } from '../errors.js';
import { writeFileAtomic } from './atomic-write.js';
import { FileCheckpointStore } from './file-store.js';

/** Claims kept per split (older ones are dropped; only the newest is ever consulted). */
const KEEP_CLAIMS = 32;

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
    if (!/^[A-Za-z0-9_.-]+$/.test(instance)) {
      throw new FenestraError('CONFIG_INVALID', `state.instanceId "${instance}" may hold only letters, digits, "_", "." and "-"`, { path: 'state.instanceId' });
    }
  }

  checkpointDir(instance: string): string {
    return join(this.root, 'instances', instance, 'checkpoints');
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
    try {
      const parsed = JSON.parse(text) as { claims?: unknown };
      if (!Array.isArray(parsed.claims)) throw new Error('no "claims" array');
      return parsed.claims as SplitClaim[];
    } catch (e) {
      throw new FenestraError('CHECKPOINT_CORRUPT', `split claim file ${join(dir, name)} is unreadable: ${(e as Error).message}`, { path: join(dir, name) });
    }
  }

  async latestClaim(source: string, split: string): Promise<SplitClaim | null> {
    return (await this.claims(source, split)).at(-1) ?? null;
  }

  async claim(source: string, split: string, epoch: number): Promise<void> {
    const list = await this.claims(source, split);
    const last = list.at(-1);
    if (last && last.epoch === epoch && last.instance === this.instance) return;
    if (last && last.epoch >= epoch) {
      throw new FenestraError('SPLIT_HANDOFF_FAILED', `split ${source}/${split}: cannot claim epoch ${epoch}, instance "${last.instance}" already claimed epoch ${last.epoch}`, {
        path: `${source}/${split}`,
      });
    }
    const next = [...list, { epoch, instance: this.instance, at: Date.now() }].slice(-KEEP_CLAIMS);
    const { dir, name } = this.claimFile(source, split);
    await mkdir(dir, { recursive: true });
    await writeFileAtomic(dir, name, [Buffer.from(JSON.stringify({ claims: next }), 'utf8')]);
  }

  async readCheckpoint(instance: string): Promise<RecoveredState | null> {
    return new FileCheckpointStore({ dir: this.checkpointDir(instance) }).peek();
  }
}
