import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FenestraError } from '../../../core/errors.js';
import { decodeEntity, encodeEntityGeneric } from '../../../core/window/codec.js';
import { AggregatedGroupState, readEncoded } from '../../../core/window/index.js';
import { compiledFor } from '../../../core/window/layout.js';
import { ccAgg, group, HOUR, MIN, source } from './fixtures.js';
import { featuresFor } from './oracle.js';

const src = source([['x', 'double'], ['s', 'string'], ['b', 'boolean']], 50);
const spec = group([
  ...featuresFor('e', { kind: 'sliding', size: 300, precision: 0 }),
  ...featuresFor('t', { kind: 'sliding', size: 900, precision: 70 }),
  ...featuresFor('u', { kind: 'tumbling', size: 400, precision: 100 }),
  ...featuresFor('l', { kind: 'lifetime', size: 0, precision: 0 }),
]);

const eventsArb = fc.array(
  fc.record({
    dt: fc.integer({ min: -60, max: 300 }),
    x: fc.option(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), { nil: null }),
    s: fc.option(fc.string({ unit: 'binary', maxLength: 6 }), { nil: null }),
    b: fc.option(fc.boolean(), { nil: null }),
  }),
  { minLength: 1, maxLength: 40 },
);

function build(events: ReadonlyArray<{ dt: number; x: number | null; s: string | null; b: boolean | null }>): { st: AggregatedGroupState; newest: number } {
  const st = new AggregatedGroupState(spec, src);
  let t = 1_700_000_000_000;
  let newest = -Infinity;
  for (const e of events) {
    t += e.dt;
    if (st.apply('k', t, e).ok) newest = Math.max(newest, t);
  }
  return { st, newest };
}

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return e instanceof FenestraError ? e.code : String(e);
  }
  return 'no error';
}

describe('encode / restore', () => {
  it('restores states that read exactly like the original (property)', () => {
    fc.assert(
      fc.property(eventsArb, fc.array(fc.integer({ min: -50, max: 3000 }), { minLength: 1, maxLength: 5 }), (events, offsets) => {
        const { st, newest } = build(events);
        const bytes = st.encode('k')!;
        const copy = new AggregatedGroupState(spec, src);
        copy.restore('k', bytes);
        for (const off of offsets) {
          expect(copy.read('k', newest + off)).toEqual(st.read('k', newest + off));
          expect(readEncoded(spec, src, bytes, newest + off)).toEqual(st.read('k', newest + off));
        }
        expect(copy.encode('k')).toEqual(bytes);
        // restored state keeps working like the original
        expect(copy.apply('k', newest + 1, { x: 1, s: 'z', b: true })).toEqual(st.apply('k', newest + 1, { x: 1, s: 'z', b: true }));
        expect(copy.encode('k')).toEqual(st.encode('k'));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses any changed, truncated or extended bytes with CHECKPOINT_CORRUPT and keeps the old state (property)', () => {
    fc.assert(
      fc.property(eventsArb, fc.nat(), fc.integer({ min: 1, max: 255 }), fc.constantFrom('flip', 'truncate', 'extend'), (events, at, xor, how) => {
        const { st, newest } = build(events);
        const bytes = st.encode('k')!;
        const bad = new Uint8Array(bytes);
        const i = at % bytes.length;
        let input: Uint8Array = bad;
        if (how === 'flip') bad[i] ^= xor;
        else if (how === 'truncate') input = bad.subarray(0, i);
        else input = new Uint8Array([...bytes, xor]);
        const target = new AggregatedGroupState(spec, src);
        target.apply('k', 5, { x: 7 });
        expect(code(() => target.restore('k', input))).toBe('CHECKPOINT_CORRUPT');
        expect(code(() => readEncoded(spec, src, input, newest))).toBe('CHECKPOINT_CORRUPT');
        expect(target.read('k', 5).values.e_sum_x).toBe(7);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses bytes written for another feature layout with CHECKPOINT_MISMATCH', () => {
    const a = new AggregatedGroupState(group(ccAgg()), source([['amount', 'double']], MIN));
    a.apply('k', 1_700_000_000_000, { amount: 3 });
    const other = ccAgg().map((f) => (f.precision === HOUR ? { ...f, precision: 2 * HOUR } : f));
    const b = new AggregatedGroupState(group(other), source([['amount', 'double']], MIN));
    expect(code(() => b.restore('k', a.encode('k')!))).toBe('CHECKPOINT_MISMATCH');
    expect(code(() => b.restore('k', new Uint8Array([1, 2, 3])))).toBe('CHECKPOINT_CORRUPT');
  });
});

describe('encode / restore of strings', () => {
  it('keeps non-ASCII text and lone surrogates exactly', () => {
    const st = new AggregatedGroupState(spec, src);
    const texts = ['é', '日本', '😀', '\uD800', 'a\uDC00b', ''];
    texts.forEach((s, i) => st.apply('k', 1000 + i, { s }));
    const copy = new AggregatedGroupState(spec, src);
    copy.restore('k', st.encode('k')!);
    expect(copy.read('k', 1005).values.e_count_distinct_s).toBe(texts.length);
    expect(copy.read('k', 1004).values.e_last_s).toBe('a\uDC00b');
    expect(copy.read('k', 1003).values.l_last_s).toBe('\uD800');
    expect(copy.read('k', 1005)).toEqual(st.read('k', 1005));
  });
});

/** `expect(a).toEqual(b)` for byte arrays, compared natively first (toEqual walks megabytes slowly). */
function expectSameBytes(a: Uint8Array, b: Uint8Array): void {
  if (Buffer.compare(a, b) !== 0) expect(a).toEqual(b);
}

describe('encode after drainDirty (shared slabs)', () => {
  it('gives the bytes of a copy, and bytes handed out never change afterwards', () => {
    const st = new AggregatedGroupState(spec, src);
    const kept: Array<{ view: Uint8Array; copy: Uint8Array }> = [];
    let seed = 7;
    const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    let t = 1_700_000_000_000;
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 500; i++) {
        t += Math.floor(rnd() * 20);
        st.apply(`k${Math.floor(rnd() * 300)}`, t, { x: rnd() * 100, s: `m${Math.floor(rnd() * 9)}`, b: rnd() < 0.5 });
      }
      // One large entity (beyond what a slab takes in place) now and then.
      if (round % 10 === 0) for (let i = 0; i < 3000; i++) st.apply('big', t, { x: i, s: `s${i}`, b: true });
      const keys = st.drainDirty();
      const views = keys.map((key) => st.encode(key)!);
      keys.forEach((key, i) => {
        const copy = st.encode(key)!; // after the drained run: a fresh copy
        expect(copy.buffer).not.toBe(views[i]!.buffer);
        expectSameBytes(views[i]!, copy);
        if (rnd() < 0.2) kept.push({ view: views[i]!, copy });
      });
      expect(new Set(views.map((v) => v.buffer)).size).toBeLessThan(views.length); // shared
    }
    expect(kept.length).toBeGreaterThan(500);
    for (const { view, copy } of kept) expectSameBytes(view, copy);
    // Views decode like copies (byteOffset honoured).
    const last = kept[kept.length - 1]!;
    const a = new AggregatedGroupState(spec, src);
    a.restore('x', last.view);
    const b = new AggregatedGroupState(spec, src);
    b.restore('x', last.copy);
    expect(a.read('x', t)).toEqual(b.read('x', t));
  });
});

describe('encode of numeric groups (the fast path)', () => {
  const numericFeatures = (prefix: string, w: Parameters<typeof featuresFor>[1]) =>
    featuresFor(prefix, w).filter((f) => f.agg !== 'count_distinct' && f.field !== 's');
  const numSpec = group([
    ...numericFeatures('e', { kind: 'sliding', size: 300, precision: 0 }),
    ...numericFeatures('t', { kind: 'sliding', size: 900, precision: 70 }),
    ...numericFeatures('u', { kind: 'tumbling', size: 400, precision: 100 }),
    ...numericFeatures('l', { kind: 'lifetime', size: 0, precision: 0 }),
  ]);

  it('writes the same bytes as the generic writer, and they restore (property)', () => {
    fc.assert(
      fc.property(eventsArb, fc.boolean(), fc.integer({ min: -50, max: 3000 }), (events, xRequired, off) => {
        const s = source([['x', 'double'], ['b', 'boolean']], 50, xRequired ? ['x'] : []);
        const g = compiledFor(numSpec, s);
        expect(g.numericWire).toBe(true);
        const st = new AggregatedGroupState(numSpec, s);
        let t = 1_700_000_000_000;
        let newest = -Infinity;
        for (const e of events) {
          t += e.dt;
          const ev = { x: e.x ?? (xRequired ? 0 : null), b: e.b };
          if (st.apply('k', t, ev).ok) newest = Math.max(newest, t);
        }
        const bytes = st.encode('k')!;
        const copy = new AggregatedGroupState(numSpec, s);
        copy.restore('k', bytes);
        expect(copy.read('k', newest + off)).toEqual(st.read('k', newest + off));
        // The generic writer over the restored array (same state) gives the same bytes.
        expect(encodeEntityGeneric(g, decodeEntity(g, bytes))).toEqual(bytes);
      }),
      { numRuns: 300 },
    );
  });

  it('is not used for groups with strings or distinct sets', () => {
    expect(compiledFor(spec, src).numericWire).toBe(false);
  });
});
