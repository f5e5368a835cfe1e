/**
 * Derived-feature evaluation cost: the example's three expressions evaluated through
 * `evaluateDerived` (compiled CEL), against a baseline of the same arithmetic written directly
 * in JavaScript, measured in the same run. Prints JSON and a table. `--smoke`: a short run.
 */
import { compileDerived, derivedInputsOf, evaluateDerived } from '../core/derived/index.js';
import type { AggregatedGroupSpec } from '../core/model.js';

const smoke = process.argv.includes('--smoke');
const N = smoke ? 20_000 : 2_000_000;

const group: AggregatedGroupSpec = {
  kind: 'aggregated', name: 'cc_agg', entity: 'card', source: 'transactions', includeCurrent: true, derived: [],
  features: ['num_trans_last_10m', 'avg_amt_last_10m', 'num_trans_last_1w', 'avg_amt_last_1w'].map((name) => ({
    name, agg: name.startsWith('num') ? 'count' as const : 'avg' as const, window: { kind: 'sliding' as const, size: 600_000 }, precision: 0,
    ...(name.startsWith('avg') ? { field: 'amount' } : {}),
  })),
};
const inputs = derivedInputsOf(group, [{ name: 'amount', type: 'double', optional: false }]);
const exprs = {
  amt_ratio1: 'avg_amt_last_10m / avg_amt_last_1w',
  amt_ratio2: 'request.amount / avg_amt_last_1w',
  count_ratio: 'num_trans_last_10m / num_trans_last_1w',
};
const compiled = Object.entries(exprs).map(([name, expr]) => compileDerived({ name, expr }, inputs));

function values(i: number): Record<string, number | null> {
  return { num_trans_last_10m: i % 5, avg_amt_last_10m: 10 + (i % 97), num_trans_last_1w: 1 + (i % 300), avg_amt_last_1w: i % 11 === 0 ? 0 : 50 + (i % 13) };
}
const rows = Array.from({ length: 1024 }, (_, i) => values(i));
const requests = Array.from({ length: 1024 }, (_, i) => ({ amount: 5 + (i % 1000) }));

function div(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a == null || b == null) return null;
  const q = a / b;
  return Number.isFinite(q) ? q : null;
}

function direct(v: Record<string, number | null>, req: { amount: number }): number {
  return (div(v.avg_amt_last_10m, v.avg_amt_last_1w) ?? 0) + (div(req.amount, v.avg_amt_last_1w) ?? 0) + (div(v.num_trans_last_10m, v.num_trans_last_1w) ?? 0);
}

function viaCel(v: Record<string, number | null>, req: { amount: number }): number {
  let s = 0;
  for (const c of compiled) s += (evaluateDerived(c, v, req) as number | null) ?? 0;
  return s;
}

function measure(fn: (v: Record<string, number | null>, r: { amount: number }) => number): { nsPerGroup: number; check: number } {
  let check = 0;
  for (let i = 0; i < Math.min(N, 50_000); i++) check += fn(rows[i & 1023]!, requests[i & 1023]!); // warm-up
  check = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) check += fn(rows[i & 1023]!, requests[i & 1023]!);
  const ns = Number(process.hrtime.bigint() - t0);
  return { nsPerGroup: ns / N, check };
}

const base = measure(direct);
const cel = measure(viaCel);
if (Math.abs(base.check - cel.check) > 1e-6 * Math.abs(base.check)) {
  console.error(`results differ: direct ${base.check} vs evaluateDerived ${cel.check}`);
  process.exit(1);
}
const result = {
  bench: 'derived',
  iterations: N,
  expressionsPerGroup: compiled.length,
  baselineDirectJsNsPerGroup: Number(base.nsPerGroup.toFixed(1)),
  evaluateDerivedNsPerGroup: Number(cel.nsPerGroup.toFixed(1)),
  evaluateDerivedNsPerExpression: Number((cel.nsPerGroup / compiled.length).toFixed(1)),
  smoke,
};
console.log(JSON.stringify(result));
console.table([
  { what: 'direct JS (baseline), 3 ratios', 'ns / group read': result.baselineDirectJsNsPerGroup },
  { what: 'evaluateDerived, 3 ratios', 'ns / group read': result.evaluateDerivedNsPerGroup },
  { what: 'evaluateDerived, per expression', 'ns / group read': result.evaluateDerivedNsPerExpression },
]);
