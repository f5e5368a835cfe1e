/**
 * Training sets agree with DuckDB's window functions on every row: a generated dataset (gen-data,
 * Parquet) replayed by `runTrainingSet` (Parquet in, Parquet out) against
 *  - COUNT(*)/AVG(amount) OVER (PARTITION BY cc_num ORDER BY trans_time RANGE BETWEEN ... PRECEDING AND CURRENT ROW)
 *    for 10 minutes, and for 7 days with every window made exact (precision 0);
 *  - for the default tiled 7-day window (precision 1h), a DuckDB self-join computing the documented
 *    tile bound exactly: events with floor_1h(t − 7d) <= ts <= t.
 * DuckDB's RANGE frame includes its lower edge (ts >= t − W) while Fenestra's window is (t − W, t],
 * so the SQL uses W − 1 ms (times are integer milliseconds).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGenData } from '../../../cli/commands/gen-data.js';
import { runTrainingSet } from '../../../cli/commands/training-set.js';
import type { EngineSpec } from '../../../core/model.js';
import { exactWindows, fraudYaml, loadYaml } from './fixtures.js';
import { lit, openDuck, type Duck } from './duckdb.js';

const dir = mkdtempSync(join(tmpdir(), 'fenestra-training-duck-'));
const data = join(dir, 'tx.parquet');
let duck: Duck;
let spec: EngineSpec;
let rows = 0;

beforeAll(async () => {
  const r = await runGenData({ out: data, format: 'parquet', cards: 150, months: 2, seed: 11, fraudRate: 0.02, start: Date.UTC(2021, 2, 1), quiet: true });
  rows = r.rows;
  spec = await loadYaml(dir, 'fenestra.yaml', fraudYaml());
  duck = await openDuck();
});
afterAll(() => {
  duck?.close();
  rmSync(dir, { recursive: true, force: true });
});

function close(a: unknown, b: unknown): boolean {
  if (a === null || b === null || a === undefined || b === undefined) return (a ?? null) === (b ?? null);
  const x = Number(a);
  const y = Number(b);
  return Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x), Math.abs(y));
}

interface Mismatch {
  tid: unknown;
  column: string;
  ours: unknown;
  duck: unknown;
}

async function compare(sql: string, pairs: Array<[string, string]>): Promise<{ n: number; bad: Mismatch[] }> {
  const out = await duck.rows(sql);
  const bad: Mismatch[] = [];
  for (const r of out) {
    for (const [ours, theirs] of pairs) if (!close(r[ours], r[theirs])) bad.push({ tid: r.tid, column: ours, ours: r[ours], duck: r[theirs] });
  }
  return { n: out.length, bad };
}

describe('training set vs DuckDB window functions', () => {
  it('10-minute windows and the tiled 7-day window (tile bound computed exactly) agree on every row', async () => {
    const out = join(dir, 'train.parquet');
    const r = await runTrainingSet({ spec, labels: data, input: [data], features: 'fraud_model', out, quiet: true });
    expect(r.labels).toBe(rows);
    expect(rows).toBeGreaterThan(25_000);
    const sql = `
      WITH d AS (SELECT tid, cc_num, epoch_ms(trans_time) AS ms, amount,
                   count(*) OVER w10 AS c10, avg(amount) OVER w10 AS a10
                 FROM read_parquet(${lit(data)})
                 WINDOW w10 AS (PARTITION BY cc_num ORDER BY trans_time RANGE BETWEEN INTERVAL '599999 milliseconds' PRECEDING AND CURRENT ROW)),
           w AS (SELECT a.tid, count(*) AS c7, avg(b.amount) AS a7
                 FROM d a JOIN d b ON a.cc_num = b.cc_num AND b.ms <= a.ms
                   AND b.ms >= (a.ms - 604800000) - ((a.ms - 604800000) % 3600000)
                 GROUP BY a.tid)
      SELECT t.tid, t.num_trans_last_10m, d.c10, t.avg_amt_last_10m, d.a10, t.num_trans_last_1w, w.c7, t.avg_amt_last_1w, w.a7,
             t.count_ratio, d.c10 / w.c7 AS cr, t.amt_ratio2, d.amount / w.a7 AS ar2, t.amt_ratio1, d.a10 / w.a7 AS ar1
      FROM read_parquet(${lit(out)}) t JOIN d USING (tid) JOIN w USING (tid)`;
    const { n, bad } = await compare(sql, [
      ['num_trans_last_10m', 'c10'],
      ['avg_amt_last_10m', 'a10'],
      ['num_trans_last_1w', 'c7'],
      ['avg_amt_last_1w', 'a7'],
      ['count_ratio', 'cr'],
      ['amt_ratio2', 'ar2'],
      ['amt_ratio1', 'ar1'],
    ]);
    expect(n).toBe(rows);
    expect(bad.slice(0, 5)).toEqual([]);
    // the fraud bursts are there: some rows see several transactions in 10 minutes
    const burst = await duck.rows(`SELECT max(num_trans_last_10m)::INTEGER AS m FROM read_parquet(${lit(out)}) WHERE is_fraud = 1`);
    expect(burst[0]!.m).toBeGreaterThanOrEqual(5);
  });

  it('with exact 7-day windows, COUNT/AVG OVER (RANGE 7 days) agrees on every row', async () => {
    const out = join(dir, 'train-exact.parquet');
    await runTrainingSet({ spec: exactWindows(spec, 'cc_agg'), labels: data, input: [data], features: 'fraud_model', out, quiet: true });
    const sql = `
      WITH d AS (SELECT tid, count(*) OVER w7 AS c7, avg(amount) OVER w7 AS a7
                 FROM read_parquet(${lit(data)})
                 WINDOW w7 AS (PARTITION BY cc_num ORDER BY trans_time RANGE BETWEEN INTERVAL '604799999 milliseconds' PRECEDING AND CURRENT ROW))
      SELECT t.tid, t.num_trans_last_1w, d.c7, t.avg_amt_last_1w, d.a7 FROM read_parquet(${lit(out)}) t JOIN d USING (tid)`;
    const { n, bad } = await compare(sql, [
      ['num_trans_last_1w', 'c7'],
      ['avg_amt_last_1w', 'a7'],
    ]);
    expect(n).toBe(rows);
    expect(bad.slice(0, 5)).toEqual([]);
  });

  it('a subset of features (a reduced group state) gives the same values as the whole group', async () => {
    const all = join(dir, 'train-all.parquet');
    const some = join(dir, 'train-some.parquet');
    await runTrainingSet({ spec, labels: data, input: [data], features: 'fraud_model', out: all, quiet: true });
    await runTrainingSet({ spec, labels: data, input: [data], features: 'cc_agg:avg_amt_last_1w,cc_agg:count_ratio', out: some, quiet: true });
    const [r] = await duck.rows(`SELECT count(*)::INTEGER AS n,
        count_if(a.avg_amt_last_1w IS DISTINCT FROM s.avg_amt_last_1w OR a.count_ratio IS DISTINCT FROM s.count_ratio)::INTEGER AS bad
      FROM read_parquet(${lit(all)}) a JOIN read_parquet(${lit(some)}) s USING (tid)`);
    expect(r).toEqual({ n: rows, bad: 0 });
    const cols = await duck.rows(`DESCRIBE SELECT * FROM read_parquet(${lit(some)})`);
    expect(cols.map((c) => c.column_name).slice(-2)).toEqual(['avg_amt_last_1w', 'count_ratio']);
  });
});
