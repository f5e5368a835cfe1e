/**
 * Dirty-key tracking (an epoch inside each entity's array plus a key list) against a model: a plain
 * Set of changed keys in first-change order, the semantics `drainDirty` documents. Also checks that
 * `encode` after `drainDirty` (which reuses the arrays the drain looked up) gives the same bytes as a
 * state that never drains, whatever happens between the drain and the encodes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AggFeatureSpec } from '../../../core/model.js';
import { MAX_EPOCH } from '../../../core/window/entity-array.js';
import { AggregatedGroupState } from '../../../core/window/index.js';
import { DAY, group, HOUR, MIN, source } from './fixtures.js';

type Op =
  | { op: 'ev'; key: string; adv: number; back: number; x: number }
  | { op: 'del'; key: string }
  | { op: 'restore'; key: string; from: string }
  | { op: 'evict'; ahead: number }
  | { op: 'drain'; encodeFirst: number }
  | { op: 'encode'; key: string };

const keyArb = fc.constantFrom('a', 'b', 'c', 'd');
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ op: fc.constant('ev' as const), key: keyArb, adv: fc.nat(3 * HOUR), back: fc.nat(2 * MIN), x: fc.integer({ min: 0, max: 1000 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('del' as const), key: keyArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('restore' as const), key: keyArb, from: keyArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('evict' as const), ahead: fc.nat(40 * DAY) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('drain' as const), encodeFirst: fc.nat(5) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('encode' as const), key: keyArb }) },
);

/** Layouts with 0, 1 and 2 tile sets (the dirty flag sits in a different counter lane in each). */
const LAYOUTS: Record<string, AggFeatureSpec[]> = {
  exactOnly: [
    { name: 'n', agg: 'count', window: { kind: 'sliding', size: 10 * MIN }, precision: 0 },
    { name: 's', agg: 'sum', field: 'x', window: { kind: 'sliding', size: 10 * MIN }, precision: 0 },
  ],
  oneTileSet: [
    { name: 'n', agg: 'count', window: { kind: 'sliding', size: 10 * MIN }, precision: 0 },
    { name: 'a', agg: 'avg', field: 'x', window: { kind: 'sliding', size: 7 * DAY }, precision: HOUR },
  ],
  twoTileSets: [
    { name: 'n', agg: 'count', window: { kind: 'sliding', size: 10 * MIN }, precision: 0 },
    { name: 'a', agg: 'avg', field: 'x', window: { kind: 'sliding', size: 7 * DAY }, precision: HOUR },
    { name: 'm', agg: 'max', field: 'x', window: { kind: 'sliding', size: 30 * DAY }, precision: DAY },
  ],
};

function run(features: AggFeatureSpec[], ops: readonly Op[], startEpoch?: number): void {
  const spec = group(features);
  const src = source([['x', 'double']], MIN, ['x']);
  const st = new AggregatedGroupState(spec, src);
  // White box: start near the wrap-around of the epoch lane (every lane is then reset to 0).
  if (startEpoch !== undefined) (st as unknown as { epoch: number }).epoch = startEpoch;
  const ref = new AggregatedGroupState(spec, src); // never drained: encode always looks the key up
  const model = new Set<string>();
  let now = Date.parse('2026-01-01T00:00:00Z');
  const same = (key: string) => expect(st.encode(key)).toEqual(ref.encode(key));
  for (const op of ops) {
    switch (op.op) {
      case 'ev': {
        now += op.adv;
        const ts = now - op.back;
        const r = st.apply(op.key, ts, { x: op.x });
        expect(ref.apply(op.key, ts, { x: op.x })).toEqual(r);
        if (r.ok) model.add(op.key);
        break;
      }
      case 'del':
        if (st.has(op.key)) model.add(op.key);
        st.delete(op.key);
        ref.delete(op.key);
        break;
      case 'restore': {
        const bytes = ref.encode(op.from);
        if (bytes === null) break;
        st.restore(op.key, bytes);
        ref.restore(op.key, bytes);
        break;
      }
      case 'evict': {
        const evicted = st.evictIdle(now + op.ahead);
        expect(ref.evictIdle(now + op.ahead)).toEqual(evicted);
        for (const k of evicted) model.add(k);
        break;
      }
      case 'drain': {
        const keys = st.drainDirty();
        ref.drainDirty();
        expect(keys).toEqual([...model]);
        model.clear();
        // A checkpoint cut: encode the drained keys in order (some of them here, the rest later).
        for (const k of keys.slice(0, op.encodeFirst)) same(k);
        break;
      }
      case 'encode':
        same(op.key);
        break;
    }
  }
  expect(st.drainDirty()).toEqual([...model]);
  for (const k of ['a', 'b', 'c', 'd']) same(k);
}

describe('dirty keys', () => {
  for (const [name, features] of Object.entries(LAYOUTS)) {
    it(`drainDirty lists every changed key once, in first-change order (${name})`, () => {
      fc.assert(fc.property(fc.array(opArb, { maxLength: 80 }), (ops) => run(features, ops)), { numRuns: 300 });
    });
  }

  it('drainDirty stays exact across the wrap-around of the dirty epoch', () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.values(LAYOUTS)), fc.array(opArb, { maxLength: 80 }), fc.nat(4), (features, ops, back) =>
        run(features, ops, MAX_EPOCH - back),
      ),
      { numRuns: 300 },
    );
  });

  it('an entity last changed 2^26 − 1 drains ago is listed again when it changes', () => {
    const st = new AggregatedGroupState(group(LAYOUTS.twoTileSets!), source([['x', 'double']], MIN, ['x']));
    const t = Date.parse('2026-01-01T00:00:00Z');
    st.apply('a', t, { x: 1 }); // marked with epoch 1
    expect(st.drainDirty()).toEqual(['a']);
    (st as unknown as { epoch: number }).epoch = MAX_EPOCH; // as if 2^26 − 2 drains went by
    expect(st.drainDirty()).toEqual([]); // wraps round to epoch 1
    st.apply('a', t + 1, { x: 2 });
    expect(st.drainDirty()).toEqual(['a']);
  });

  it('a deleted key that is applied again is listed once, at its first change', () => {
    const st = new AggregatedGroupState(group(LAYOUTS.twoTileSets!), source([['x', 'double']], MIN, ['x']));
    const t = Date.parse('2026-01-01T00:00:00Z');
    st.apply('a', t, { x: 1 });
    st.apply('b', t, { x: 1 });
    st.drainDirty();
    st.delete('a');
    st.apply('b', t + 1, { x: 2 });
    st.apply('a', t + 2, { x: 3 });
    st.delete('a');
    st.apply('a', t + 3, { x: 4 });
    expect(st.drainDirty()).toEqual(['a', 'b']);
    expect(st.read('a', t + 3).version).toBe(1);
    expect(st.drainDirty()).toEqual([]);
  });
});
