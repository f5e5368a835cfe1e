import { linkSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConformanceEvent, SourceCheckpointFixture, SourceConformanceContext } from '../../../plugins/testkit/index.js';
import { testLogger } from '../../../plugins/testkit/index.js';
import filePlugin from '../../../adapters/sources/file/index.js';
import { ENGINE_VERSION } from '../../../core/version.js';
import type { Source } from '../../../plugins/sdk/index.js';

/**
 * Kit context for the built-in `file` source: each split index is an NDJSON file `split-<i>.ndjson`
 * (one JSON object per line, written exactly as `JSON.stringify(event)` so byte positions are
 * stable for stored fixtures). Instance i of n reads a directory holding hard links to the files
 * with index % n === i, so split ids (file names) are the same whatever the instance count.
 */
export function fileSourceContext(fixtures: () => readonly SourceCheckpointFixture[], version: string): SourceConformanceContext & { cleanup(): void } {
  const root = mkdtempSync(join(tmpdir(), 'fenestra-kit-file-'));
  const splits = 3;
  return {
    splits,
    bounded: true,
    get fixtures() {
      return fixtures();
    },
    version,
    timeoutMs: 10_000,
    async writeData(caseId: string, events: readonly ConformanceEvent[]) {
      const dir = join(root, caseId);
      mkdirSync(join(dir, 'all'), { recursive: true });
      const lines: string[][] = Array.from({ length: splits }, () => []);
      for (const e of [...events].sort((a, b) => a.seq - b.seq)) lines[e.split]!.push(JSON.stringify(e));
      lines.forEach((l, i) => writeFileSync(join(dir, 'all', `split-${i}.ndjson`), l.map((x) => `${x}\n`).join('')));
      return dir;
    },
    async createSource(dataset, { instance, instances }): Promise<Source> {
      const dir = dataset as string;
      const mine = join(dir, `of-${instances}-${instance}`);
      mkdirSync(mine, { recursive: true });
      for (let i = 0; i < splits; i++) {
        if (i % instances !== instance) continue;
        try { linkSync(join(dir, 'all', `split-${i}.ndjson`), join(mine, `split-${i}.ndjson`)); } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
      }
      if (filePlugin.kind !== 'source') throw new Error('file plugin is not a source');
      return filePlugin.create({ path: mine, format: 'ndjson' }, { logger: testLogger(), baseDir: dir, engineVersion: ENGINE_VERSION });
    },
    cleanup() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}
