/**
 * Bad input to `fenestra training-set`: a clear error with a stable code naming the column (and the
 * file where there is one), never a stack trace or a silently dropped or mangled column.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../../cli/main.js';
import { runTrainingSet } from '../../../cli/commands/training-set.js';
import { readTable } from '../../../adapters/offline/parquet/table-reader.js';
import type { EngineSpec } from '../../../core/model.js';
import { fraudYaml, loadYaml } from './fixtures.js';
import { lit, openDuck } from './duckdb.js';

const dir = mkdtempSync(join(tmpdir(), 'fenestra-training-bad-'));
const T0 = Date.UTC(2024, 0, 1);
const events = join(dir, 'events.ndjson');
let spec: EngineSpec;

function ndjson(path: string, rows: object[]): string {
  writeFileSync(path, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return path;
}

beforeAll(async () => {
  spec = await loadYaml(dir, 'fenestra.yaml', fraudYaml());
  ndjson(events, [
    { cc_num: 'a', trans_time: T0, amount: 10 },
    { cc_num: 'a', trans_time: T0 + 60_000, amount: 20 },
    { cc_num: 'b', trans_time: T0 + 120_000, amount: 5 },
  ]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (labels: string, more: { features?: string; input?: string[] } = {}) =>
  runTrainingSet({ spec, labels, features: more.features ?? 'fraud_model', input: more.input ?? [events], out: join(dir, 'out.parquet'), quiet: true });

describe('training-set bad input', () => {
  it('refuses a nested Parquet label column (LIST, struct), naming it and the file', async () => {
    const labels = join(dir, 'nested.parquet');
    const duck = await openDuck();
    try {
      await duck.rows(`COPY (SELECT * FROM (VALUES ('a', TIMESTAMP '2024-01-01 00:05:00', 7.0, [1, 2], {'x': [3], 'y': 2}, 'n1'))
        t(cc_num, trans_time, amount, tags, s, note)) TO ${lit(labels)} (FORMAT parquet)`);
    } finally {
      duck.close();
    }
    await expect(run(labels)).rejects.toMatchObject({ code: 'BAD_REQUEST', path: 'tags', message: expect.stringContaining(labels) });
  });

  it('reads every key of NDJSON labels as a column, also one that only later lines have', async () => {
    const labels = ndjson(join(dir, 'ragged.ndjson'), [
      { cc_num: 'a', trans_time: T0 + 300_000 },
      { cc_num: 'b', trans_time: T0 + 300_000, amount: 3, note: 'x' },
    ]);
    await run(labels);
    const t = await readTable([join(dir, 'out.parquet')]);
    expect(t.names.slice(0, 4)).toEqual(['cc_num', 'trans_time', 'amount', 'note']);
    expect(Array.from(t.columns.get('amount')!, (v) => (Number.isNaN(v) ? null : v))).toEqual([null, 3]);
    expect(Array.from(t.columns.get('note')!)).toEqual([null, 'x']);
    expect(Array.from(t.columns.get('amt_ratio2')!, (v) => (Number.isNaN(v) ? null : v))).toEqual([null, 3 / 5]);
  });

  it('refuses NDJSON history without a column the features read, naming it and the file', async () => {
    const history = ndjson(join(dir, 'no-amount.ndjson'), [{ cc_num: 'a', trans_time: T0 }]);
    const labels = ndjson(join(dir, 'labels.ndjson'), [{ cc_num: 'a', trans_time: T0 + 300_000, amount: 7 }]);
    await expect(run(labels, { input: [history] })).rejects.toMatchObject({ code: 'BAD_REQUEST', path: 'amount', message: expect.stringContaining(history) });
  });

  it('refuses an NDJSON label column holding objects, or values of two types', async () => {
    const nested = ndjson(join(dir, 'objects.ndjson'), [{ cc_num: 'a', trans_time: T0, amount: 7, tags: [1, 2] }]);
    await expect(run(nested)).rejects.toMatchObject({ code: 'BAD_REQUEST', path: 'tags[0]' });
    const mixed = ndjson(join(dir, 'mixed.ndjson'), [
      { cc_num: 'a', trans_time: T0, amount: 7, ref: 1 },
      { cc_num: 'b', trans_time: T0, amount: 3, ref: 'two' },
    ]);
    await expect(run(mixed)).rejects.toMatchObject({ code: 'BAD_REQUEST', path: 'ref[1]' });
  });

  it('names the labels or the history a bad time or a missing key was read from', async () => {
    const good = ndjson(join(dir, 'good-labels.ndjson'), [{ cc_num: 'a', trans_time: T0 + 300_000, amount: 7 }]);
    const badTime = ndjson(join(dir, 'bad-time.ndjson'), [{ cc_num: 'a', trans_time: 'yesterday', amount: 7 }]);
    await expect(run(badTime)).rejects.toMatchObject({ code: 'EVENT_TIME_INVALID', path: 'trans_time[0]', message: expect.stringContaining(`labels ${badTime}`) });
    await expect(run(good, { input: [badTime] })).rejects.toMatchObject({ code: 'EVENT_TIME_INVALID', path: 'trans_time[0]', message: expect.stringContaining(`history ${badTime}`) });
    const noKey = ndjson(join(dir, 'null-key.ndjson'), [{ cc_num: null, trans_time: T0, amount: 7 }]);
    await expect(run(good, { input: [noKey] })).rejects.toMatchObject({ code: 'EVENT_FIELD_MISSING', path: 'cc_num[0]', message: expect.stringContaining(`history ${noKey}`) });
  });

  it('refuses --threads that is not an integer >= 1', async () => {
    const labels = ndjson(join(dir, 'threads-labels.ndjson'), [{ cc_num: 'a', trans_time: T0 + 300_000, amount: 7 }]);
    for (const threads of ['abc', '0', '1.5']) {
      const argv = ['node', 'fenestra', 'training-set', '-c', join(dir, 'fenestra.yaml'), '--labels', labels, '--features', 'fraud_model', '--input', events, '--out', join(dir, 'out.parquet'), '--quiet', '--threads', threads];
      await expect(buildProgram().exitOverride().parseAsync(argv)).rejects.toMatchObject({ code: 'BAD_REQUEST', path: 'threads' });
    }
  });
});
