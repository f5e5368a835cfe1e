/**
 * Offline exactly-once through crashes: a real engine process replays a generated transaction
 * file (file source) and writes its history to the parquet offline store (raw/<source> and
 * feature/<group>, staged with each checkpoint, committed after it), while this test SIGKILLs it at
 * random moments at least 10 times and restarts it on the same state. Afterwards DuckDB finds every
 * event's row exactly once in both tables, no staged file left behind, and the feature rows equal
 * the training set's values for the same transactions.
 *
 * Run twice: with the offline store on a local directory, and on S3 (s3rver, started here; the engine
 * child talks to it over HTTP like to any S3 endpoint). For S3, the committed objects are listed and
 * downloaded with the AWS SDK (keeping their Hive-partitioned keys) and DuckDB reads the downloaded
 * files — DuckDB's httpfs extension would need a download of its own, which this offline machine
 * cannot make.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { GetObjectCommand, ListObjectsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { runGenData } from '../../../cli/commands/gen-data.js';
import { runTrainingSet } from '../../../cli/commands/training-set.js';
import { loadConfig } from '../../../config/load.js';
import { Prng } from '../../../core/datagen/prng.js';
import { startS3rver, type S3rverHandle } from '../../services/s3rver.js';
import { lit, openDuck } from './duckdb.js';

const root = mkdtempSync(join(tmpdir(), 'fenestra-offline-crash-'));
const children = new Set<ChildProcess>();
let s3: S3rverHandle | undefined;
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await s3?.stop();
  rmSync(root, { recursive: true, force: true });
});

const CHILD = join(__dirname, 'offline-engine-child.ts');

function configYaml(data: string, offline: string): string {
  return `
state: { dir: ./state, checkpointInterval: 25ms }
entities: { card: { key: cc_num } }
sources:
  transactions:
    type: file
    path: ${data}
    entity: card
    eventTime: { field: trans_time }
    schema: { tid: long, cc_num: string, trans_time: timestamp, amount: double, merchant: string }
featureGroups:
  cc_agg:
    source: transactions
    features:
      num_trans_last_10m: { agg: count, window: 10m }
      avg_amt_last_10m:   { agg: avg, field: amount, window: 10m }
      num_trans_last_1w:  { agg: count, window: 7d }
    derived:
      amt_ratio: { expr: "request.amount / avg_amt_last_10m" }
offline: ${offline}
`;
}

/** Runs the child until `DONE` or until killed `killAfterMs` after READY; resolves with how it ended. */
function runChild(config: string, killAfterMs: number | null): Promise<'done' | 'killed'> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, config], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    let err = '';
    let killed = false;
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (killAfterMs !== null && !killed && out.includes('READY')) {
        killed = true;
        setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code, signal) => {
      children.delete(child);
      if (out.includes('DONE') && code === 0) resolve('done');
      else if (signal === 'SIGKILL') resolve('killed');
      else reject(new Error(`engine child failed (code ${code}, signal ${signal}):\n${err}\n${out}`));
    });
  });
}

/**
 * Where the run's committed history ends up for DuckDB: a local directory holding raw/ and feature/,
 * and the staged parquet files still present (there must be none).
 */
interface Collected {
  readonly offline: string;
  readonly staged: readonly string[];
}

/** Runs the crash loop on `offline` (a YAML flow mapping) and checks the committed history with DuckDB. */
async function crashRun(name: string, offline: (dir: string) => string, collect: (dir: string) => Promise<Collected>): Promise<void> {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const data = join(dir, 'tx.ndjson');
  const gen = await runGenData({ out: data, format: 'ndjson', cards: 60, months: 1, seed: 5, fraudRate: 0.01, start: Date.UTC(2022, 0, 1), quiet: true });
  const config = join(dir, 'fenestra.yaml');
  writeFileSync(config, configYaml(data, offline(dir)));

  const rng = new Prng(17);
  let kills = 0;
  let done = false;
  for (let attempt = 0; attempt < 40 && !done; attempt++) {
    const killAt = kills < 12 ? 40 + rng.int(400) : null;
    const how = await runChild(config, killAt);
    if (how === 'killed') kills++;
    else done = true;
  }
  expect(kills).toBeGreaterThanOrEqual(10);
  expect(done).toBe(true);

  const { offline: history, staged } = await collect(dir);
  expect(staged).toEqual([]);
  const duck = await openDuck();
  try {
    const raw = lit(join(history, 'raw', 'transactions', '*', '*', '*.parquet'));
    const feat = lit(join(history, 'feature', 'cc_agg', '*', '*', '*.parquet'));
    const [r] = await duck.rows(`SELECT count(*)::INTEGER AS n, count(DISTINCT tid)::INTEGER AS d, min(tid)::INTEGER AS lo, max(tid)::INTEGER AS hi FROM read_parquet(${raw})`);
    expect(r).toEqual({ n: gen.rows, d: gen.rows, lo: 1, hi: gen.rows });
    const [f] = await duck.rows(`SELECT count(*)::INTEGER AS n, count(DISTINCT (cc_num, _version))::INTEGER AS d FROM read_parquet(${feat})`);
    expect(f).toEqual({ n: gen.rows, d: gen.rows });
    // every raw row sits in the partition of its event time
    const [p] = await duck.rows(`SELECT count_if(hour::INTEGER <> extract(hour FROM trans_time) OR date::DATE <> trans_time::DATE)::INTEGER AS bad FROM read_parquet(${raw}, hive_partitioning = true)`);
    expect(p!.bad).toBe(0);

    // feature rows (written by the streaming engine) = training set (replay) for the same transactions
    const spec = await loadConfig(config);
    const train = join(dir, 'train.parquet');
    await runTrainingSet({ spec, labels: data, input: [data], features: 'cc_agg:*', out: train, quiet: true });
    const [m] = await duck.rows(`
      SELECT count(*)::INTEGER AS n,
             count_if(t.num_trans_last_10m IS DISTINCT FROM f.num_trans_last_10m OR t.num_trans_last_1w IS DISTINCT FROM f.num_trans_last_1w
                      OR abs(t.avg_amt_last_10m - f.avg_amt_last_10m) > 1e-9 OR abs(t.amt_ratio - f.amt_ratio) > 1e-9)::INTEGER AS bad
      FROM read_parquet(${lit(train)}) t
      JOIN (SELECT r.tid, f.* FROM read_parquet(${raw}) r JOIN read_parquet(${feat}) f ON r.cc_num = f.cc_num AND r._version = f._version) f USING (tid)`);
    expect(m).toEqual({ n: gen.rows, bad: 0 });
  } finally {
    duck.close();
  }
}

describe('offline history is exactly-once through SIGKILLs', () => {
  it('local directory: every event once in raw/ and feature/ after >= 10 kills (DuckDB)', async () => {
    await crashRun('local', () => '{ type: parquet, path: ./offline }', async (dir) => {
      const offline = join(dir, 'offline');
      const stagedDir = join(offline, '_staging');
      const staged = existsSync(stagedDir) ? readdirSync(stagedDir, { recursive: true }).map(String).filter((f) => f.endsWith('.parquet')) : [];
      return { offline, staged };
    });
  }, 240_000);

  it('S3 (s3rver): every event once in raw/ and feature/ after >= 10 kills (DuckDB on the downloaded objects)', async () => {
    const bucket = 'fenestra-offline';
    s3 = await startS3rver({ buckets: [bucket] });
    const client = new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
    const prefix = 'crash-run';
    try {
      await crashRun('s3', () => `{ type: parquet, path: "s3://${bucket}/${prefix}/", s3: { endpoint: "${s3!.endpoint}", region: ${s3!.region}, forcePathStyle: true, accessKeyId: ${s3!.accessKeyId}, secretAccessKey: ${s3!.secretAccessKey} } }`, async (dir) => {
        // ListObjects (v1) paged by Marker: s3rver 3.7.1 builds v2 continuation tokens with DES, which
        // OpenSSL 3 (Node >= 17) refuses, so a v2 listing of more than 1000 keys fails there.
        const keys: string[] = [];
        let marker: string | undefined;
        for (;;) {
          const page = await client.send(new ListObjectsCommand({ Bucket: bucket, Prefix: `${prefix}/`, ...(marker === undefined ? {} : { Marker: marker }) }));
          for (const o of page.Contents ?? []) keys.push(o.Key!);
          if (!page.IsTruncated || (page.Contents ?? []).length === 0) break;
          marker = page.Contents![page.Contents!.length - 1]!.Key!;
        }
        const rel = keys.map((k) => k.slice(prefix.length + 1));
        const staged = rel.filter((k) => k.startsWith('_staging/') && k.endsWith('.parquet'));
        const committed = rel.filter((k) => (k.startsWith('raw/') || k.startsWith('feature/')) && k.endsWith('.parquet'));
        expect(committed.length).toBeGreaterThan(0);
        const offline = join(dir, 'downloaded');
        for (const k of committed) {
          const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}/${k}` }));
          const to = join(offline, ...k.split('/'));
          mkdirSync(dirname(to), { recursive: true });
          writeFileSync(to, await res.Body!.transformToByteArray());
        }
        return { offline, staged };
      });
    } finally {
      client.destroy();
    }
  }, 480_000);
});
