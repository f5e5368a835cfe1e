import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileDerived, evaluateDerived } from '../../../core/derived/index.js';
import type { DerivedInputs } from '../../../core/derived/index.js';
import type { DivZeroPolicy, NullPolicy } from '../../../core/model.js';

const INPUTS: DerivedInputs = new Map([
  ['avg_10m', 'double'],
  ['avg_1w', 'double'],
  ['n_10m', 'double'],
  ['n_1w', 'double'],
  ['last_merchant', 'string'],
]);

function derive(expr: string, policy: { onNull?: NullPolicy; onDivZero?: DivZeroPolicy } = {}) {
  return compileDerived({ name: 'd', expr, ...policy }, INPUTS);
}

describe('derived features: evaluation', () => {
  it('divides as doubles (count ratios are not truncated) and reads request fields', () => {
    expect(evaluateDerived(derive('n_10m / n_1w'), { n_10m: 4, n_1w: 8 })).toBe(0.5);
    expect(evaluateDerived(derive('n_10m / 3'), { n_10m: 4 })).toBe(4 / 3);
    expect(evaluateDerived(derive('request.amount / avg_1w'), { avg_1w: 40 }, { amount: 500 })).toBe(12.5);
    expect(evaluateDerived(derive('request["amount"] * 2'), {}, { amount: 1.25 })).toBe(2.5);
    expect(evaluateDerived(derive('avg_10m / avg_1w'), { avg_10m: 200, avg_1w: 80, n_10m: null })).toBe(2.5);
  });

  it('yields bools and strings too', () => {
    expect(evaluateDerived(derive('last_merchant == request.merchant'), { last_merchant: 'acme' }, { merchant: 'acme' })).toBe(true);
    expect(evaluateDerived(derive('n_10m > 3 ? "burst" : "calm"'), { n_10m: 4 })).toBe('burst');
  });

  it('onNull: null (default) makes the result null when an input it reads is null or missing', () => {
    const d = derive('avg_10m / avg_1w');
    expect(evaluateDerived(d, { avg_10m: null, avg_1w: 10 })).toBeNull();
    expect(evaluateDerived(d, { avg_1w: 10 })).toBeNull();
    expect(evaluateDerived(derive('request.amount / avg_1w'), { avg_1w: 10 }, {})).toBeNull();
    expect(evaluateDerived(derive('request.amount / avg_1w'), { avg_1w: 10 })).toBeNull();
    // An input it does not read does not matter.
    expect(evaluateDerived(derive('n_10m + 1'), { n_10m: 1, avg_10m: null })).toBe(2);
  });

  it('onNull: zero treats null numeric inputs and missing request fields as 0', () => {
    const d = derive('avg_10m + avg_1w + request.tip', { onNull: 'zero' });
    expect(evaluateDerived(d, { avg_10m: null, avg_1w: 3 }, {})).toBe(3);
    expect(evaluateDerived(derive('last_merchant + "!"', { onNull: 'zero' }), { last_merchant: null })).toBeNull();
  });

  it('applies onDivZero at the division', () => {
    const values = { avg_10m: 5, avg_1w: 0 };
    expect(evaluateDerived(derive('avg_10m / avg_1w + 1'), values)).toBeNull();
    expect(evaluateDerived(derive('avg_10m / avg_1w + 1', { onDivZero: 'zero' }), values)).toBe(1);
    expect(evaluateDerived(derive('avg_10m / avg_1w', { onDivZero: 'infinity' }), values)).toBe(Infinity);
    expect(evaluateDerived(derive('-avg_10m / avg_1w', { onDivZero: 'infinity' }), values)).toBe(-Infinity);
    expect(evaluateDerived(derive('avg_1w / avg_1w', { onDivZero: 'infinity' }), values)).toBeNull(); // 0/0
    expect(evaluateDerived(derive('avg_1w / avg_1w', { onDivZero: 'zero' }), values)).toBe(0);
    // Division by zero in a branch not taken does not matter.
    expect(evaluateDerived(derive('avg_1w == 0.0 ? 0.0 : avg_10m / avg_1w'), values)).toBe(0);
  });

  it('gives null for a runtime type error instead of throwing', () => {
    expect(evaluateDerived(derive('request.amount / avg_1w'), { avg_1w: 2 }, { amount: 'lots' })).toBeNull();
  });

  it('accepts bigint inputs as numbers', () => {
    expect(evaluateDerived(derive('n_10m / n_1w'), { n_10m: 1n, n_1w: 4n })).toBe(0.25);
  });

  it('records the features and request fields an expression reads', () => {
    const d = derive('request.amount / avg_1w + n_10m * request.qty');
    expect(d.features.map((f) => f.name)).toEqual(['avg_1w', 'n_10m']);
    expect(d.requestFields).toEqual(['amount', 'qty']);
  });
});

describe('derived features: compile errors', () => {
  const problem = (expr: string): string => {
    try {
      derive(expr);
    } catch (e) {
      return (e as { details: { problem: string } }).details.problem;
    }
    throw new Error(`expected ${expr} to be refused`);
  };
  it('refuses bad syntax, unknown identifiers, bare request, type errors and non-scalar results', () => {
    expect(problem('avg_10m / (')).toContain('does not parse');
    expect(problem('avg_10m / avg_2w')).toContain('unknown identifier "avg_2w"');
    expect(problem('user.amount')).toContain('unknown identifier "user"');
    expect(problem('size(request)')).toContain('"request" must be used as request.<field>');
    expect(problem('avg_10m + last_merchant')).toContain('no such overload');
    expect(problem('[avg_10m, avg_1w]')).toContain('must yield a number, bool or string');
  });
  it('allows macro-bound variables', () => {
    expect(evaluateDerived(derive('[avg_10m, avg_1w].filter(x, x > 1.0).size() == 1'), { avg_10m: 5, avg_1w: 0.5 })).toBe(true);
  });
});

type Num = number | null;

/** A direct JavaScript computation of the same semantics, the oracle for the property below. */
function oracle(
  compute: (v: { a: number; b: number; x: number }, div: (p: number, q: number) => number) => number,
  inputs: { a: Num; b: Num; x: Num | undefined },
  reads: readonly ('a' | 'b' | 'x')[],
  onNull: NullPolicy,
  onDivZero: DivZeroPolicy,
): number | null {
  const NULL = Symbol('null');
  const v = { a: 0, b: 0, x: 0 };
  for (const k of reads) {
    const raw = inputs[k];
    if (raw === null || raw === undefined) {
      if (onNull === 'null') return null;
      v[k] = 0;
    } else {
      v[k] = raw;
    }
  }
  const div = (p: number, q: number): number => {
    const r = p / q;
    if (Number.isFinite(r)) return r;
    if (onDivZero === 'zero') return 0;
    if (onDivZero === 'infinity' && !Number.isNaN(r)) return r;
    throw NULL;
  };
  let out: number;
  try {
    out = compute(v, div);
  } catch (e) {
    if (e === NULL) return null;
    throw e;
  }
  if (Number.isNaN(out)) return null;
  if (!Number.isFinite(out)) return onDivZero === 'infinity' ? out : onDivZero === 'zero' ? 0 : null;
  return out;
}

const EXPRESSIONS: ReadonlyArray<{
  expr: string;
  reads: readonly ('a' | 'b' | 'x')[];
  compute: (v: { a: number; b: number; x: number }, div: (p: number, q: number) => number) => number;
}> = [
  { expr: 'avg_10m / avg_1w', reads: ['a', 'b'], compute: (v, d) => d(v.a, v.b) },
  { expr: 'request.amount / avg_1w', reads: ['x', 'b'], compute: (v, d) => d(v.x, v.b) },
  { expr: '(avg_10m + avg_1w) / request.amount', reads: ['a', 'b', 'x'], compute: (v, d) => d(v.a + v.b, v.x) },
  { expr: 'avg_10m / avg_1w + 1', reads: ['a', 'b'], compute: (v, d) => d(v.a, v.b) + 1 },
  { expr: 'avg_10m * 2 - request.amount / 3', reads: ['a', 'x'], compute: (v, d) => v.a * 2 - d(v.x, 3) },
  { expr: 'avg_10m / (avg_1w - request.amount) * 0.5', reads: ['a', 'b', 'x'], compute: (v, d) => d(v.a, v.b - v.x) * 0.5 },
];

describe('derived features: property', () => {
  it('the evaluator equals a direct JS computation for random inputs and policies', () => {
    const num = fc.oneof(
      fc.constant(null),
      fc.constant(0),
      fc.integer({ min: -1000, max: 1000 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
    );
    const compiled = new Map<string, ReturnType<typeof derive>>();
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: EXPRESSIONS.length - 1 }),
        num, num, fc.oneof(num, fc.constant(undefined)),
        fc.constantFrom<NullPolicy>('null', 'zero'),
        fc.constantFrom<DivZeroPolicy>('null', 'zero', 'infinity'),
        (i, a, b, x, onNull, onDivZero) => {
          const e = EXPRESSIONS[i]!;
          const key = `${i}/${onNull}/${onDivZero}`;
          let c = compiled.get(key);
          if (c === undefined) {
            c = derive(e.expr, { onNull, onDivZero });
            compiled.set(key, c);
          }
          const request = x === undefined ? {} : { amount: x };
          const got = evaluateDerived(c, { avg_10m: a, avg_1w: b }, request);
          const want = oracle(e.compute, { a, b, x }, e.reads, onNull, onDivZero);
          expect(got).toBe(want);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
