/**
 * Runs the benchmarks one after another, each in its own process (so one bench's heap and JIT
 * state do not colour the next). `--smoke` runs each in its short mode: CI calls that after the
 * tests to prove the benches still run; the figures of a smoke run are too short to quote.
 * Names after the flags pick benches by prefix: `npm run bench -- serving`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BENCHES = ['engine.ts', 'runtime.ts', 'serving.ts', 'online.ts', 'training.ts', 'kafka.ts', 'derived.ts'];
const here = fileURLToPath(new URL('.', import.meta.url));
const smoke = process.argv.includes('--smoke');
const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));

let failed = 0;
const rows: Array<{ bench: string; status: string; seconds: string }> = [];
for (const file of BENCHES) {
  if (only.length > 0 && !only.some((o) => file.startsWith(o))) continue;
  const path = here + file;
  if (!existsSync(path)) {
    rows.push({ bench: file, status: 'missing', seconds: '-' });
    failed++;
    continue;
  }
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', path, ...(smoke ? ['--smoke'] : [])], { stdio: 'inherit' });
  const ok = r.status === 0;
  if (!ok) failed++;
  rows.push({ bench: file, status: ok ? 'ok' : `failed (exit ${r.status ?? r.signal})`, seconds: ((Date.now() - t0) / 1000).toFixed(1) });
}
console.table(rows);
process.exit(failed === 0 ? 0 : 1);
