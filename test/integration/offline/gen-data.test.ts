/**
 * `gen-data`: deterministic (same seed → same bytes, other seed → other data), shaped like the seed
 * dataset (fraud share near the requested rate, fraud as bursts of rapid transactions on one card,
 * labels included), and the Parquet and NDJSON outputs hold the same rows (read back by DuckDB).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runGenData } from '../../../cli/commands/gen-data.js';
import { buildProgram } from '../../../cli/main.js';
import { lit, openDuck } from './duckdb.js';

const dir = mkdtempSync(join(tmpdir(), 'fenestra-gen-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');
const base = { cards: 400, months: 2, fraudRate: 0.0025, start: Date.UTC(2020, 0, 1), quiet: true } as const;

describe('gen-data', () => {
  it('is deterministic per seed and looks like the seed dataset', async () => {
    const a = await runGenData({ ...base, seed: 42, out: join(dir, 'a.parquet'), format: 'parquet' });
    const b = await runGenData({ ...base, seed: 42, out: join(dir, 'b.parquet'), format: 'parquet' });
    const c = await runGenData({ ...base, seed: 43, out: join(dir, 'c.parquet'), format: 'parquet' });
    expect(sha(a.out)).toBe(sha(b.out));
    expect(sha(a.out)).not.toBe(sha(c.out));
    // ~3.55 transactions per card and day (5.4M for 10,000 cards over 5 months)
    expect(a.rows / (400 * 60)).toBeGreaterThan(3.2);
    expect(a.rows / (400 * 60)).toBeLessThan(3.9);
    const duck = await openDuck();
    try {
      const [s] = await duck.rows(`SELECT count(*)::INTEGER AS n, sum(is_fraud)::INTEGER AS fraud, count(DISTINCT cc_num)::INTEGER AS cards,
          count(DISTINCT tid)::INTEGER AS tids, bool_and(length(cc_num) = 16) AS digits,
          min(trans_time)::VARCHAR AS first, max(trans_time) < TIMESTAMP '2020-03-01' AS within
        FROM read_parquet(${lit(a.out)})`);
      expect(s).toMatchObject({ n: a.rows, fraud: a.fraud, cards: 400, tids: a.rows, digits: true, within: true });
      expect(String(s!.first) >= '2020-01-01').toBe(true);
      expect(a.fraud / a.rows).toBeGreaterThan(0.0012);
      expect(a.fraud / a.rows).toBeLessThan(0.004);
      // sorted by time
      const [o] = await duck.rows(`SELECT count(*)::INTEGER AS bad FROM (SELECT trans_time < lag(trans_time) OVER (ORDER BY tid) AS back FROM read_parquet(${lit(a.out)})) WHERE back`);
      expect(o!.bad).toBe(0);
      // fraud comes in bursts: most fraud rows have >= 3 transactions of their card in the 10 minutes before
      const [f] = await duck.rows(`SELECT avg(CASE WHEN c10 >= 3 THEN 1 ELSE 0 END) AS bursty FROM (
          SELECT is_fraud, count(*) OVER (PARTITION BY cc_num ORDER BY trans_time RANGE BETWEEN INTERVAL 10 MINUTES PRECEDING AND CURRENT ROW) AS c10
          FROM read_parquet(${lit(a.out)})) WHERE is_fraud = 1`);
      expect(Number(f!.bursty)).toBeGreaterThan(0.6);
      const [g] = await duck.rows(`SELECT avg(CASE WHEN c10 >= 3 THEN 1 ELSE 0 END) AS bursty FROM (
          SELECT is_fraud, count(*) OVER (PARTITION BY cc_num ORDER BY trans_time RANGE BETWEEN INTERVAL 10 MINUTES PRECEDING AND CURRENT ROW) AS c10
          FROM read_parquet(${lit(a.out)})) WHERE is_fraud = 0`);
      expect(Number(g!.bursty)).toBeLessThan(0.05);
    } finally {
      duck.close();
    }
  });

  it('writes the same rows as NDJSON, through the CLI', async () => {
    const pq = join(dir, 'd.parquet');
    const nd = join(dir, 'd.ndjson');
    const args = ['--cards', '50', '--months', '1', '--seed', '9', '--start', '2021-06-01', '--quiet'];
    await buildProgram().parseAsync(['node', 'fenestra', 'gen-data', '--out', pq, ...args]);
    await buildProgram().parseAsync(['node', 'fenestra', 'gen-data', '--out', nd, ...args]);
    const duck = await openDuck();
    try {
      const [d] = await duck.rows(`SELECT (SELECT count(*) FROM read_parquet(${lit(pq)}))::INTEGER AS n,
          (SELECT count(*) FROM (SELECT tid, cc_num, trans_time, amount, merchant, category, is_fraud FROM read_parquet(${lit(pq)})
             EXCEPT SELECT tid, cc_num, trans_time::TIMESTAMP, amount, merchant, category, is_fraud FROM read_json(${lit(nd)}, format = 'newline_delimited')))::INTEGER AS missing`);
      expect(d!.n).toBeGreaterThan(4000);
      expect(d!.missing).toBe(0);
    } finally {
      duck.close();
    }
    await expect(buildProgram().parseAsync(['node', 'fenestra', 'gen-data', '--out', join(dir, 'x.parquet'), '--cards', 'many'])).rejects.toThrow(/--cards/);
  });
});
