import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const T0 = Date.UTC(2024, 0, 1);
export const LATENESS_MS = 5 * 60_000;

export interface GeneratedData {
  readonly dir: string;
  readonly events: number;
  readonly keys: number;
  /** Events made malformed on purpose (dead-lettered whatever the order). */
  readonly malformed: number;
  /** Instant after the last event (the fixed `asOf` of the dumps). */
  readonly end: number;
}

/**
 * Writes `events` transactions over `keys` cards into three files, each a split, cards partitioned
 * by number (so one card's events stay in one split, in order): `00-tx.ndjson`, `01-tx.csv`,
 * `02-tx.parquet`. Event times are out of order within the lateness (up to 4 minutes back), some
 * 1% are 10–60 minutes back (late for busy cards), and ~0.5% are malformed in format-specific ways.
 */
export async function generateEvents(dir: string, events: number, keys: number, seed = 42): Promise<GeneratedData> {
  await mkdir(dir, { recursive: true });
  const r = rng(seed);
  const nd: string[] = [];
  const csv: string[] = ['cc_num,amount,trans_time,merchant'];
  const pq = { cc: [] as string[], amount: [] as (number | null)[], t: [] as bigint[], merchant: [] as (string | null)[] };
  let malformed = 0;
  let clock = T0;
  for (let i = 0; i < events; i++) {
    clock += Math.floor(r() * 600); // ~300 ms apart on average
    const card = Math.floor(r() * keys);
    const cc = `card-${String(card).padStart(5, '0')}`;
    let ts = clock - Math.floor(r() * 4 * 60_000);
    if (r() < 0.01) ts = clock - 10 * 60_000 - Math.floor(r() * 50 * 60_000);
    const amount = Math.round(r() * 50_000) / 100;
    const merchant = `m${Math.floor(r() * 40)}`;
    const bad = r() < 0.005;
    if (bad) malformed++;
    const kind = Math.floor(r() * 3);
    switch (card % 3) {
      case 0: {
        if (!bad) nd.push(JSON.stringify({ cc_num: cc, amount, trans_time: ts, merchant }));
        else if (kind === 0) nd.push(`{"cc_num":"${cc}","amount":${amount},"trans_time":`);
        else if (kind === 1) nd.push(JSON.stringify({ cc_num: cc, amount: 'lots', trans_time: ts }));
        else nd.push(JSON.stringify({ cc_num: cc, amount, trans_time: 'tomorrow' }));
        break;
      }
      case 1: {
        const iso = new Date(ts).toISOString();
        if (!bad) csv.push(`${cc},${amount},${iso},"${merchant}"`);
        else if (kind === 0) csv.push(`${cc},${amount}`);
        else if (kind === 1) csv.push(`${cc},,${iso},${merchant}`);
        else csv.push(`${cc},${amount},2024-13-45T00:00:00Z,${merchant}`);
        break;
      }
      default: {
        pq.cc.push(cc);
        pq.amount.push(bad ? null : amount);
        pq.t.push(BigInt(ts));
        pq.merchant.push(r() < 0.1 ? null : merchant);
      }
    }
  }
  await writeFile(join(dir, '00-tx.ndjson'), `${nd.join('\n')}\n`);
  await writeFile(join(dir, '01-tx.csv'), `${csv.join('\n')}\n`);
  parquetWriteFile({
    filename: join(dir, '02-tx.parquet'),
    columnData: [
      { name: 'cc_num', data: pq.cc, type: 'STRING' },
      { name: 'amount', data: pq.amount, type: 'DOUBLE' },
      { name: 'trans_time', data: pq.t, type: 'INT64' },
      { name: 'merchant', data: pq.merchant, type: 'STRING' },
    ],
    rowGroupSize: 10_000,
  });
  return { dir, events, keys, malformed, end: clock + 60_000 };
}

/** The engine config the crash test runs (a file source over `dataDir`, state under `stateDir`). */
export function crashConfig(dataDir: string, stateDir: string, checkpointInterval: string): string {
  return `
state:
  dir: ${JSON.stringify(stateDir)}
  checkpointInterval: ${checkpointInterval}
entities:
  card:
    key: cc_num
sources:
  history:
    type: file
    path: ${JSON.stringify(dataDir)}
    entity: card
    allowedLateness: 5m
    eventTime:
      field: trans_time
    schema:
      cc_num: string
      amount: double
      trans_time: timestamp
      merchant: { type: string, optional: true }
featureGroups:
  cc_agg:
    source: history
    features:
      num_trans_last_10m: { agg: count, window: 10m }
      avg_amt_last_10m:   { agg: avg, field: amount, window: 10m }
      num_trans_last_1w:  { agg: count, window: 7d }
      avg_amt_last_1w:    { agg: avg, field: amount, window: 7d, precision: 1h }
      max_amt_last_30d:   { agg: max, field: amount, window: 30d, precision: 1d }
      sum_amt_1h:         { agg: sum, field: amount, window: 1h }
      std_amt_1d:         { agg: stddev, field: amount, window: 1d, precision: 15m }
      merchants_1d:       { agg: count_distinct, field: merchant, window: 1d }
      last_merchant:      { agg: last, field: merchant, window: lifetime }
      first_amt:          { agg: first, field: amount, window: lifetime }
      min_amt_daily:      { agg: min, field: amount, window: { tumbling: 1d } }
    derived:
      amt_ratio1:  { expr: "avg_amt_last_10m / avg_amt_last_1w" }
      count_ratio: { expr: "num_trans_last_10m / num_trans_last_1w" }
`;
}
