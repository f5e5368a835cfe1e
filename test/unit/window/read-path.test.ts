/**
 * The optimised window read path (`readEntity` / `readEntityInto`: one reused accumulator, merges
 * over tile and event ranges field by field) equals the pre-optimisation read (read-reference.ts)
 * bit for bit, on random streams with every aggregation, exact / tiled / tumbling / lifetime windows
 * sharing tile sets, out-of-order and equal timestamps, lateness, includeCurrent both ways, reads at
 * random times (including AS_OF_OUT_OF_RANGE ones), on the live state and on decoded bytes, into
 * objects, arrays and (numeric groups) Float64Arrays.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isFenestraError } from '../../../core/errors.js';
import { AggregatedGroupState, type AggValue } from '../../../core/window/index.js';
import { decodeEntity } from '../../../core/window/codec.js';
import { numericFeatures } from '../../../core/window/entity-read.js';
import { compiledFor } from '../../../core/window/layout.js';
import { group, source } from './fixtures.js';
import { featuresFor, type WindowDef } from './oracle.js';
import { referenceRead } from './read-reference.js';

const windowArb: fc.Arbitrary<WindowDef> = fc.oneof(
  fc.record({ kind: fc.constant('sliding' as const), size: fc.integer({ min: 1, max: 900 }), precision: fc.constant(0) }),
  fc.record({ kind: fc.constant('sliding' as const), size: fc.integer({ min: 1, max: 900 }), precision: fc.constantFrom(7, 50, 120) }),
  fc.record({ kind: fc.constant('tumbling' as const), size: fc.constantFrom(100, 350, 600), precision: fc.constantFrom(0, 50) }),
  fc.constant({ kind: 'lifetime' as const, size: 0, precision: 0 }),
);

const eventArb = fc.record({
  key: fc.constantFrom('a', 'b', 'c'),
  adv: fc.oneof(fc.constant(0), fc.nat(30), fc.nat(500)),
  back: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat(250) }),
  // amounts with inexact binary fractions (cents), so the order of additions shows in the last bit
  x: fc.option(fc.integer({ min: -50_000, max: 50_000 }).map((v) => v / 100), { nil: null, freq: 8 }),
  s: fc.option(fc.constantFrom('p', 'q', 'r'), { nil: null }),
  b: fc.option(fc.boolean(), { nil: null }),
});

const readArb = fc.record({ key: fc.constantFrom('a', 'b', 'c', 'z'), off: fc.integer({ min: -1200, max: 1500 }) });

function same(a: AggValue | undefined, b: AggValue | undefined): boolean {
  return Object.is(a, b);
}

describe('optimised read path = reference read, bit for bit', () => {
  it('on random streams and read times', () => {
    fc.assert(
      fc.property(
        fc.array(windowArb, { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 0, max: 150 }),
        fc.boolean(),
        fc.boolean(),
        fc.array(eventArb, { minLength: 1, maxLength: 80 }),
        fc.array(readArb, { minLength: 1, maxLength: 30 }),
        fc.boolean(),
        (windows, lateness, includeCurrent, xRequired, events, reads, numericOnly) => {
          // numericOnly: without first/last of the string field, so reads also go into a Float64Array
          const all = windows.flatMap((w, i) => featuresFor(`w${i}`, w));
          const spec = group(numericOnly ? all.filter((f) => !(f.field === 's' && (f.agg === 'first' || f.agg === 'last'))) : all, includeCurrent);
          const src = source([['x', 'double'], ['s', 'string'], ['b', 'boolean']], lateness, xRequired ? ['x'] : []);
          const g = compiledFor(spec, src);
          const st = new AggregatedGroupState(spec, src);
          let cursor = 1_000_000;
          const newest = new Map<string, number>();
          for (const e of events) {
            cursor += e.adv;
            const ts = cursor - e.back;
            const o = st.apply(e.key, ts, { x: xRequired && e.x === null ? 0.1 : e.x, s: e.s, b: e.b });
            if (o.ok) newest.set(e.key, Math.max(newest.get(e.key) ?? -Infinity, ts));
          }
          const times = (key: string, off: number) => {
            const n = newest.get(key) ?? cursor;
            return [n + off, n, n - lateness, n + 1, Math.floor((n - lateness) / 50) * 50 - 1];
          };
          const out = new Array<AggValue>(g.featureNames.length).fill(null);
          for (const r of reads) {
            if (!st.has(r.key)) {
              expect(st.readInto(r.key, cursor + r.off, out)).toBe(false);
              continue;
            }
            const raw = decodeEntity(g, st.encode(r.key)!);
            for (const t of times(r.key, r.off)) {
              const want = referenceRead(g, raw, t);
              let got: Record<string, AggValue> | null;
              try {
                got = st.read(r.key, t).values;
              } catch (e) {
                if (!isFenestraError(e) || e.code !== 'AS_OF_OUT_OF_RANGE') throw e;
                got = null;
              }
              if (want === null || got === null) {
                expect(got).toBe(want);
                continue;
              }
              expect(Object.keys(got)).toEqual(g.featureNames);
              st.readInto(r.key, t, out);
              const typed = new Float64Array(g.featureNames.length);
              if (numericOnly) {
                expect(numericFeatures(g)).toBe(true);
                st.readInto(r.key, t, typed);
                g.featureNames.forEach((name, i) => {
                  if (!same(Number.isNaN(typed[i]!) ? null : typed[i]!, want[name])) throw new Error(`${r.key} @${t} ${name}: Float64Array read ${typed[i]}, reference ${String(want[name])}`);
                });
              }
              g.featureNames.forEach((name, i) => {
                if (!same(got[name], want[name]) || !same(out[i], want[name])) {
                  throw new Error(`${r.key} @${t} ${name}: read ${String(got[name])}, readInto ${String(out[i])}, reference ${String(want[name])}`);
                }
              });
            }
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
