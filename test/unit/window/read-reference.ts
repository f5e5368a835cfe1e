/**
 * The window read path as it was before it was optimised (one accumulator object per window, one
 * `addPartial` call per tile, one `addEvent` call per raw event), kept verbatim as the reference the
 * optimised `readEntity` must equal bit for bit (read-path.test.ts): the optimisation reorders
 * loops, never the floating-point operations.
 */
import type { CompiledGroup, PartialLayout, WindowPlan } from '../../../core/window/layout.js';
import { H_NEWEST, lowerBound, rawAt, rawCount, tileCount, tilesAt, upperBound, type RawValue } from '../../../core/window/entity-array.js';
import type { Cells } from '../../../core/window/partial.js';
import { floorTo, foldedTo, readableAt, tiledLow } from '../../../core/window/retention.js';

type AggValue = number | string | null;

class ReferenceAccumulator {
  count = 0;
  readonly n: number[];
  readonly sum: number[];
  readonly m2: number[];
  readonly min: number[];
  readonly max: number[];
  readonly first: RawValue[];
  readonly last: RawValue[];
  readonly distinct: Array<Set<RawValue> | null>;

  constructor(nFields: number) {
    this.n = new Array<number>(nFields).fill(0);
    this.sum = new Array<number>(nFields).fill(0);
    this.m2 = new Array<number>(nFields).fill(0);
    this.min = new Array<number>(nFields).fill(NaN);
    this.max = new Array<number>(nFields).fill(NaN);
    this.first = new Array<RawValue>(nFields).fill(null);
    this.last = new Array<RawValue>(nFields).fill(null);
    this.distinct = new Array<Set<RawValue> | null>(nFields).fill(null);
  }

  addEvent(raw: Cells, ri: number, fields: readonly number[], distinct: readonly boolean[]): void {
    this.count++;
    for (let k = 0; k < fields.length; k++) {
      const f = fields[k]!;
      const v = raw[ri + 1 + f] as RawValue;
      if (v === null || v !== v) continue;
      const n = this.n[f]! + 1;
      this.n[f] = n;
      if (typeof v === 'number') {
        const sumOld = this.sum[f]!;
        const sumNew = sumOld + v;
        this.sum[f] = sumNew;
        if (n > 1) this.m2[f] = this.m2[f]! + (v - sumOld / (n - 1)) * (v - sumNew / n);
        if (n === 1 || v < this.min[f]!) this.min[f] = v;
        if (n === 1 || v > this.max[f]!) this.max[f] = v;
      }
      if (n === 1) this.first[f] = v;
      this.last[f] = v;
      if (distinct[f]) {
        let s = this.distinct[f];
        if (!s) this.distinct[f] = s = new Set();
        s.add(v);
      }
    }
  }

  addPartial(a: Cells, o: number, layout: PartialLayout, fields: readonly number[], distinct: readonly boolean[]): void {
    this.count += a[o] as number;
    for (const fs of layout.fields) {
      const f = fs.field;
      if (!fields.includes(f)) continue;
      const nb = (fs.n >= 0 ? a[o + fs.n] : a[o]) as number;
      if (nb === 0) continue;
      const na = this.n[f]!;
      const n = na + nb;
      this.n[f] = n;
      if (fs.sum >= 0) {
        const sa = this.sum[f]!;
        const sb = a[o + fs.sum] as number;
        this.sum[f] = sa + sb;
        if (fs.m2 >= 0) {
          const m2b = a[o + fs.m2] as number;
          if (na === 0) this.m2[f] = m2b;
          else {
            const delta = sb / nb - sa / na;
            this.m2[f] = this.m2[f]! + m2b + (delta * delta * na * nb) / n;
          }
        }
      }
      if (fs.min >= 0) {
        const v = a[o + fs.min] as number;
        if (na === 0 || v < this.min[f]!) this.min[f] = v;
      }
      if (fs.max >= 0) {
        const v = a[o + fs.max] as number;
        if (na === 0 || v > this.max[f]!) this.max[f] = v;
      }
      if (fs.first >= 0 && na === 0) this.first[f] = a[o + fs.first] as RawValue;
      if (fs.last >= 0) this.last[f] = a[o + fs.last] as RawValue;
      if (fs.distinct >= 0 && distinct[f]) {
        let s = this.distinct[f];
        if (!s) this.distinct[f] = s = new Set();
        for (const v of a[o + fs.distinct] as RawValue[]) s.add(v);
      }
    }
  }
}

function addRaw(acc: ReferenceAccumulator, g: CompiledGroup, a: Cells, plan: WindowPlan, lo: number, loInclusive: boolean, t: number): void {
  const stride = g.stride;
  const base = rawAt(g, a);
  const n = rawCount(a);
  const start = lo === -Infinity ? 0 : loInclusive ? lowerBound(a, base, stride, n, lo) : upperBound(a, base, stride, n, lo);
  const end = g.includeCurrent ? upperBound(a, base, stride, n, t) : lowerBound(a, base, stride, n, t);
  for (let e = start; e < end; e++) acc.addEvent(a, base + e * stride, plan.fields, plan.distinct);
}

function finalize(plan: WindowPlan, acc: ReferenceAccumulator, out: Record<string, AggValue>): void {
  for (const f of plan.features) {
    const i = f.field;
    const n = i >= 0 ? acc.n[i]! : 0;
    switch (f.agg) {
      case 'count': out[f.name] = acc.count; break;
      case 'sum': out[f.name] = n > 0 ? acc.sum[i]! : 0; break;
      case 'avg': out[f.name] = n > 0 ? acc.sum[i]! / n : null; break;
      case 'min': out[f.name] = n > 0 ? acc.min[i]! : null; break;
      case 'max': out[f.name] = n > 0 ? acc.max[i]! : null; break;
      case 'first': out[f.name] = n > 0 ? acc.first[i]! : null; break;
      case 'last': out[f.name] = n > 0 ? acc.last[i]! : null; break;
      case 'variance': out[f.name] = n > 1 ? Math.max(0, acc.m2[i]!) / (n - 1) : null; break;
      case 'stddev': out[f.name] = n > 1 ? Math.sqrt(Math.max(0, acc.m2[i]!) / (n - 1)) : null; break;
      case 'count_distinct': out[f.name] = n > 0 ? acc.distinct[i]?.size ?? 0 : 0; break;
    }
  }
}

/** The reference read: values in feature order, or null where the read is out of range. */
export function referenceRead(g: CompiledGroup, raw: Cells, t: number): Record<string, AggValue> | null {
  const newest = raw[H_NEWEST] as number;
  const out: Record<string, AggValue> = {};
  const hasRaw = rawCount(raw) > 0;
  for (const plan of g.plans) {
    if (!readableAt(g, plan, newest, t)) return null;
    const acc = new ReferenceAccumulator(g.fields.length);
    if (plan.kind === 'lifetime') {
      if (g.life) acc.addPartial(raw, g.lifeAt, g.life, plan.fields, plan.distinct);
      if (hasRaw) addRaw(acc, g, raw, plan, -Infinity, true, t);
    } else if (plan.tileSet < 0) {
      if (hasRaw) {
        if (plan.kind === 'sliding') addRaw(acc, g, raw, plan, t - plan.size, false, t);
        else addRaw(acc, g, raw, plan, floorTo(t, plan.size), true, t);
      }
    } else {
      const ts = g.tileSets[plan.tileSet]!;
      const lo = tiledLow(plan, ts.precision, t);
      const folded = foldedTo(ts, newest, g.allowedLateness);
      if (lo < folded) {
        const at = tilesAt(g, raw, plan.tileSet);
        const end = at + tileCount(raw, plan.tileSet) * ts.stride;
        for (let o = at; o < end; o += ts.stride) {
          const start = raw[o] as number;
          if (start < lo) continue;
          if (start >= folded) break;
          acc.addPartial(raw, o + 1, ts.partial, plan.fields, plan.distinct);
        }
      }
      if (hasRaw) addRaw(acc, g, raw, plan, Math.max(lo, folded), true, t);
    }
    finalize(plan, acc, out);
  }
  const ordered: Record<string, AggValue> = {};
  for (const name of g.featureNames) ordered[name] = out[name]!;
  return ordered;
}
