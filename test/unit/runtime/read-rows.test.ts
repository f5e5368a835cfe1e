/**
 * FeatureReader.readRows (the batch route's read) gives, key by key, the values `read` gives: the
 * states' `readInto` path (aggregated groups with derived features, shared or per-key request
 * fields; stored groups) and the `read` path (states without `readInto`), any subset and order of
 * features, unknown keys.
 */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../../config/load.js';
import type { AggregatedGroupSpec } from '../../../core/model.js';
import type { ReadOptions } from '../../../core/runtime/api.js';
import { FeatureReader } from '../../../core/runtime/reader.js';
import type { StateGroup } from '../../../core/runtime/state-group.js';
import { StoredGroupState } from '../../../core/stored/index.js';
import { AggregatedGroupState } from '../../../core/window/index.js';

const T = Date.parse('2026-01-01T22:00:00Z');

async function setup(withoutReadInto: boolean): Promise<FeatureReader> {
  const spec = await loadConfig(fileURLToPath(new URL('../../../config/fenestra.yaml', import.meta.url)));
  const g = spec.groups.get('cc_agg') as AggregatedGroupSpec;
  const agg = new AggregatedGroupState(g, spec.sources.get(g.source)!);
  for (let k = 0; k < 30; k++) {
    for (let j = 0; j < (k % 7) * 3; j++) agg.apply(`card-${k}`, T - 40 * 86_400_000 + j * ((k + 1) * 3_600_000 + 17_000), { amount: ((k * 31 + j * 7) % 490) / 3 });
    for (let j = 0; j < k % 5; j++) agg.apply(`card-${k}`, T - 540_000 + j * 27_000, { amount: k === 3 ? 0 : 10 + j });
  }
  const stored = new StoredGroupState(spec.groups.get('cc_batch') as ConstructorParameters<typeof StoredGroupState>[0]);
  for (let k = 0; k < 30; k += 3) {
    stored.apply({ op: 'put', key: `card-${k}`, eventTime: T - 1000 * k, strings: { event_time: String(T - 1000 * k), avg_amt_last_1w: `${k / 4}`, num_trans_last_1w: `${k}` }, expiresAt: k === 6 ? T - 1 : 0 });
  }
  // a state without readInto: the rows come from `read`
  const plain = (s: StateGroup): StateGroup => ({ name: s.name, layoutHash: s.layoutHash, read: (k, t) => s.read(k, t), has: (k) => s.has(k), size: s.size, keys: () => s.keys(), drainDirty: () => s.drainDirty(), encode: (k) => s.encode(k), restore: (k, b) => s.restore(k, b) });
  const groups = new Map<string, StateGroup>([
    ['cc_agg', withoutReadInto ? plain(agg) : agg],
    ['cc_batch', withoutReadInto ? plain(stored) : stored],
  ]);
  return new FeatureReader(spec, groups);
}

function expectSame(reader: FeatureReader, group: string, keys: string[], asOf: number, opts: ReadOptions, requests?: Record<string, unknown>[]): void {
  const rows = reader.readRows(group, keys, asOf, opts, requests);
  keys.forEach((key, i) => {
    const r = reader.read(group, key, asOf, requests === undefined ? opts : { ...opts, request: requests[i]! });
    expect(rows.found[i]).toBe(r.found);
    const names = opts.features ?? Object.keys(r.values);
    expect(rows.names).toEqual(names);
    const row = rows.values.slice(i * names.length, (i + 1) * names.length);
    expect(row).toEqual(names.map((n) => r.values[n] ?? null));
  });
}

describe('FeatureReader.readRows', () => {
  for (const withoutReadInto of [false, true]) {
    it(`equals read key by key${withoutReadInto ? ' (a state without readInto)' : ''}`, async () => {
      const reader = await setup(withoutReadInto);
      const keys = [...Array.from({ length: 30 }, (_, k) => `card-${k}`), 'nobody', 'card-3'];
      for (const asOf of [T, T + 5_000, T + 3_600_000, T + 8 * 86_400_000]) {
        expectSame(reader, 'cc_agg', keys, asOf, { request: { amount: 120 } });
        expectSame(reader, 'cc_agg', keys, asOf, {});
        expectSame(reader, 'cc_agg', keys, asOf, { features: ['amt_ratio2', 'max_amt_last_30d', 'amt_ratio2', 'num_trans_last_10m'], request: { amount: 7 } });
        expectSame(reader, 'cc_agg', keys, asOf, {}, keys.map((_, i) => (i % 4 === 0 ? {} : i % 4 === 1 ? { amount: 'x' } : { amount: i - 10 })));
        expectSame(reader, 'cc_batch', keys, asOf, {});
        expectSame(reader, 'cc_batch', keys, asOf, { features: ['num_trans_last_1w', 'avg_amt_last_1w'] });
      }
      expect(() => reader.readRows('cc_agg', keys, T, { features: ['nope'] })).toThrow(expect.objectContaining({ code: 'UNKNOWN_FEATURE' }) as Error);
      expect(() => reader.readRows('nope', keys, T, {})).toThrow(expect.objectContaining({ code: 'UNKNOWN_GROUP' }) as Error);
      expect(reader.readRows('cc_agg', [], T, {}).values).toEqual([]);
    });
  }
});
