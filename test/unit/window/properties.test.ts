/**
 * Property tests: every aggregation × window kind against the brute-force oracle, over random streams
 * with out-of-order events, equal timestamps, late events, empty windows and reads at random times.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isFenestraError } from '../../../core/errors.js';
import { AggregatedGroupState, readEncoded } from '../../../core/window/index.js';
import { group, source } from './fixtures.js';
import { aggregate, diff, featuresFor, Oracle, type WindowDef } from './oracle.js';

type Op =
  | { op: 'ev'; key: string; adv: number; back: number; x: number | null; s: string | null; b: boolean | null }
  | { op: 'read'; key: string; off: number };

const keyArb = fc.constantFrom('a', 'b');
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('ev' as const),
      key: keyArb,
      adv: fc.oneof(fc.constant(0), fc.nat(40), fc.nat(400)),
      back: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat(300) }),
      x: fc.option(fc.integer({ min: -400, max: 400 }).map((v) => v / 4), { nil: null }),
      s: fc.option(fc.constantFrom('p', 'q', 'r'), { nil: null }),
      b: fc.option(fc.boolean(), { nil: null }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('read' as const), key: keyArb, off: fc.integer({ min: -900, max: 1500 }) }) },
);

const FIELDS: Array<[string, 'double' | 'string' | 'boolean']> = [['x', 'double'], ['s', 'string'], ['b', 'boolean']];

function expectedValues(oracle: Oracle, windows: readonly WindowDef[], key: string, t: number, includeCurrent: boolean) {
  const out: Record<string, unknown> = {};
  windows.forEach((w, i) => {
    const evs = oracle.window(key, w, t, includeCurrent);
    for (const f of featuresFor(`w${i}`, w)) out[f.name] = aggregate(f.agg, f.field, evs);
  });
  return out;
}

function run(windows: readonly WindowDef[], lateness: number, includeCurrent: boolean, start: number, ops: readonly Op[]): void {
  const spec = group(windows.flatMap((w, i) => featuresFor(`w${i}`, w)), includeCurrent);
  // Half of the runs (by the parity of the random start) make x required: partials then keep no value count.
  const xRequired = (start & 1) === 0;
  const src = source(FIELDS, lateness, xRequired ? ['x'] : []);
  const st = new AggregatedGroupState(spec, src);
  const oracle = new Oracle(lateness);
  let cursor = start;
  const check = (key: string, t: number) => {
    const newest = oracle.newest(key);
    const want = expectedValues(oracle, windows, key, t, includeCurrent);
    let got;
    try {
      got = st.read(key, t);
    } catch (e) {
      if (isFenestraError(e) && e.code === 'AS_OF_OUT_OF_RANGE' && t < newest - lateness) return;
      throw e;
    }
    expect(got.found).toBe(newest !== -Infinity);
    expect(got.version).toBe(oracle.version(key));
    const d = diff(got.values, want);
    if (d.length) throw new Error(`read ${key} at ${t} (newest ${newest}): ${d.join('; ')}`);
    // Tiled windows stay within the documented bound of the exact window.
    windows.forEach((w, i) => {
      if (w.kind !== 'sliding' || w.precision === 0) return;
      const exact = oracle.window(key, { ...w, precision: 0 }, t, includeCurrent).length;
      const extra = oracle.inRange(key, Math.floor((t - w.size) / w.precision) * w.precision, true, t - w.size, true)
        .filter((e) => (includeCurrent ? e.ts <= t : e.ts < t)).length;
      const tiled = got.values[`w${i}_count`] as number;
      expect(tiled).toBeGreaterThanOrEqual(exact);
      expect(tiled).toBeLessThanOrEqual(exact + extra);
    });
  };
  for (const op of ops) {
    if (op.op === 'ev') {
      cursor += op.adv;
      const ts = cursor - op.back;
      const values = { x: xRequired && op.x === null ? 1.25 : op.x, s: op.s, b: op.b };
      const accepted = oracle.apply(op.key, ts, values);
      const out = st.apply(op.key, ts, values);
      expect(out.ok).toBe(accepted);
      if (out.ok) expect(out.version).toBe(oracle.version(op.key));
      else expect(out.code).toBe('EVENT_LATE');
    } else {
      const newest = oracle.newest(op.key);
      check(op.key, (newest === -Infinity ? cursor : newest) + op.off);
    }
  }
  // Always check reads at the newest time, at newest − lateness and long after.
  for (const key of ['a', 'b']) {
    const newest = oracle.newest(key);
    if (newest === -Infinity) continue;
    for (const t of [newest, newest - lateness, newest + 1, newest + 100_000]) check(key, t);
    // Just below the always-exact range and around tile boundaries: exact or AS_OF_OUT_OF_RANGE.
    const t0 = newest - lateness;
    for (const w of windows) {
      if (w.precision === 0) continue;
      const f = Math.floor(t0 / w.precision) * w.precision;
      for (const t of [f - 1, f, f - Math.ceil(w.precision / 2), t0 - 1, t0 - w.precision]) check(key, t);
    }
    // encode → restore → read equals the original
    const bytes = st.encode(key)!;
    const copy = new AggregatedGroupState(spec, src);
    copy.restore(key, bytes);
    for (const t of [newest - lateness, newest, newest + 250, newest + 5_000]) {
      expect(copy.read(key, t)).toEqual(st.read(key, t));
      expect(readEncoded(spec, src, bytes, t)).toEqual(st.read(key, t));
    }
    expect(copy.encode(key)).toEqual(bytes);
  }
}

const lateArb = fc.integer({ min: 0, max: 200 });
const startArb = fc.integer({ min: -3000, max: 3000 });
const opsArb = fc.array(opArb, { maxLength: 60 });
const RUNS = { numRuns: 300 };

describe('window state vs brute-force oracle', () => {
  it('sliding exact windows', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 700 }), lateArb, fc.boolean(), startArb, opsArb, (w, l, inc, start, ops) =>
        run([{ kind: 'sliding', size: w, precision: 0 }], l, inc, start, ops),
      ),
      RUNS,
    );
  });

  it('sliding tiled windows (far edge rounded down to the tile; within the bound of the exact window)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 700 }), fc.integer({ min: 1, max: 250 }), lateArb, fc.boolean(), fc.boolean(), startArb, opsArb, (w, p, l, inc, twin, start, ops) =>
        run([{ kind: 'sliding', size: w, precision: p }, ...(twin ? [{ kind: 'sliding', size: w, precision: 0 } as const] : [])], l, inc, start, ops),
      ),
      RUNS,
    );
  });

  it('tumbling windows (exact, and tiled with a precision dividing the size)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 120 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 900 }), lateArb, fc.boolean(), startArb, opsArb,
        (p, k, s, l, inc, start, ops) =>
          run([{ kind: 'tumbling', size: p * k, precision: p }, { kind: 'tumbling', size: s, precision: 0 }], l, inc, start, ops),
      ),
      RUNS,
    );
  });

  it('lifetime windows', () => {
    fc.assert(
      fc.property(lateArb, fc.boolean(), startArb, opsArb, (l, inc, start, ops) => run([{ kind: 'lifetime', size: 0, precision: 0 }], l, inc, start, ops)),
      RUNS,
    );
  });

  it('every window kind in one group (shared raw buffer and tiles)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 500 }), fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 900 }), fc.integer({ min: 1, max: 200 }),
        lateArb, fc.boolean(), startArb, opsArb,
        (w, p, w2, p2, l, inc, start, ops) =>
          run(
            [
              { kind: 'sliding', size: w, precision: 0 },
              { kind: 'sliding', size: w2, precision: p2 },
              { kind: 'sliding', size: w * 3, precision: p },
              { kind: 'tumbling', size: p * 4, precision: p },
              { kind: 'lifetime', size: 0, precision: 0 },
            ],
            l, inc, start, ops,
          ),
      ),
      { numRuns: 200 },
    );
  });
});
