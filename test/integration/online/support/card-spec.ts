/**
 * A small compiled config for the online-store tests that run the real engine: entity `card`, one
 * source `tx` (cc_num, amt, trans_time) and one aggregated group `cc_agg` of exact windows (10 m, 1 h,
 * lifetime), so a brute-force oracle can compute every feature exactly.
 */
import { join } from 'node:path';
import type { AggregatedGroupSpec, EngineSpec, SourceSpec } from '../../../../core/model.js';

export const MIN = 60_000;

export const txSource: SourceSpec = {
  name: 'tx',
  type: 'test-array',
  entity: 'card',
  keyField: 'cc_num',
  eventTimeField: 'trans_time',
  fields: [
    { name: 'cc_num', type: 'string', optional: false },
    { name: 'amt', type: 'double', optional: false },
    { name: 'trans_time', type: 'timestamp', optional: false },
  ],
  allowedLateness: 365 * 24 * 60 * MIN,
  exactlyOnce: true,
  options: {},
};

export const ccAgg: AggregatedGroupSpec = {
  kind: 'aggregated',
  name: 'cc_agg',
  entity: 'card',
  source: 'tx',
  includeCurrent: true,
  derived: [
    { name: 'avg_amt_last_10m', expr: 'sum_amt_last_10m / double(num_trans_last_10m)', onNull: 'null', onDivZero: 'null', requestFields: [] },
    { name: 'amt_ratio_1h_max', expr: 'request.amount / max_amt_last_1h', onNull: 'null', onDivZero: 'null', requestFields: ['amount'] },
  ],
  features: [
    { name: 'num_trans_last_10m', agg: 'count', window: { kind: 'sliding', size: 10 * MIN }, precision: 0 },
    { name: 'sum_amt_last_10m', agg: 'sum', field: 'amt', window: { kind: 'sliding', size: 10 * MIN }, precision: 0 },
    { name: 'num_trans_last_1h', agg: 'count', window: { kind: 'sliding', size: 60 * MIN }, precision: 0 },
    { name: 'max_amt_last_1h', agg: 'max', field: 'amt', window: { kind: 'sliding', size: 60 * MIN }, precision: 0 },
    { name: 'num_trans_total', agg: 'count', window: { kind: 'lifetime' }, precision: 0 },
    { name: 'sum_amt_total', agg: 'sum', field: 'amt', window: { kind: 'lifetime' }, precision: 0 },
  ],
};

export function cardSpec(stateDir: string, online: EngineSpec['online'], flushInterval = 50): EngineSpec {
  return {
    baseDir: stateDir,
    server: { host: '127.0.0.1', port: 0, bodyLimit: 1 << 20 },
    state: { dir: stateDir, checkpointInterval: 0, flushInterval, instanceId: 'card-spec' },
    entities: new Map([['card', { name: 'card', key: 'cc_num' }]]),
    sources: new Map([['tx', txSource]]),
    groups: new Map([['cc_agg', ccAgg]]),
    services: new Map(),
    online,
    offline: { type: 'parquet', options: { path: join(stateDir, 'offline') } },
    deadLetters: { path: join(stateDir, 'dead-letters.ndjson') },
  };
}

export interface Tx {
  readonly cc_num: string;
  readonly amt: number;
  readonly trans_time: number;
}

/** Deterministic transactions: `n` events over `cards` cards, event time increasing by 0–3 s. */
export function transactions(n: number, cards: number, t0 = 1_700_000_000_000, seed = 7, cardPrefix = '4'): Tx[] {
  let s = seed >>> 0;
  const rnd = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out: Tx[] = [];
  let t = t0;
  for (let i = 0; i < n; i++) {
    t += Math.floor(rnd() * 3000);
    out.push({ cc_num: `${cardPrefix}${String(Math.floor(rnd() * cards)).padStart(15, '0')}`, amt: Math.round(rnd() * 50000) / 100, trans_time: t });
  }
  return out;
}

/**
 * Brute-force features of one card as of `t` (the oracle), with its version (= its event count).
 * Derived features are included when `request` is given (`amount` for amt_ratio_1h_max).
 */
export function oracle(
  txs: readonly Tx[],
  card: string,
  t: number,
  request?: { amount?: number },
): { version: number; values: Record<string, number | null> } {
  const mine = txs.filter((x) => x.cc_num === card);
  const inWin = (w: number) => mine.filter((x) => x.trans_time > t - w && x.trans_time <= t);
  const upTo = mine.filter((x) => x.trans_time <= t);
  const w10 = inWin(10 * MIN);
  const w60 = inWin(60 * MIN);
  const values: Record<string, number | null> = {
    num_trans_last_10m: w10.length,
    sum_amt_last_10m: w10.reduce((a, x) => a + x.amt, 0),
    num_trans_last_1h: w60.length,
    max_amt_last_1h: w60.length === 0 ? null : Math.max(...w60.map((x) => x.amt)),
    num_trans_total: upTo.length,
    sum_amt_total: upTo.reduce((a, x) => a + x.amt, 0),
  };
  if (request !== undefined) {
    values.avg_amt_last_10m = w10.length === 0 ? null : values.sum_amt_last_10m! / w10.length;
    const max = values.max_amt_last_1h;
    values.amt_ratio_1h_max = request.amount === undefined || max === null || max === 0 ? null : request.amount / max;
  }
  return { version: mine.length, values };
}

/** Compares feature values, sums to 1e-6 relative (float addition order may differ). */
export function sameValues(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    const x = a[k];
    const y = b[k];
    if (typeof x === 'number' && typeof y === 'number') {
      if (Math.abs(x - y) > 1e-6 * Math.max(1, Math.abs(x), Math.abs(y))) return false;
    } else if (x !== y) return false;
  }
  return true;
}
