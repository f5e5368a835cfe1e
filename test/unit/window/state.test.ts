import { describe, expect, it } from 'vitest';
import { FenestraError } from '../../../core/errors.js';
import { AggregatedGroupState } from '../../../core/window/index.js';
import { ccAgg, DAY, group, HOUR, MIN, source } from './fixtures.js';

const T = Date.parse('2026-03-14T10:00:00Z');
const src = source([['amount', 'double']], MIN);

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('AggregatedGroupState', () => {
  it('rejects late events with EVENT_LATE and both times in the reason, and places in-lateness events by time', () => {
    const st = new AggregatedGroupState(group(ccAgg()), src);
    expect(st.apply('c', T, { amount: 10 })).toEqual({ ok: true, version: 1 });
    expect(st.apply('c', T + 5 * MIN, { amount: 20 })).toEqual({ ok: true, version: 2 });
    const late = st.apply('c', T + 4 * MIN - 1, { amount: 999 });
    expect(late.ok).toBe(false);
    if (!late.ok) {
      expect(late.code).toBe('EVENT_LATE');
      expect(late.reason).toContain(new Date(T + 4 * MIN - 1).toISOString());
      expect(late.reason).toContain(new Date(T + 5 * MIN).toISOString());
    }
    // exactly at newest − allowedLateness is accepted, and lands before the newer event
    expect(st.apply('c', T + 4 * MIN, { amount: 30 })).toEqual({ ok: true, version: 3 });
    expect(st.read('c', T + 4 * MIN).values.num_trans_last_10m).toBe(2);
    expect(st.read('c', T + 5 * MIN).values.avg_amt_last_10m).toBe(20);
    // another key is independent of c's newest time
    expect(st.apply('d', T, { amount: 1 })).toEqual({ ok: true, version: 1 });
  });

  it('throws AS_OF_OUT_OF_RANGE for reads older than the state kept, never for t >= newest − lateness or quiet cards', () => {
    const spec = group([{ name: 'n10m', agg: 'count', window: { kind: 'sliding', size: 10 * MIN }, precision: 0 }]);
    const st = new AggregatedGroupState(spec, src);
    st.apply('c', T, {});
    st.apply('c', T + HOUR, {});
    const e = thrown(() => st.read('c', T + 5 * MIN));
    expect(e).toBeInstanceOf(FenestraError);
    expect((e as FenestraError).code).toBe('AS_OF_OUT_OF_RANGE');
    expect(st.read('c', T + HOUR - MIN).values.n10m).toBe(0);
    expect(st.read('c', T + HOUR).values.n10m).toBe(1);
    expect(st.read('c', T + 30 * DAY).values.n10m).toBe(0);
    expect((thrown(() => st.read('c', NaN)) as FenestraError).code).toBe('INVALID_AS_OF');
  });

  it('keeps versions as the number of applied events and reports dirty keys once per drain', () => {
    const st = new AggregatedGroupState(group(ccAgg()), src);
    st.apply('a', T, { amount: 1 });
    st.apply('b', T, { amount: 1 });
    st.apply('a', T + 1, { amount: 1 });
    expect(st.drainDirty()).toEqual(['a', 'b']);
    expect(st.drainDirty()).toEqual([]);
    expect(st.read('a', T + 1).version).toBe(2);
    st.delete('b');
    expect(st.has('b')).toBe(false);
    expect(st.drainDirty()).toEqual(['b']);
    expect(st.encode('b')).toBeNull();
    expect(st.size).toBe(1);
    expect([...st.keys()]).toEqual(['a']);
  });

  it('evicts an entity only once every window is empty for good (as of now − lateness)', () => {
    const st = new AggregatedGroupState(group(ccAgg()), src);
    st.apply('c', T, { amount: 5 });
    st.drainDirty();
    // the 30d window at 1d precision empties last: floor_1d(T) + 1d + 30d
    const emptyFrom = Math.floor(T / DAY) * DAY + DAY + 30 * DAY;
    expect(st.evictIdle(emptyFrom + MIN - 1)).toEqual([]);
    expect(st.read('c', emptyFrom - 1).values.max_amt_last_30d).toBe(5);
    const values = st.read('c', emptyFrom).values;
    expect(values).toEqual(st.read('unknown', emptyFrom).values);
    expect(st.evictIdle(emptyFrom + MIN)).toEqual(['c']);
    expect(st.has('c')).toBe(false);
    expect(st.drainDirty()).toEqual(['c']);
    expect(st.read('c', emptyFrom + MIN).values).toEqual(values);
  });

  it('never evicts entities of a group with a lifetime window', () => {
    const spec = group([{ name: 'all', agg: 'count', window: { kind: 'lifetime' }, precision: 0 }]);
    const st = new AggregatedGroupState(spec, src);
    st.apply('c', T, {});
    expect(st.evictIdle(T + 1000 * DAY)).toEqual([]);
    expect(st.read('c', T + 1000 * DAY).values.all).toBe(1);
  });

  it('refuses events missing a field the schema requires, changing nothing', () => {
    const st = new AggregatedGroupState(group(ccAgg()), source([['amount', 'double']], MIN, ['amount']));
    st.apply('c', T, { amount: 1 });
    const e = thrown(() => st.apply('c', T + 1, { amount: null })) as FenestraError;
    expect(e.code).toBe('EVENT_FIELD_MISSING');
    expect(e.path).toBe('amount');
    expect((thrown(() => st.apply('new', T, {})) as FenestraError).code).toBe('EVENT_FIELD_MISSING');
    expect(st.has('new')).toBe(false);
    expect(st.read('c', T + 1).version).toBe(1);
  });

  it('refuses non-integer event times and features on unknown fields', () => {
    const st = new AggregatedGroupState(group(ccAgg()), src);
    expect((thrown(() => st.apply('c', 1.5, {})) as FenestraError).code).toBe('EVENT_TIME_INVALID');
    const bad = group([{ name: 'x', agg: 'sum', field: 'amt', window: { kind: 'sliding', size: MIN }, precision: 0 }]);
    const e = thrown(() => new AggregatedGroupState(bad, src)) as FenestraError;
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.path).toBe('featureGroups.g.features.x.field');
  });

  it('has a layout hash that ignores feature names and order but not windows or lateness', () => {
    const a = new AggregatedGroupState(group(ccAgg()), src);
    const renamed = ccAgg().map((f, i) => ({ ...f, name: `f${i}` })).reverse();
    expect(new AggregatedGroupState(group(renamed), src).layoutHash).toBe(a.layoutHash);
    expect(new AggregatedGroupState(group(ccAgg()), source([['amount', 'double']], 2 * MIN)).layoutHash).not.toBe(a.layoutHash);
    const other = ccAgg().map((f) => (f.precision === HOUR ? { ...f, precision: 2 * HOUR } : f));
    expect(new AggregatedGroupState(group(other), src).layoutHash).not.toBe(a.layoutHash);
  });
});

describe('large entities', () => {
  it('match the oracle with thousands of events in the raw buffer and tiles (arrays beyond the small-size path)', async () => {
    const { Oracle, aggregate, diff, featuresFor } = await import('./oracle.js');
    const windows = [
      { kind: 'sliding', size: 20_000, precision: 0 },
      { kind: 'sliding', size: 60_000, precision: 1_000 },
      { kind: 'lifetime', size: 0, precision: 0 },
    ] as const;
    const spec = group(windows.flatMap((w, i) => featuresFor(`w${i}`, w)));
    const s = source([['x', 'double'], ['s', 'string'], ['b', 'boolean']], 500);
    const st = new AggregatedGroupState(spec, s);
    const oracle = new Oracle(500);
    let seed = 1;
    const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (let i = 0; i < 12_000; i++) {
      const ts = 1_000_000 + i * 3 - Math.floor(rnd() * 600);
      const ev = { x: Math.round(rnd() * 1000) / 8, s: `m${Math.floor(rnd() * 50)}`, b: rnd() < 0.5 };
      expect(st.apply('k', ts, ev).ok).toBe(oracle.apply('k', ts, ev));
      if (i % 1500 === 0 || i === 11_999) {
        const t = oracle.newest('k') - Math.floor(rnd() * 500);
        const want: Record<string, unknown> = {};
        windows.forEach((w, j) => {
          const evs = oracle.window('k', w, t, true);
          for (const f of featuresFor(`w${j}`, w)) want[f.name] = aggregate(f.agg, f.field, evs);
        });
        expect(diff(st.read('k', t).values, want)).toEqual([]);
      }
    }
    const copy = new AggregatedGroupState(spec, s);
    copy.restore('k', st.encode('k')!);
    const t = oracle.newest('k');
    expect(copy.read('k', t)).toEqual(st.read('k', t));
  });
});
