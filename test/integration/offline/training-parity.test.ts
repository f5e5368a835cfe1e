/**
 * Training/serving parity through the serving API: a real daemon (`startDaemon`, the config's `http`
 * source, embedded online store, offline history on local disk) ingests a generated dataset over
 * `POST /v1/ingest/transactions` in event-time order; at each of 1,000 probe times T (event times of
 * the data, ±1 ms around them, and random times) every event with time <= T has been ingested
 * (`?wait=visible`) and `POST /v1/features` reads the `fraud_model` service (aggregates and derived
 * features, a `request.amount` per key) for 100 cards with `asOf` = T. After the daemon stops, the
 * training-set code path (`runTrainingSet`, the CLI's function) computes the same 100,000 (key, time)
 * pairs from the offline store's raw history (its default input) with the pairs' amounts as label
 * columns; every value equals what the API returned (exactly: same code, JSON round-trips doubles).
 * The same for `includeCurrent: false` on 150 probe times.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runGenData } from '../../../cli/commands/gen-data.js';
import { runTrainingSet } from '../../../cli/commands/training-set.js';
import { startDaemon } from '../../../daemon/assemble.js';
import { FileSink } from '../../../adapters/offline/parquet/file-sink.js';
import { ParquetStreamWriter } from '../../../adapters/offline/parquet/parquet-writer.js';
import { readTable } from '../../../adapters/offline/parquet/table-reader.js';
import { Prng } from '../../../core/datagen/prng.js';
import { fraudYaml, loadYaml } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'fenestra-parity-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FEATURES = ['num_trans_last_10m', 'avg_amt_last_10m', 'num_trans_last_1w', 'avg_amt_last_1w', 'amt_ratio1', 'amt_ratio2', 'count_ratio'];

async function post(url: string, body: string, contentType: string): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${text}`);
  return JSON.parse(text);
}

describe('training set = online read with asOf (through the daemon and its HTTP API)', () => {
  it.each([
    { includeCurrent: true, times: 1_000 },
    { includeCurrent: false, times: 150 },
  ])('agrees on every sampled (key, time) pair (includeCurrent=$includeCurrent, $times times × 100 cards)', async ({ includeCurrent, times }) => {
    const base = join(dir, `ic-${includeCurrent}`);
    const data = join(base, 'tx.parquet');
    await runGenData({ out: data, format: 'parquet', cards: 100, months: 2, seed: 5, fraudRate: 0.02, start: Date.UTC(2021, 2, 1), quiet: true });
    const tx = await readTable([data], { columns: ['cc_num', 'trans_time', 'amount', 'merchant'] });
    const n = tx.rows;
    const keys = tx.columns.get('cc_num') as ArrayLike<string>;
    const ts = tx.columns.get('trans_time') as ArrayLike<number>;
    const amounts = tx.columns.get('amount') as ArrayLike<number>;
    const merchants = tx.columns.get('merchant') as ArrayLike<string>;
    const cards = [...new Set(Array.from(keys))].sort();
    expect(cards.length).toBe(100);

    // probe times: event times (the includeCurrent edge), ±1 ms around them, random times; ascending
    const rng = new Prng(includeCurrent ? 17 : 18);
    const span = ts[n - 1]! - ts[0]!;
    const probeTimes = Array.from({ length: times }, (_, i) => {
      const at = ts[rng.int(n)]!;
      return i % 10 < 5 ? at : i % 10 === 5 ? at - 1 : i % 10 === 6 ? at + 1 : ts[0]! + Math.floor(rng.next() * span);
    }).sort((a, b) => a - b);
    const probeAmount = (p: number, k: number) => ((p * 7919 + k * 104729) % 50_000) / 100 + 1;

    const spec = await loadYaml(base, 'fenestra.yaml', fraudYaml({ includeCurrent }));
    const daemon = await startDaemon(spec, { port: 0, processMetrics: false });
    const online: unknown[][] = []; // per pair (probe-major, then card), the API's values in FEATURES order
    try {
      await daemon.ready;
      let e = 0;
      for (let p = 0; p < probeTimes.length; p++) {
        const T = probeTimes[p]!;
        let end = e;
        while (end < n && ts[end]! <= T) end++;
        if (end > e) {
          const lines: string[] = [];
          for (let i = e; i < end; i++) lines.push(JSON.stringify({ cc_num: keys[i], trans_time: ts[i], amount: amounts[i], merchant: merchants[i] }));
          const r = await post(`${daemon.url}/v1/ingest/transactions?wait=visible`, lines.join('\n'), 'application/x-ndjson');
          expect(r.accepted).toBe(end - e);
          e = end;
        }
        const body = { keys: cards, features: ['fraud_model'], request: cards.map((_, k) => ({ amount: probeAmount(p, k) })), asOf: T };
        const r = await post(`${daemon.url}/v1/features`, JSON.stringify(body), 'application/json');
        expect(r.asOf).toBe(T);
        expect(r.results.length).toBe(cards.length);
        r.results.forEach((res: { key: string; features: Record<string, unknown> }, k: number) => {
          expect(res.key).toBe(cards[k]);
          online.push(FEATURES.map((f) => res.features[`cc_agg:${f}`] ?? null));
        });
      }
    } finally {
      await daemon.stop();
    }

    // the training set for the same pairs, from the offline store's raw history (the default input)
    const pairs = probeTimes.length * cards.length;
    expect(pairs).toBeGreaterThanOrEqual(includeCurrent ? 100_000 : 15_000);
    const pProbe = new Float64Array(pairs);
    const pKey = new Array<string>(pairs);
    const pTime = new Float64Array(pairs);
    const pAmount = new Float64Array(pairs);
    let i = 0;
    for (let p = 0; p < probeTimes.length; p++) {
      for (let k = 0; k < cards.length; k++, i++) {
        pProbe[i] = i;
        pKey[i] = cards[k]!;
        pTime[i] = probeTimes[p]!;
        pAmount[i] = probeAmount(p, k);
      }
    }
    const labels = join(base, 'pairs.parquet');
    const sink = new FileSink(labels);
    const w = new ParquetStreamWriter(sink, [
      { name: 'pair', type: 'long', required: true },
      { name: 'cc_num', type: 'string', required: true },
      { name: 'trans_time', type: 'timestamp', required: true },
      { name: 'amount', type: 'double', required: true },
    ]);
    w.writeRowGroup([pProbe, pKey, pTime, pAmount], pairs);
    w.finish();
    sink.close();
    const out = join(base, 'train.parquet');
    const r = await runTrainingSet({ spec, labels, features: 'fraud_model', out, quiet: true });
    expect(r.labels).toBe(pairs);
    expect(r.eventsApplied).toBeGreaterThan(0);
    const train = await readTable([out]);
    const trainCols = FEATURES.map((f) => train.columns.get(f)!);
    const pairCol = train.columns.get('pair')!;

    const mismatches: string[] = [];
    let nonEmpty10m = 0;
    for (let row = 0; row < pairs; row++) {
      expect(Number(pairCol[row])).toBe(row); // label order kept
      const api = online[row]!;
      if ((api[0] as number) > 0) nonEmpty10m++;
      for (let f = 0; f < FEATURES.length; f++) {
        const ours = trainCols[f]![row] ?? null;
        if (!Object.is(ours, api[f]) && mismatches.length < 5) {
          mismatches.push(`pair ${row} ${pKey[row]} @${new Date(pTime[row]!).toISOString()} ${FEATURES[f]}: training ${String(ours)}, API ${String(api[f])}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
    // the probes exercise the windows: many pairs see their card's events of the last 10 minutes
    expect(nonEmpty10m).toBeGreaterThan(times / 4);
  }, 120_000);
});
