import { describe, expect, it } from 'vitest';
import type { FeatureRead } from '../../../core/runtime/api.js';
import { batchAnswerJson, oneAnswerJson, valueJson } from '../../../daemon/routes/features-json.js';

const read = (key: string, found: boolean, values: FeatureRead['values']): FeatureRead => ({ group: 'g', key, found, asOf: 5, version: found ? 1 : 0, values });

describe('batch answer JSON', () => {
  it('writes values as JSON does, non-finite numbers as null', () => {
    for (const v of [0, -1.5, 1e21, 2 ** 53 + 2, 0.1 + 0.2, 'a"\\\n\u2028', '', true, false, null]) expect(valueJson(v)).toBe(JSON.stringify(v));
    expect([valueJson(Number.NaN), valueJson(Infinity), valueJson(-Infinity), valueJson(undefined)]).toEqual(['null', 'null', 'null', 'null']);
  });

  it('equals the JSON of the answer object: keys in order, groups merged per key, missing values null', () => {
    const keys = ['k1', 'k "2"'];
    const text = batchAnswerJson(1767305105000, keys, [
      { group: 'cc_agg', features: ['n', 'avg'], reads: [read('k1', true, { n: 2, avg: 1.25 }), read('k "2"', false, { n: 0, avg: null })] },
      { group: 'cc_batch', features: ['x'], reads: [read('k1', false, {}), read('k "2"', true, { x: 'text' })] },
    ]);
    expect(text).toBe(
      JSON.stringify({
        asOf: 1767305105000,
        features: ['cc_agg:n', 'cc_agg:avg', 'cc_batch:x'],
        results: [
          { key: 'k1', found: { cc_agg: true, cc_batch: false }, features: { 'cc_agg:n': 2, 'cc_agg:avg': 1.25, 'cc_batch:x': null } },
          { key: 'k "2"', found: { cc_agg: false, cc_batch: true }, features: { 'cc_agg:n': 0, 'cc_agg:avg': null, 'cc_batch:x': 'text' } },
        ],
      }),
    );
    expect(JSON.parse(batchAnswerJson(1, [], []))).toEqual({ asOf: 1, features: [], results: [] });
  });

  it('writes the one-key answer as JSON.stringify would (NaN as null, where fast-json-stringify would throw)', () => {
    const r = { group: 'cc_agg', key: '12"48', found: true, asOf: 1767305105000, version: 4, values: { n: 4, avg: 200, ratio: Number.NaN, note: 'x', ok: true, none: null } };
    expect(JSON.parse(oneAnswerJson(r))).toEqual({ group: 'cc_agg', key: '12"48', found: true, asOf: 1767305105000, version: 4, features: { n: 4, avg: 200, ratio: null, note: 'x', ok: true, none: null } });
    expect(oneAnswerJson(r)).toBe(JSON.stringify({ group: r.group, key: r.key, found: true, asOf: r.asOf, version: 4, features: r.values }));
  });
});
