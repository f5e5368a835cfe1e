/**
 * Derived features in the arithmetic subset run as JavaScript (core/derived/fast.ts) without a CEL
 * context: the same
 * result as the CEL program for every input — numbers of every kind, nulls under both null
 * policies, every division policy, and request fields that are not numbers (which go to CEL).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileDerived, evaluateDerived, type CompiledDerived, type DerivedInputs } from '../../../core/derived/index.js';
import { buildEnvironment } from '../../../core/derived/environment.js';
import type { DivZeroPolicy, NullPolicy } from '../../../core/model.js';

const INPUTS: DerivedInputs = new Map([
  ['a', 'double'],
  ['b', 'double'],
  ['c', 'double'],
  ['s', 'string'],
  ['t', 'bool'],
]);

/** The compiled feature with its program run by CEL alone (what compileDerived built before the fast path). */
function celOnly(c: CompiledDerived): CompiledDerived {
  const program = buildEnvironment(INPUTS, c.onDivZero).parse(c.rewritten) as unknown as CompiledDerived['program'];
  const { direct: _, ...rest } = c;
  return { ...rest, program };
}

const leaf = fc.constantFrom('a', 'b', 'c', 'request.x', 'request.y', '0', '1', '2.5', '-3', '0.0', '1e308', '7');
const expr: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.tuple(tie('e'), fc.constantFrom('+', '-', '*', '/'), tie('e')).map(([l, op, r]) => `(${l} ${op} ${r})`),
    tie('e').map((x) => `-(${x})`),
  ),
})).e;

const num = fc.oneof(
  fc.double({ noNaN: true }),
  fc.constantFrom(0, -0, 1, -1, 1e308, -1e308, 5e-324, 2 ** 53),
  fc.integer({ min: -1000, max: 1000 }),
);
const value = fc.oneof(num, num, fc.constant(null), fc.constant(undefined));
const requestValue = fc.oneof(num, num, fc.constant(null), fc.constant(undefined), fc.constantFrom('x', '', '12', true, false, 3n), fc.constant({ k: 1 }), fc.constant([1]));

describe('derived features: the JavaScript fast path', () => {
  it('gives what the CEL program gives', () => {
    const cache = new Map<string, [CompiledDerived, CompiledDerived]>();
    fc.assert(
      fc.property(
        expr,
        fc.constantFrom<NullPolicy>('null', 'zero'),
        fc.constantFrom<DivZeroPolicy>('null', 'zero', 'infinity'),
        value, value, value, requestValue, requestValue,
        (e, onNull, onDivZero, a, b, c, x, y) => {
          const key = `${e}|${onNull}|${onDivZero}`;
          let pair = cache.get(key);
          if (pair === undefined) {
            const fast = compileDerived({ name: 'd', expr: e, onNull, onDivZero }, INPUTS);
            pair = [fast, celOnly(fast)];
            cache.set(key, pair);
          }
          const features = { a, b, c };
          const request: Record<string, unknown> = {};
          if (x !== undefined) request.x = x;
          if (y !== undefined) request.y = y;
          const got = evaluateDerived(pair[0], features, request);
          const want = evaluateDerived(pair[1], features, request);
          expect(Object.is(got, want)).toBe(true);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('takes the fast path for arithmetic, not for anything else', () => {
    const isCel = (e: string): boolean => compileDerived({ name: 'd', expr: e }, INPUTS).direct === undefined;
    for (const e of ['a / b', 'request.amount / a', '-(a - 2) * c + 1']) expect(isCel(e)).toBe(false);
    for (const e of ['t ? a : b', 'a > b', 'a % b', 'double(size(s))']) expect(isCel(e)).toBe(true);
  });

  it('leaves other expressions to CEL, with the same results', () => {
    for (const e of ['s + "!"', 't ? a : b', 'a > b', 'request.x + request.y', 'double(size(s)) + 1', 'a % b', 'int(a) == 2', 'request.x * 2', 'double(request.x) / 2']) {
      const fast = compileDerived({ name: 'd', expr: e }, INPUTS);
      const cel = celOnly(fast);
      for (const request of [{ x: 2, y: 3 }, { x: 'p', y: 'q' }, { x: 2.5, y: 'q' }, { x: true, y: 1 }]) {
        const features = { a: 7, b: 2, c: 0, s: 'hey', t: true };
        expect(evaluateDerived(fast, features, request)).toStrictEqual(evaluateDerived(cel, features, request));
      }
    }
  });
});
