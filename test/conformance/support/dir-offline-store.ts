import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { OfflineBatch, OfflineStore, StagedFile } from '../../../plugins/sdk/index.js';

/**
 * A directory offline store writing NDJSON files, used to test the offline conformance kit itself.
 * Staged files live under `_staging/`, committed ones under `<table>/cp-<id>-<seq>.ndjson`.
 * `fault` breaks it on purpose: `visible-staging` stages straight at the final path; `keeps-orphans`
 * makes `recover` a no-op; `commit-copies` writes another copy when a file is committed again;
 * `random-names` puts a random suffix in final names (not a function of table, checkpoint and seq);
 * `recover-deletes-committed` makes `recover` also delete committed files of checkpoints after the
 * oldest kept one (as if it cleaned "everything newer than the checkpoint" by name).
 */
export type DirOfflineFault = 'none' | 'visible-staging' | 'keeps-orphans' | 'commit-copies' | 'random-names' | 'recover-deletes-committed';

export class DirOfflineStore implements OfflineStore {
  private copies = 0;
  constructor(private readonly root: string, private readonly fault: DirOfflineFault = 'none') {}

  async open(): Promise<void> {
    mkdirSync(join(this.root, '_staging'), { recursive: true });
  }

  async stage(batch: OfflineBatch, checkpointId: number, seq: number): Promise<StagedFile> {
    const final = this.fault === 'random-names'
      ? `${batch.table}/cp-${checkpointId}-${seq}-${Math.random().toString(36).slice(2, 8)}.ndjson`
      : `${batch.table}/cp-${checkpointId}-${seq}.ndjson`;
    const staged = this.fault === 'visible-staging' ? final : `_staging/${batch.table.replace(/\//g, '__')}-cp-${checkpointId}-${seq}.ndjson`;
    const rows = batch.data[0]?.length ?? 0;
    const lines: string[] = [];
    for (let r = 0; r < rows; r++) lines.push(JSON.stringify(Object.fromEntries(batch.columns.map((c, i) => [c.name, batch.data[i]![r]]))));
    mkdirSync(dirname(join(this.root, staged)), { recursive: true });
    writeFileSync(join(this.root, staged), lines.join('\n') + '\n');
    return { table: batch.table, staged, final, rows };
  }

  async commit(files: readonly StagedFile[]): Promise<void> {
    for (const f of files) {
      const from = join(this.root, f.staged);
      const to = join(this.root, f.final);
      if (!existsSync(from)) {
        // Already committed: a no-op, unless broken on purpose.
        if (this.fault === 'commit-copies' && existsSync(to)) copyFileSync(to, `${to}.again${this.copies++}`);
        continue;
      }
      mkdirSync(dirname(to), { recursive: true });
      renameSync(from, to);
    }
  }

  async recover(keep: readonly StagedFile[]): Promise<void> {
    if (this.fault === 'keeps-orphans') return;
    const keepSet = new Set(keep.map((f) => f.staged));
    if (this.fault === 'recover-deletes-committed') {
      // Deletes every committed file whose name is not a kept one (the bug: committed history is not an orphan).
      const keptFinal = new Set(keep.map((f) => f.final));
      for (const table of new Set(keep.map((f) => f.table))) {
        for (const p of await this.list(table)) if (!keptFinal.has(p)) rmSync(join(this.root, p));
      }
    }
    for (const name of readdirSync(join(this.root, '_staging'))) {
      if (!keepSet.has(`_staging/${name}`)) rmSync(join(this.root, '_staging', name));
    }
  }

  async list(table: string): Promise<readonly string[]> {
    const dir = join(this.root, table);
    if (!existsSync(dir)) return [];
    return readdirSync(dir).map((n) => `${table}/${n}`).sort();
  }

  async close(): Promise<void> {}
}
