/**
 * Training-set output: label columns carried through as stored. Labels written by DuckDB (two files,
 * several row groups each (of one size: DuckDB's ROW_GROUP_SIZE); BIGINT, nullable VARCHAR, DOUBLE, DECIMAL, DATE, BOOLEAN, INT64 ms
 * timestamps, snappy and gzip pages) come out equal, column for column and row for row, with the
 * same types, their chunks copied; features equal those of the same labels given as NDJSON (decoded,
 * re-encoded path); a time column in microseconds is written as milliseconds. Every codec.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTrainingSet } from '../../../cli/commands/training-set.js';
import { FileSink } from '../../../adapters/offline/parquet/file-sink.js';
import { ParquetStreamWriter } from '../../../adapters/offline/parquet/parquet-writer.js';
import { readTable } from '../../../adapters/offline/parquet/table-reader.js';
import type { EngineSpec } from '../../../core/model.js';
import { fraudYaml, loadYaml } from './fixtures.js';
import { lit, openDuck, type Duck } from './duckdb.js';

const dir = mkdtempSync(join(tmpdir(), 'fenestra-training-out-'));
let duck: Duck;
let spec: EngineSpec;
const events = join(dir, 'events.parquet');
const labelDir = join(dir, 'labels');
const T0 = Date.UTC(2024, 0, 1);

beforeAll(async () => {
  duck = await openDuck();
  spec = await loadYaml(dir, 'fenestra.yaml', fraudYaml());
  mkdirSync(labelDir);
  // history: 40 cards, a transaction every ~7 minutes per card for two days
  await duck.rows(`COPY (SELECT 'c' || (i % 40) AS cc_num, make_timestamp(CAST((${T0} + i * 10007) * 1000 AS BIGINT)) AS trans_time,
      round(1 + (i * 37 % 5000) / 7.0, 2) AS amount FROM range(17000) t(i)) TO ${lit(events)} (FORMAT parquet)`);
  // labels: two files of 3,000 rows, row groups of 700; times in ms (INT64 TIMESTAMP_MILLIS)
  for (const [f, codec] of [[0, 'snappy'], [1, 'gzip']] as const) {
    await duck.rows(`COPY (SELECT ${f} * 3000 + i AS label_id, 'c' || ((i * 7) % 45) AS cc_num,
        epoch_ms(${T0} + (i * 58613 + ${f} * 777) % (2 * 86400000))::TIMESTAMP_MS AS trans_time,
        (i % 13) * 1.25 AS amount, CASE WHEN i % 5 = 0 THEN NULL ELSE 'note ' || i END AS note,
        (i % 1000)::DECIMAL(8, 2) / 7 AS price, DATE '2024-01-01' + (i % 30)::INTEGER AS day, i % 3 = 0 AS flag
      FROM range(3000) t(i)) TO ${lit(join(labelDir, `part-${f}.parquet`))} (FORMAT parquet, ROW_GROUP_SIZE 700, COMPRESSION ${codec})`);
  }
});
afterAll(() => {
  duck?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('training-set output', () => {
  it.each(['gzip', 'snappy', 'none'] as const)('carries Parquet label columns through as stored (%s)', async (codec) => {
    const out = join(dir, `train-${codec}.parquet`);
    const r = await runTrainingSet({ spec, labels: labelDir, input: [events], features: 'fraud_model', out, quiet: true, codec });
    expect(r.labels).toBe(6000);
    const labelCols = ['label_id', 'cc_num', 'trans_time', 'amount', 'note', 'price', 'day', 'flag'];
    const cols = labelCols.map((c) => `"${c}"`).join(', ');
    const [diff] = await duck.rows(`SELECT
        (SELECT count(*) FROM (SELECT ${cols} FROM read_parquet(${lit(join(labelDir, '*.parquet'))}) EXCEPT ALL SELECT ${cols} FROM read_parquet(${lit(out)})))::INTEGER AS missing,
        (SELECT count(*) FROM read_parquet(${lit(out)}))::INTEGER AS n`);
    expect(diff).toEqual({ missing: 0, n: 6000 });
    // same order as the label files, same types
    const types = await duck.rows(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(${lit(out)}))`);
    const want = await duck.rows(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(${lit(join(labelDir, 'part-0.parquet'))}))`);
    expect(types.slice(0, labelCols.length)).toEqual(want);
    // the label chunks are the label files' own (their codec), the feature chunks ours
    const meta = await duck.rows(`SELECT row_group_id::INTEGER AS rg, path_in_schema AS col, compression FROM parquet_metadata(${lit(out)}) WHERE path_in_schema IN ('note', 'amt_ratio2') ORDER BY rg, col`);
    const [groups] = await duck.rows(`SELECT count(DISTINCT row_group_id)::INTEGER AS n FROM parquet_metadata(${lit(join(labelDir, 'part-0.parquet'))})`);
    const first = groups!.n as number;
    expect(first).toBeGreaterThan(1);
    expect(meta.length).toBe(2 * 2 * first); // one output row group per label row group
    for (const m of meta) expect(m.compression).toBe(m.col === 'amt_ratio2' ? codec.toUpperCase().replace('NONE', 'UNCOMPRESSED') : (m.rg as number) < first ? 'SNAPPY' : 'GZIP');
    const [order] = await duck.rows(`SELECT count_if(label_id <> rn - 1)::INTEGER AS bad FROM (SELECT label_id, row_number() OVER () AS rn FROM read_parquet(${lit(out)}))`);
    expect(order!.bad).toBe(0);

    // features equal those computed from the same labels as NDJSON (nothing copied)
    const nd = join(dir, `labels-${codec}.ndjson`);
    const rows = await duck.rows(`SELECT label_id::DOUBLE AS label_id, cc_num, epoch_ms(trans_time)::DOUBLE AS trans_time, amount::DOUBLE AS amount FROM read_parquet(${lit(join(labelDir, '*.parquet'))}) ORDER BY label_id`);
    writeFileSync(nd, rows.map((x) => JSON.stringify(x)).join('\n') + '\n');
    const out2 = join(dir, `train-${codec}-nd.parquet`);
    await runTrainingSet({ spec, labels: nd, input: [events], features: 'fraud_model', out: out2, quiet: true, codec });
    const feats = ['num_trans_last_10m', 'avg_amt_last_10m', 'num_trans_last_1w', 'avg_amt_last_1w', 'amt_ratio1', 'amt_ratio2', 'count_ratio'];
    const [cmp] = await duck.rows(`SELECT count(*)::INTEGER AS n, count_if(${feats.map((f) => `a.${f} IS DISTINCT FROM b.${f}`).join(' OR ')})::INTEGER AS bad,
        count_if(a.num_trans_last_1w > 0)::INTEGER AS seen
      FROM read_parquet(${lit(out)}) a JOIN read_parquet(${lit(out2)}) b ON a.label_id = b.label_id`);
    expect(cmp).toEqual({ n: 6000, bad: 0, seen: expect.any(Number) });
    expect(cmp!.seen).toBeGreaterThan(3000);
  });

  it('writes a time column that is not INT64 milliseconds as milliseconds', async () => {
    const labels = join(dir, 'labels-us.parquet');
    await duck.rows(`COPY (SELECT cc_num, trans_time::TIMESTAMP AS trans_time, amount FROM read_parquet(${lit(join(labelDir, 'part-0.parquet'))})) TO ${lit(labels)} (FORMAT parquet)`);
    const out = join(dir, 'train-us.parquet');
    await runTrainingSet({ spec, labels, input: [events], features: 'cc_agg:num_trans_last_1w', out, quiet: true });
    const [r] = await duck.rows(`SELECT typeof(trans_time) AS t,
        (SELECT count(*) FROM (SELECT cc_num, trans_time FROM read_parquet(${lit(labels)}) EXCEPT ALL SELECT cc_num, trans_time FROM read_parquet(${lit(out)})))::INTEGER AS missing
      FROM read_parquet(${lit(out)}) LIMIT 1`);
    expect(r).toEqual({ t: 'TIMESTAMP', missing: 0 });
  });

  it('writes count-like double columns with a dictionary, read back exactly (DuckDB, hyparquet)', async () => {
    const path = join(dir, 'counts.parquet');
    const n = 5000;
    const cols = {
      counts: Float64Array.from({ length: n }, (_, i) => (i % 11 === 0 ? NaN : (i * 7) % 23)), // dictionary, with nulls
      wide: Float64Array.from({ length: n }, (_, i) => i), // too many distinct values: plain
      frac: Float64Array.from({ length: n }, (_, i) => (i % 5) / 2), // fractions: plain
      negzero: Float64Array.from({ length: n }, (_, i) => (i === 7 ? -0 : i % 3)), // -0 kept: plain
    };
    const sink = new FileSink(path);
    const w = new ParquetStreamWriter(sink, Object.keys(cols).map((name) => ({ name, type: 'double' as const })), { codec: 'gzip' });
    await w.writeRowGroupAsync(Object.values(cols).map((c) => c.subarray(0, 3000)));
    await w.writeRowGroupAsync(Object.values(cols).map((c) => c.subarray(3000)));
    await w.flush();
    w.finish();
    sink.close();
    const enc = await duck.rows(`SELECT DISTINCT path_in_schema AS col, encodings FROM parquet_metadata(${lit(path)}) ORDER BY col`);
    expect(enc.find((e) => e.col === 'counts')!.encodings).toMatch(/RLE_DICTIONARY/);
    for (const c of ['wide', 'frac', 'negzero']) expect(enc.find((e) => e.col === c)!.encodings).not.toMatch(/DICTIONARY/);
    const got = await duck.rows(`SELECT counts, wide, frac, negzero FROM read_parquet(${lit(path)})`);
    expect(got.length).toBe(n);
    got.forEach((r, i) => {
      expect(r.counts).toBe(Number.isNaN(cols.counts[i]!) ? null : cols.counts[i]);
      expect(r.wide).toBe(i);
      expect(r.frac).toBe(cols.frac[i]);
    });
    expect(Object.is(got[7]!.negzero, -0)).toBe(true);
    const mine = await readTable([path]);
    expect(Array.from(mine.columns.get('counts')!, (v) => v ?? NaN)).toEqual(Array.from(cols.counts));
  });

  it('reads a Parquet file on several threads exactly as on one (row groups split over workers)', async () => {
    const file = join(labelDir, 'part-0.parquet');
    const one = await readTable([file]);
    for (const threads of [2, 3]) {
      const many = await readTable([file], { threads });
      expect(many.rows).toBe(one.rows);
      expect(many.names).toEqual(one.names);
      for (const n of one.names) expect(Array.from(many.columns.get(n)!)).toEqual(Array.from(one.columns.get(n)!));
    }
    // and a training set with threads gives the same file as without
    const a = join(dir, 'train-t1.parquet');
    const b = join(dir, 'train-t3.parquet');
    await runTrainingSet({ spec, labels: labelDir, input: [events], features: 'fraud_model', out: a, quiet: true });
    await runTrainingSet({ spec, labels: labelDir, input: [events], features: 'fraud_model', out: b, quiet: true, threads: 3 });
    const [r] = await duck.rows(`SELECT (SELECT count(*) FROM (SELECT * FROM read_parquet(${lit(a)}) EXCEPT ALL SELECT * FROM read_parquet(${lit(b)})))::INTEGER AS diff`);
    expect(r!.diff).toBe(0);
  });
});
