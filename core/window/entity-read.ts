/**
 * Finalizes one entity's windows as of a time t (reads never change state). Per window plan:
 * - exact sliding:  raw events with t − W < ts <= t   (ts < t without includeCurrent)
 * - tiled sliding:  tiles starting in [floor_p(t − W), foldedTo) + raw events in [max(floor_p(t − W), foldedTo), t]
 * - tumbling:       the same with the far edge floor(t / S)·S (exact when p divides S)
 * - lifetime:       the lifetime accumulator + raw events up to t
 * Throws AS_OF_OUT_OF_RANGE when t is older than the state kept can answer exactly.
 */
import { FenestraError } from '../errors.js';
import type { CompiledGroup, WindowPlan } from './layout.js';
import { H_NEWEST, H_VERSION, lifeAt, lowerBound, rawAt, rawCount, tileCount, tilesAt, upperBound } from './entity-array.js';
import { ReadAccumulator, type Cells } from './partial.js';
import { floorTo, foldedTo, readableAt, tiledLow } from './retention.js';

export type AggValue = number | string | null;

export interface AggRead {
  readonly found: boolean;
  readonly version: number;
  readonly values: Record<string, AggValue>;
}

function iso(t: number): string {
  return Number.isFinite(t) && Math.abs(t) < 8.64e15 ? new Date(t).toISOString() : String(t);
}

/** Adds raw events with lo <= ts (loInclusive) or lo < ts, and ts <= t / ts < t. */
function addRaw(acc: ReadAccumulator, g: CompiledGroup, a: Cells, plan: WindowPlan, lo: number, loInclusive: boolean, t: number): void {
  const stride = g.stride;
  const base = rawAt(g, a);
  const n = rawCount(a);
  const start = lo === -Infinity ? 0 : loInclusive ? lowerBound(a, base, stride, n, lo) : upperBound(a, base, stride, n, lo);
  const end = g.includeCurrent ? upperBound(a, base, stride, n, t) : lowerBound(a, base, stride, n, t);
  for (let e = start; e < end; e++) acc.addEvent(a, base + e * stride, plan.fields, plan.distinct);
}

function finalize(plan: WindowPlan, acc: ReadAccumulator, out: Record<string, AggValue>): void {
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

/** Values of an entity without state: counts (and sums, count_distinct) 0, everything else null. */
export function emptyValues(g: CompiledGroup): Record<string, AggValue> {
  const zero = new Set<string>();
  for (const plan of g.plans) {
    for (const f of plan.features) if (f.agg === 'count' || f.agg === 'sum' || f.agg === 'count_distinct') zero.add(f.name);
  }
  const out: Record<string, AggValue> = {};
  for (const name of g.featureNames) out[name] = zero.has(name) ? 0 : null;
  return out;
}

export function readEntity(g: CompiledGroup, raw: Cells, t: number): AggRead {
  const newest = raw[H_NEWEST] as number;
  const out: Record<string, AggValue> = {};
  const hasRaw = rawCount(raw) > 0;
  for (const plan of g.plans) {
    if (!readableAt(g, plan, newest, t)) {
      throw new FenestraError(
        'AS_OF_OUT_OF_RANGE',
        `asOf ${iso(t)} is older than the state kept for this entity of group "${g.name}" can answer exactly ` +
          `(newest event ${iso(newest)}, allowedLateness ${g.allowedLateness} ms; reads from ${iso(newest - g.allowedLateness)} on are always exact)`,
        { details: { asOf: t, newest, allowedLateness: g.allowedLateness } },
      );
    }
    const acc = new ReadAccumulator(g.fields.length);
    if (plan.kind === 'lifetime') {
      if (g.life) acc.addPartial(raw, lifeAt(g), g.life, plan.fields, plan.distinct);
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
  // Keep the spec's feature order in the output.
  const ordered: Record<string, AggValue> = {};
  for (const name of g.featureNames) ordered[name] = out[name]!;
  return { found: true, version: raw[H_VERSION] as number, values: ordered };
}
