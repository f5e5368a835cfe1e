/**
 * Training/serving parity: for > 100,000 sampled (key, time) pairs — every transaction of a
 * generated dataset (read at its own time with its amount as `request.amount`) plus 20,000 random
 * (card, time) probes between transactions — the training-set row (Parquet in, replay, Parquet out)
 * equals what serving returns: events decoded by the engine's decoder and applied one by one to the
 * engine's group state, read through the engine's `FeatureReader` with `asOf` (derived features
 * included), and, for every 10th probe, through the online-store path (entity state encoded to bytes,
 * decoded and finalized with `readEncoded`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runGenData } from '../../../cli/commands/gen-data.js';
import { runTrainingSet } from '../../../cli/commands/training-set.js';
import { FileSink } from '../../../adapters/offline/parquet/file-sink.js';
import { ParquetStreamWriter } from '../../../adapters/offline/parquet/parquet-writer.js';
import { readTable } from '../../../adapters/offline/parquet/table-reader.js';
import { Prng } from '../../../core/datagen/prng.js';
import { makeDecoder } from '../../../core/event/decode.js';
import type { AggregatedGroupSpec } from '../../../core/model.js';
import { defaultDerived, FeatureReader } from '../../../core/runtime/reader.js';
import { AggregatedGroupState, readEncoded } from '../../../core/window/index.js';
import { fraudYaml, loadYaml } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'fenestra-parity-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FEATURES = ['num_trans_last_10m', 'avg_amt_last_10m', 'num_trans_last_1w', 'avg_amt_last_1w', 'amt_ratio1', 'amt_ratio2', 'count_ratio'];

function same(a: unknown, b: unknown): boolean {
  if (a === null || b === null) return a === b;
  const x = Number(a);
  const y = Number(b);
  return x === y || Math.abs(x - y) <= 1e-12 * Math.max(1, Math.abs(x), Math.abs(y));
}

describe('training set = online read with asOf', () => {
  it('agrees on more than 100,000 sampled (key, time) pairs', async () => {
    const data = join(dir, 'tx.parquet');
    await runGenData({ out: data, format: 'parquet', cards: 200, months: 5, seed: 3, fraudRate: 0.0025, start: Date.UTC(2020, 0, 1), quiet: true });
    const spec = await loadYaml(dir, 'fenestra.yaml', fraudYaml());
    const group = spec.groups.get('cc_agg') as AggregatedGroupSpec;
    const source = spec.sources.get('transactions')!;
    const tx = await readTable([data], { columns: ['tid', 'cc_num', 'trans_time', 'amount', 'merchant'] });
    const n = tx.rows;
    const keys = tx.columns.get('cc_num')! as ArrayLike<string>;
    const times = tx.columns.get('trans_time')! as ArrayLike<number>;
    const amounts = tx.columns.get('amount')! as ArrayLike<number>;
    const merchants = tx.columns.get('merchant')! as ArrayLike<string>;

    // probes: every transaction, then random (card, time) pairs
    const rng = new Prng(99);
    const extra = 20_000;
    const total = n + extra;
    const pKey = new Array<string>(total);
    const pTime = new Float64Array(total);
    const pAmount = new Float64Array(total);
    const pId = new Float64Array(total);
    for (let i = 0; i < n; i++) {
      pKey[i] = keys[i]!;
      pTime[i] = times[i]!;
      pAmount[i] = amounts[i]!;
      pId[i] = i;
    }
    const t0 = times[0]!;
    const span = times[n - 1]! - t0;
    for (let j = 0; j < extra; j++) {
      const i = n + j;
      pKey[i] = keys[rng.int(n)]!;
      pTime[i] = t0 + Math.floor(rng.next() * span);
      pAmount[i] = Math.round(rng.next() * 50_000) / 100;
      pId[i] = i;
    }
    expect(total).toBeGreaterThan(100_000);
    const labels = join(dir, 'probes.parquet');
    const sink = new FileSink(labels);
    const w = new ParquetStreamWriter(sink, [
      { name: 'probe', type: 'long', required: true },
      { name: 'cc_num', type: 'string', required: true },
      { name: 'trans_time', type: 'timestamp', required: true },
      { name: 'amount', type: 'double', required: true },
    ]);
    w.writeRowGroup([pId, pKey, pTime, pAmount], total);
    w.finish();
    sink.close();

    const out = join(dir, 'train.parquet');
    const r = await runTrainingSet({ spec, labels, input: [data], features: 'fraud_model', out, quiet: true });
    expect(r.labels).toBe(total);
    const train = await readTable([out]);
    const trainCols = FEATURES.map((f) => train.columns.get(f)!);
    const trainProbe = train.columns.get('probe')!;

    // serving: the engine's decoder, group state and reader; events one by one in arrival order
    const decode = makeDecoder(source);
    const state = new AggregatedGroupState(group, source);
    const reader = new FeatureReader(spec, new Map([['cc_agg', state]]));
    const derived = defaultDerived(spec)(group)!;
    const order = Array.from({ length: total }, (_, i) => i).sort((a, b) => pTime[a]! - pTime[b]! || a - b);
    let e = 0;
    let compared = 0;
    let viaBytes = 0;
    const mismatches: string[] = [];
    for (const p of order) {
      const t = pTime[p]!;
      while (e < n && times[e]! <= t) {
        const d = decode({ cc_num: keys[e], trans_time: new Date(times[e]!).toISOString(), amount: amounts[e], merchant: merchants[e] });
        if (!d.ok) throw new Error(`decode failed: ${d.reason}`);
        const o = state.apply(d.key, d.ts, d.event);
        if (!o.ok) throw new Error(o.reason);
        e++;
      }
      const online = reader.read('cc_agg', pKey[p]!, t, { request: { amount: pAmount[p]! } }).values;
      let bytesValues: Record<string, unknown> | null = null;
      if (p % 10 === 0 && state.has(pKey[p]!)) {
        const agg = readEncoded(group, source, state.encode(pKey[p]!)!, t).values;
        bytesValues = { ...agg, ...derived(agg, { amount: pAmount[p]! }) };
        viaBytes++;
      }
      const row = p; // training output keeps label order
      expect(Number(trainProbe[row])).toBe(p);
      for (let f = 0; f < FEATURES.length; f++) {
        const ours = trainCols[f]![row] ?? null;
        if (!same(ours, online[FEATURES[f]!] ?? null) || (bytesValues && !same(ours, bytesValues[FEATURES[f]!] ?? null))) {
          if (mismatches.length < 5) mismatches.push(`probe ${p} ${pKey[p]} @${new Date(t).toISOString()} ${FEATURES[f]}: training ${String(ours)} online ${String(online[FEATURES[f]!])} bytes ${String(bytesValues?.[FEATURES[f]!])}`);
        }
      }
      compared++;
    }
    expect(mismatches).toEqual([]);
    expect(compared).toBe(total);
    expect(viaBytes).toBeGreaterThan(10_000);
  });
});
