/**
 * Backfill and the offline store as the default history:
 *  - `runBackfill` replays an event-time range of a file through the engine; the checkpointed state
 *    a fresh engine recovers answers every card's features as of the range's end exactly as the
 *    training set does for labels at that instant (DuckDB counts the events in range independently).
 *  - with the offline store on S3 (s3rver), raw history committed through the engine's hook is what
 *    `training-set` and `backfill` read when no `--input` is given.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackfill } from '../../../cli/commands/backfill.js';
import { runGenData } from '../../../cli/commands/gen-data.js';
import { runTrainingSet } from '../../../cli/commands/training-set.js';
import { readTable } from '../../../adapters/offline/parquet/table-reader.js';
import { createParquetStore } from '../../../adapters/offline/parquet/index.js';
import { FileCheckpointStore } from '../../../core/checkpoint/index.js';
import type { EngineSpec } from '../../../core/model.js';
import { HistoryHook } from '../../../core/offline/history-hook.js';
import { Engine } from '../../../core/runtime/engine.js';
import { defaultDerived } from '../../../core/runtime/reader.js';
import { startS3rver, type S3rverHandle } from '../../services/s3rver.js';
import { fraudYaml, loadYaml } from './fixtures.js';
import { lit, openDuck } from './duckdb.js';

const dir = mkdtempSync(join(tmpdir(), 'fenestra-backfill-'));
let s3: S3rverHandle;
beforeAll(async () => {
  s3 = await startS3rver({ buckets: ['hist'] });
});
afterAll(async () => {
  await s3?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const FEATURES = ['num_trans_last_10m', 'avg_amt_last_10m', 'num_trans_last_1w', 'avg_amt_last_1w', 'amt_ratio1', 'count_ratio'];

/** Reads every card's features as of `asOf` from the state checkpointed in `spec.state.dir`. */
async function recoveredFeatures(spec: EngineSpec, asOf: number): Promise<Map<string, Record<string, unknown>>> {
  const engine = new Engine(spec, { sources: new Map(), checkpointStore: new FileCheckpointStore({ dir: join(spec.state.dir, 'checkpoints') }), derived: defaultDerived(spec) });
  await engine.start();
  const keys = [...engine.entityKeys('cc_agg')];
  const reads = await engine.readMany('cc_agg', keys, { asOf });
  await engine.stop();
  return new Map(reads.map((r) => [r.key, r.values as Record<string, unknown>]));
}

/** Training-set rows for one label per card at `asOf`. */
async function trainingAt(spec: EngineSpec, cards: readonly string[], asOf: number, input?: string[]): Promise<Map<string, Record<string, unknown>>> {
  const labels = join(dir, `labels-${asOf}-${input ? 'in' : 'default'}.ndjson`);
  writeFileSync(labels, cards.map((c) => JSON.stringify({ cc_num: c, trans_time: asOf })).join('\n') + '\n');
  const out = join(dir, `train-${asOf}-${input ? 'in' : 'default'}.parquet`);
  await runTrainingSet({ spec, labels, features: 'cc_agg:*', out, quiet: true, ...(input ? { input } : {}) });
  const t = await readTable([out]);
  const res = new Map<string, Record<string, unknown>>();
  for (let i = 0; i < t.rows; i++) res.set(String(t.columns.get('cc_num')![i]), Object.fromEntries(FEATURES.map((f) => [f, t.columns.get(f)![i] ?? null])));
  return res;
}

function expectSame(a: Map<string, Record<string, unknown>>, b: Map<string, Record<string, unknown>>): void {
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  for (const [k, v] of a) {
    for (const f of FEATURES) {
      const x = v[f] ?? null;
      const y = b.get(k)![f] ?? null;
      if (x === null || y === null) expect([k, f, x]).toEqual([k, f, y]);
      else expect(Math.abs(Number(x) - Number(y))).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(Number(x))));
    }
  }
}

describe('backfill', () => {
  it('replays [from, to) through the engine; recovered state = training set as of `to`', async () => {
    const data = join(dir, 'tx.parquet');
    await runGenData({ out: data, format: 'parquet', cards: 80, months: 2, seed: 21, fraudRate: 0.01, start: Date.UTC(2023, 0, 1), quiet: true });
    const spec = await loadYaml(dir, 'local.yaml', fraudYaml() + 'state: { dir: ./state-local, checkpointInterval: 50ms }\n');
    const from = Date.UTC(2023, 0, 10);
    const to = Date.UTC(2023, 1, 5, 13, 7);
    const r = await runBackfill({ spec, from, to, input: [data], quiet: true });
    const duck = await openDuck();
    const [c] = await duck.rows(`SELECT count(*)::INTEGER AS n, count(DISTINCT cc_num)::INTEGER AS cards FROM read_parquet(${lit(data)}) WHERE epoch_ms(trans_time) >= ${from} AND epoch_ms(trans_time) < ${to}`);
    duck.close();
    expect(r.eventsApplied).toBe(c!.n);
    expect(r.entities).toBe(c!.cards);
    expect(r.deadLettered).toBe(0);
    const state = await recoveredFeatures(spec, to - 1);
    // the training set over only the events in range: filter them into a file of their own
    const inRange = join(dir, 'in-range.ndjson');
    const t = await readTable([data], { columns: ['cc_num', 'trans_time', 'amount'] });
    const lines: string[] = [];
    for (let i = 0; i < t.rows; i++) {
      const ts = Number(t.columns.get('trans_time')![i]);
      if (ts >= from && ts < to) lines.push(JSON.stringify({ cc_num: t.columns.get('cc_num')![i], trans_time: ts, amount: t.columns.get('amount')![i] }));
    }
    writeFileSync(inRange, lines.join('\n') + '\n');
    expectSame(state, await trainingAt(spec, [...state.keys()], to - 1, [inRange]));
  });

  it('reads the offline store (S3) by default: raw history committed by the engine hook', async () => {
    const spec = await loadYaml(
      dir,
      's3.yaml',
      fraudYaml() +
        `state: { dir: ./state-s3, checkpointInterval: 50ms }\noffline: { type: parquet, path: "s3://hist/fenestra/", s3: { endpoint: "${s3.endpoint}", region: us-east-1, forcePathStyle: true, accessKeyId: S3RVER, secretAccessKey: S3RVER } }\n`,
    );
    const src = join(dir, 'tx-s3.parquet');
    await runGenData({ out: src, format: 'parquet', cards: 40, months: 1, seed: 8, fraudRate: 0.01, start: Date.UTC(2023, 5, 1), quiet: true });
    const all = await readTable([src], { columns: ['cc_num', 'trans_time', 'amount'] });
    // the first 4 days (~100 hourly partitions per checkpoint keep the s3rver round trips few)
    const cutoff = Date.UTC(2023, 5, 5);
    let rows = 0;
    while (rows < all.rows && Number(all.columns.get('trans_time')![rows]) < cutoff) rows++;
    const t = { rows, columns: all.columns };
    // commit the raw history through the hook, in three checkpoints
    const store = createParquetStore(spec.offline.options, spec.baseDir);
    const hook = new HistoryHook({ store, spec });
    await hook.recover([]);
    const third = Math.ceil(t.rows / 3);
    for (let ck = 1; ck <= 3; ck++) {
      for (let i = (ck - 1) * third; i < Math.min(t.rows, ck * third); i++) {
        const ev = { cc_num: t.columns.get('cc_num')![i], trans_time: t.columns.get('trans_time')![i], amount: t.columns.get('amount')![i] };
        hook.onApplied('cc_agg', String(ev.cc_num), Number(ev.trans_time), ev, i + 1);
      }
      await hook.commit(await hook.stage(hook.cut(), ck));
    }
    expect((await store.list('raw/transactions')).length).toBeGreaterThan(3);
    await hook.close();

    const end = Date.UTC(2023, 6, 1);
    const r = await runBackfill({ spec, from: 0, to: end, quiet: true });
    expect(r.eventsApplied).toBe(rows);
    const state = await recoveredFeatures(spec, end);
    expectSame(state, await trainingAt(spec, [...state.keys()], end));
    // the same history given explicitly (the events before the cutoff) agrees too
    const explicit = join(dir, 'tx-s3-cut.ndjson');
    const lines: string[] = [];
    for (let i = 0; i < rows; i++) lines.push(JSON.stringify({ cc_num: all.columns.get('cc_num')![i], trans_time: all.columns.get('trans_time')![i], amount: all.columns.get('amount')![i] }));
    writeFileSync(explicit, lines.join('\n') + '\n');
    expectSame(state, await trainingAt(spec, [...state.keys()], end, [explicit]));
  });
});
