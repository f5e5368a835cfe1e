/**
 * Offline benchmark: the training set for the `gen-data` dataset (default: 10,000 cards, 5 months,
 * ~5.4M transactions; Parquet in, Parquet out) beside DuckDB's window-function query on the same
 * file in the same run (COUNT/AVG OVER 10 minutes and 7 days, PARTITION BY cc_num, 2 threads,
 * Parquet out), plus gen-data and backfill throughput. Prints JSON and a table; writes
 * bench/results/training.json. `--smoke`: a small dataset (300 cards, 1 month).
 *
 *   node --expose-gc --import tsx bench/training.ts [--smoke] [--cards N --months N] [--threads N] [--skip-backfill] [--full-service]
 *
 * `--threads N`: decode and replay threads of the training sets (default 1; DuckDB runs on 2). The load average
 * before and after each measurement is recorded (the machine is shared).
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config/load.js';
import { runBackfill } from '../cli/commands/backfill.js';
import { runGenData } from '../cli/commands/gen-data.js';
import { runTrainingSet } from '../cli/commands/training-set.js';
import { DEFAULT_GEN_OPTIONS } from '../core/datagen/transactions.js';
import type { EngineSpec } from '../core/model.js';

const args = process.argv.slice(2);
const smoke = args.includes('--smoke');
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const cards = Number(flag('--cards') ?? (smoke ? 300 : DEFAULT_GEN_OPTIONS.cards));
const months = Number(flag('--months') ?? (smoke ? 1 : DEFAULT_GEN_OPTIONS.months));
const root = fileURLToPath(new URL('..', import.meta.url));
const dir = join(root, 'tmp', 'bench-training', `${cards}x${months}`);
mkdirSync(dir, { recursive: true });
const data = join(dir, 'tx.parquet');

const threads = Number(flag('--threads') ?? 1);
const load = () => loadavg().map((x) => Number(x.toFixed(2)));
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

const FOUR = 'cc_agg:num_trans_last_10m,cc_agg:avg_amt_last_10m,cc_agg:num_trans_last_1w,cc_agg:avg_amt_last_1w';

async function main(): Promise<void> {
  // 1. dataset (kept between runs: same seed, same bytes)
  let gen: { rows: number; seconds: number; rowsPerSecond: number; reused: boolean };
  const meta = join(dir, 'tx.json');
  if (existsSync(data) && existsSync(meta)) {
    gen = { ...(JSON.parse(readFileSync(meta, 'utf8')) as { rows: number; seconds: number; rowsPerSecond: number }), reused: true };
  } else {
    const r = await runGenData({ ...DEFAULT_GEN_OPTIONS, cards, months, out: data, format: 'parquet', quiet: true });
    gen = { rows: r.rows, seconds: r.seconds, rowsPerSecond: r.rowsPerSecond, reused: false };
    writeFileSync(meta, JSON.stringify(gen));
  }
  const mb = statSync(data).size / 1e6;

  // 2. DuckDB baseline: the same 4 windows, Parquet in, Parquet out, 2 threads
  const duckOut = join(dir, 'duckdb-out.parquet');
  const db = await DuckDBInstance.create(':memory:', { threads: '2' });
  const con = await db.connect();
  const sql = `COPY (
      SELECT *, count(*) OVER w10 AS num_trans_last_10m, avg(amount) OVER w10 AS avg_amt_last_10m,
                count(*) OVER w7 AS num_trans_last_1w, avg(amount) OVER w7 AS avg_amt_last_1w
      FROM read_parquet('${data}')
      WINDOW w10 AS (PARTITION BY cc_num ORDER BY trans_time RANGE BETWEEN INTERVAL 10 MINUTES PRECEDING AND CURRENT ROW),
             w7 AS (PARTITION BY cc_num ORDER BY trans_time RANGE BETWEEN INTERVAL 7 DAYS PRECEDING AND CURRENT ROW)
    ) TO '${duckOut}' (FORMAT parquet)`;
  gc();
  const duckLoad = load();
  const d0 = performance.now();
  await con.run(sql);
  const duckSeconds = (performance.now() - d0) / 1000;
  const duckLoadAfter = load();
  con.closeSync();
  db.closeSync();

  // 3. training sets (same file as labels and history)
  const spec: EngineSpec = await loadConfig(join(root, 'config', 'examples', 'fraud.yaml'));
  gc();
  const fourLoad = load();
  const four = await runTrainingSet({ spec, labels: data, input: [data], features: FOUR, out: join(dir, 'train-4.parquet'), quiet: true, threads });
  const fourLoadAfter = load();
  const full = args.includes('--full-service') || smoke
    ? await runTrainingSet({ spec, labels: data, input: [data], features: 'fraud_model', out: join(dir, 'train-fraud_model.parquet'), quiet: true, threads })
    : null;

  // 4. backfill through the engine (embedded online store: the engine's own state)
  let backfill: Awaited<ReturnType<typeof runBackfill>> | null = null;
  if (!args.includes('--skip-backfill')) {
    const stateDir = join(dir, 'state');
    rmSync(stateDir, { recursive: true, force: true });
    const bspec: EngineSpec = { ...spec, state: { ...spec.state, dir: stateDir }, deadLetters: { path: join(stateDir, 'dead-letters.ndjson') } };
    backfill = await runBackfill({ spec: bspec, from: 0, to: 8.64e15, input: [data], quiet: true });
  }

  const result = {
    bench: 'training',
    smoke,
    dataset: { cards, months, rows: gen.rows, parquetMB: Number(mb.toFixed(1)), genData: { seconds: gen.seconds, rowsPerSecond: Math.round(gen.rowsPerSecond), reused: gen.reused } },
    duckdb: { seconds: duckSeconds, threads: 2, windows: 4, loadavg: { before: duckLoad, after: duckLoadAfter } },
    trainingSet4: { ...four.seconds, threads, rowsPerSecond: Math.round(four.labelsPerSecond), vsDuckdb: Number((four.seconds.total / duckSeconds).toFixed(2)), loadavg: { before: fourLoad, after: fourLoadAfter } },
    trainingSetFraudModel: full ? { ...full.seconds, rowsPerSecond: Math.round(full.labelsPerSecond) } : null,
    backfill: backfill ? { seconds: backfill.seconds, eventsPerSecond: Math.round(backfill.eventsPerSecond), eventsApplied: backfill.eventsApplied, entities: backfill.entities, checkpoints: backfill.checkpoints } : null,
  };
  console.log(JSON.stringify(result, null, 2));
  console.table([
    { what: `gen-data (${gen.rows} rows${gen.reused ? ', cached' : ''})`, seconds: gen.seconds.toFixed(2), 'rows/s': Math.round(gen.rowsPerSecond) },
    { what: 'DuckDB 4 windows → Parquet (baseline)', seconds: duckSeconds.toFixed(2), 'rows/s': Math.round(gen.rows / duckSeconds) },
    { what: 'training-set 4 windows → Parquet', seconds: four.seconds.total.toFixed(2), 'rows/s': Math.round(four.labelsPerSecond) },
    { what: '  read / replay / write', seconds: `${four.seconds.read.toFixed(2)} / ${four.seconds.join.toFixed(2)} / ${four.seconds.write.toFixed(2)}`, 'rows/s': '' },
    ...(full ? [{ what: 'training-set fraud_model (5 aggs + 3 derived)', seconds: full.seconds.total.toFixed(2), 'rows/s': Math.round(full.labelsPerSecond) }] : []),
    ...(backfill ? [{ what: 'backfill (engine, checkpoints)', seconds: backfill.seconds.toFixed(2), 'rows/s': Math.round(backfill.eventsPerSecond) }] : []),
  ]);
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(join(root, 'bench', 'results', smoke ? 'training-smoke.json' : 'training.json'), JSON.stringify(result, null, 2));
}

await main();
