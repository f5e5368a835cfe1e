/**
 * The `parquet` offline store against a real local directory and a real S3-compatible server
 * (s3rver), cross-checked with DuckDB: staged files are invisible until committed, commit is
 * idempotent, a crash (SIGKILL of a real child) between stage and commit is recovered with the
 * orphans removed, and DuckDB reads every committed file with timestamps as TIMESTAMP.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OfflineBatch, StagedFile } from '../../../core/contracts/offline-store.js';
import { createParquetStore, type ParquetOfflineStore } from '../../../adapters/offline/parquet/index.js';
import { startS3rver, type S3rverHandle } from '../../services/s3rver.js';
import { lit, openDuck, type Duck } from './duckdb.js';

const BUCKET = 'offline-test';
let s3: S3rverHandle;
let duck: Duck;
const tmp = mkdtempSync(join(tmpdir(), 'fenestra-offline-'));

beforeAll(async () => {
  s3 = await startS3rver({ buckets: [BUCKET] });
  duck = await openDuck();
});
afterAll(async () => {
  duck?.close();
  await s3?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

interface Target {
  readonly name: string;
  config(location: string): { path: string; s3?: Record<string, unknown> };
}

const targets: Target[] = [
  { name: 'local directory', config: (location) => ({ path: join(tmp, 'local', location) }) },
  { name: 's3 (s3rver)', config: (location) => ({ path: `s3://${BUCKET}/${location}/`, s3: s3.s3 }) },
];

const T0 = Date.UTC(2024, 2, 3, 11, 59, 0);

function batch(n: number, offset = 0): OfflineBatch {
  return {
    table: 'raw/tx',
    timeColumn: 'trans_time',
    columns: [
      { name: 'cc_num', type: 'string' },
      { name: 'trans_time', type: 'timestamp' },
      { name: 'amount', type: 'double' },
      { name: 'merchant', type: 'string' },
      { name: 'n', type: 'long' },
    ],
    data: [
      Array.from({ length: n }, (_, i) => `card-${(i + offset) % 7}`),
      Array.from({ length: n }, (_, i) => T0 + (i + offset) * 1_000), // crosses 12:00 → two partitions
      Array.from({ length: n }, (_, i) => ((i + offset) % 13 === 0 ? null : (i + offset) * 1.25)),
      Array.from({ length: n }, (_, i) => `m${(i + offset) % 3}`),
      Array.from({ length: n }, (_, i) => i + offset),
    ],
  };
}

/** Copies a store's committed files of a table to a local directory (same relative paths) for DuckDB. */
async function localCopy(store: ParquetOfflineStore, table: string): Promise<string> {
  const dir = mkdtempSync(join(tmp, 'copy-'));
  for (const key of await store.list(table)) {
    const dest = join(dir, key);
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, await store.read(key));
  }
  return join(dir, table);
}

async function duckCount(store: ParquetOfflineStore): Promise<number> {
  const files = await store.list('raw/tx');
  if (files.length === 0) return 0;
  const dir = await localCopy(store, 'raw/tx');
  const r = await duck.rows(`SELECT count(*)::INTEGER AS n FROM read_parquet(${lit(`${dir}/*/*/*.parquet`)}, hive_partitioning = true)`);
  return r[0]!.n as number;
}

describe.each(targets)('parquet offline store on $name', (target) => {
  it('keeps staged files invisible until commit; DuckDB reads committed files with typed timestamps', async () => {
    const store = createParquetStore(target.config('visible'), tmp);
    await store.open();
    const staged = await store.stageAll(batch(200), 1, 0);
    expect(staged.map((f) => f.final)).toEqual([
      'raw/tx/date=2024-03-03/hour=11/part-000000000001-000000.parquet',
      'raw/tx/date=2024-03-03/hour=12/part-000000000001-000001.parquet',
    ]);
    expect(staged.every((f) => f.staged.startsWith('_staging/'))).toBe(true);
    expect(await store.list('raw/tx')).toEqual([]);
    expect(await duckCount(store)).toBe(0);

    await store.commit(staged);
    expect(await store.list('raw/tx')).toEqual(staged.map((f) => f.final));
    const dir = await localCopy(store, 'raw/tx');
    const glob = lit(`${dir}/*/*/*.parquet`);
    const types = await duck.rows(`DESCRIBE SELECT * FROM read_parquet(${glob}, hive_partitioning = true)`);
    const typeOf = Object.fromEntries(types.map((r) => [r.column_name, r.column_type]));
    expect(typeOf).toMatchObject({ cc_num: 'VARCHAR', trans_time: 'TIMESTAMP', amount: 'DOUBLE', n: 'BIGINT' });
    const rows = await duck.rows(
      `SELECT count(*)::INTEGER AS n, count(amount)::INTEGER AS amounts, min(trans_time)::VARCHAR AS first, max(trans_time)::VARCHAR AS last,
              sum(n)::INTEGER AS total, count(DISTINCT hour)::INTEGER AS hours,
              count_if(hour::INTEGER <> extract(hour FROM trans_time))::INTEGER AS misplaced
       FROM read_parquet(${glob}, hive_partitioning = true)`,
    );
    expect(rows[0]).toEqual({
      n: 200,
      amounts: 200 - Math.ceil(200 / 13),
      first: '2024-03-03 11:59:00',
      last: '2024-03-03 12:02:19',
      total: (199 * 200) / 2,
      hours: 2,
      misplaced: 0,
    });
    // every file on its own, too
    for (const f of await store.list('raw/tx')) {
      const one = await duck.rows(`SELECT count(*)::INTEGER AS n, typeof(any_value(trans_time)) AS t FROM read_parquet(${lit(join(dir, f.slice('raw/tx/'.length)))})`);
      expect(one[0]!.t).toBe('TIMESTAMP');
      expect(one[0]!.n).toBeGreaterThan(0);
    }
    await store.close();
  });

  it('commit twice is a no-op; committing a file lost in both places fails loudly', async () => {
    const store = createParquetStore(target.config('twice'), tmp);
    const staged = await store.stageAll(batch(120), 5, 0);
    await store.commit(staged);
    const before = await store.list('raw/tx');
    const bytes = await Promise.all(before.map((k) => store.read(k)));
    await store.commit(staged);
    await store.commit(staged);
    expect(await store.list('raw/tx')).toEqual(before);
    expect(await Promise.all(before.map((k) => store.read(k)))).toEqual(bytes);
    expect(await duckCount(store)).toBe(120);
    const lost: StagedFile = { table: 'raw/tx', staged: '_staging/raw/tx/x.parquet', final: 'raw/tx/x.parquet', rows: 1 };
    await expect(store.commit([lost])).rejects.toThrow(/neither staged/);
    await store.close();
  });

  it('recovers a crash (SIGKILL) between stage and commit: last checkpoint re-committed, orphans removed', async () => {
    const config = target.config('crash');
    const store = createParquetStore(config, tmp);
    // checkpoint 1: staged, listed by the checkpoint, committed
    const ck1 = await store.stageAll(batch(100), 1, 0);
    await store.commit(ck1);
    // checkpoint 2: staged by the checkpoint that became durable, crash before commit
    const ck2 = await store.stageAll(batch(40, 100), 2, 0);
    // checkpoint 3: staged by a real process killed before its checkpoint was written (orphans)
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'stage-child.ts'), JSON.stringify(config), '3'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      child.once('exit', (code) => reject(new Error(`stage child exited early (${code})`)));
    });
    const orphans = JSON.parse(line) as StagedFile[];
    expect(orphans.length).toBe(2);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect((await store.blobs.list('_staging/')).length).toBe(ck2.length + orphans.length);
    expect(await duckCount(store)).toBe(100);

    // restart: a new store instance; the runtime re-commits the last checkpoint's files, then recover()
    const restarted = createParquetStore(config, tmp);
    await restarted.open();
    await restarted.commit(ck2);
    await restarted.recover(ck2);
    expect(await restarted.blobs.list('_staging/')).toEqual([]);
    expect(await duckCount(restarted)).toBe(140);
    // recovery again (a crash during recovery) changes nothing
    await restarted.commit(ck2);
    await restarted.recover(ck2);
    expect(await duckCount(restarted)).toBe(140);
    const dir = await localCopy(restarted, 'raw/tx');
    const dup = await duck.rows(`SELECT count(*)::INTEGER AS d FROM (SELECT n FROM read_parquet(${lit(`${dir}/*/*/*.parquet`)}) GROUP BY n HAVING count(*) > 1)`);
    expect(dup[0]!.d).toBe(0);
    await store.close();
    await restarted.close();
  });
});
