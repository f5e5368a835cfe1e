import { describe, expect, it } from 'vitest';
import { AggregatedGroupState, readEncoded } from '../../../core/window/index.js';
import { ccAgg, group, source } from './fixtures.js';

const at = (hms: string) => Date.parse(`2026-03-14T${hms}Z`);

describe('window decay (core issue example)', () => {
  const src = source([['amount', 'double'], ['merchant', 'string']], 60_000, ['amount']);
  const spec = group(ccAgg());

  function card(): AggregatedGroupState {
    const st = new AggregatedGroupState(spec, src);
    for (const [t, amount] of [['22:01:00', 50], ['22:03:59', 200], ['22:04:28', 50], ['22:05:05', 500]] as const) {
      expect(st.apply('4512', at(t), { cc_num: '4512', amount, trans_time: at(t) }).ok).toBe(true);
    }
    return st;
  }

  it('reads 4 payments averaging 200 at 22:05:05, and 0 / null at 22:30:00', () => {
    const st = card();
    const now = st.read('4512', at('22:05:05'));
    expect(now.found).toBe(true);
    expect(now.version).toBe(4);
    expect(now.values.num_trans_last_10m).toBe(4);
    expect(now.values.avg_amt_last_10m).toBe(200);
    expect(now.values.num_trans_last_1w).toBe(4);
    expect(now.values.max_amt_last_30d).toBe(500);
    const later = st.read('4512', at('22:30:00'));
    expect(later.values.num_trans_last_10m).toBe(0);
    expect(later.values.avg_amt_last_10m).toBeNull();
    expect(later.values.num_trans_last_1w).toBe(4);
    expect(later.values.avg_amt_last_1w).toBe(200);
  });

  it('gives the same values from the encoded state', () => {
    const st = card();
    const bytes = st.encode('4512')!;
    expect(readEncoded(spec, src, bytes, at('22:05:05')).values).toEqual(st.read('4512', at('22:05:05')).values);
    expect(readEncoded(spec, src, bytes, at('22:30:00')).values).toEqual(st.read('4512', at('22:30:00')).values);
  });

  it('reads an unknown key as not found with zero counts and null averages', () => {
    const st = card();
    expect(st.read('nope', at('22:05:05'))).toEqual({
      found: false,
      version: 0,
      values: { num_trans_last_10m: 0, avg_amt_last_10m: null, num_trans_last_1w: 0, avg_amt_last_1w: null, max_amt_last_30d: null },
    });
  });
});
