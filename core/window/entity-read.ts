/**
 * Finalizes one entity's windows as of a time t (reads never change state). Per window plan:
 * - exact sliding:  raw events with t − W < ts <= t   (ts < t without includeCurrent)
 * - tiled sliding:  tiles starting in [floor_p(t − W), foldedTo) + raw events in [max(floor_p(t − W), foldedTo), t]
 * - tumbling:       the same with the far edge floor(t / S)·S (exact when p divides S)
 * - lifetime:       the lifetime accumulator + raw events up to t
 * Throws AS_OF_OUT_OF_RANGE when t is older than the state kept can answer exactly.
 */
import { FenestraError } from '../errors.js';
import type { CompiledGroup, FieldSlots, WindowPlan } from './layout.js';
import { H_NEWEST, H_VERSION, lowerBound, rawCount, tileCount, upperBound } from './entity-array.js';
import { ReadAccumulator, slotsFor, type Cells } from './partial.js';
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

/** What reading one window plan needs, computed once per compiled group. */
interface PlanRead {
  readonly plan: WindowPlan;
  /** Field slots of the plan's tile set (or of the lifetime partial) that the plan reads. */
  readonly slots: readonly FieldSlots[];
  /** Output index (in `featureNames` order) of each of the plan's features. */
  readonly outIndex: readonly number[];
  /** By field: whether one of the plan's features reads the field's m2 (variance, stddev). */
  readonly m2: readonly boolean[];
}

interface GroupRead {
  readonly plans: readonly PlanRead[];
  /** Whether every feature is a number or null (no first/last of a string field). */
  readonly numeric: boolean;
  /** Scratch: offset of each tile set's first tile, then of the first raw event. */
  readonly at: number[];
  /** Scratch accumulator (reads are synchronous and not re-entrant). */
  readonly acc: ReadAccumulator;
  /** Values of an entity without state, in `featureNames` order. */
  readonly empty: readonly AggValue[];
  /** Scratch output of `readEntity`. */
  readonly out: AggValue[];
}

const compiledReads = new WeakMap<CompiledGroup, GroupRead>();
let lastGroup: CompiledGroup | null = null;
let lastRead: GroupRead | null = null;

function groupRead(g: CompiledGroup): GroupRead {
  if (g === lastGroup) return lastRead!;
  let r = compiledReads.get(g);
  if (r) {
    lastGroup = g;
    lastRead = r;
    return r;
  }
  const index = new Map(g.featureNames.map((n, i) => [n, i] as const));
  const plans = g.plans.map((plan) => {
    const layout = plan.kind === 'lifetime' ? g.life : plan.tileSet >= 0 ? g.tileSets[plan.tileSet]!.partial : null;
    const m2 = g.fields.map((_, i) => plan.features.some((f) => f.field === i && (f.agg === 'variance' || f.agg === 'stddev')));
    return { plan, slots: layout ? slotsFor(layout, plan.fields) : [], outIndex: plan.features.map((f) => index.get(f.name)!), m2 };
  });
  const empty = new Array<AggValue>(g.featureNames.length).fill(null);
  for (const p of plans) {
    p.plan.features.forEach((f, k) => {
      if (f.agg === 'count' || f.agg === 'sum' || f.agg === 'count_distinct') empty[p.outIndex[k]!] = 0;
    });
  }
  const numeric = g.plans.every((p) => p.features.every((f) => f.field < 0 || g.fields[f.field]!.numeric || !(f.agg === 'first' || f.agg === 'last')));
  r = {
    plans,
    numeric,
    at: new Array<number>(g.tileSets.length + 1).fill(0),
    acc: new ReadAccumulator(g.fields.length),
    empty,
    out: new Array<AggValue>(g.featureNames.length).fill(null),
  };
  compiledReads.set(g, r);
  return r;
}

/** First tile in [at, at + count·stride) whose start is >= lo (tiles are sorted by start). */
function firstTileFrom(a: Cells, at: number, count: number, stride: number, lo: number): number {
  let i = 0;
  if (count > 16) {
    let hi = count;
    while (i < hi) {
      const mid = (i + hi) >>> 1;
      if ((a[at + mid * stride] as number) < lo) i = mid + 1;
      else hi = mid;
    }
  } else {
    while (i < count && (a[at + i * stride] as number) < lo) i++;
  }
  return at + i * stride;
}

function finalize(r: PlanRead, acc: ReadAccumulator, out: AggValue[] | Float64Array): void {
  if (out instanceof Float64Array) return finalizeNumbers(r, acc, out);
  const features = r.plan.features;
  for (let k = 0; k < features.length; k++) {
    const f = features[k]!;
    const i = f.field;
    const n = i >= 0 ? acc.n[i]! : 0;
    let v: AggValue;
    switch (f.agg) {
      case 'count': v = acc.count; break;
      case 'sum': v = n > 0 ? acc.sum[i]! : 0; break;
      case 'avg': v = n > 0 ? acc.sum[i]! / n : null; break;
      case 'min': v = n > 0 ? acc.min[i]! : null; break;
      case 'max': v = n > 0 ? acc.max[i]! : null; break;
      case 'first': v = n > 0 ? acc.first[i]! : null; break;
      case 'last': v = n > 0 ? acc.last[i]! : null; break;
      case 'variance': v = n > 1 ? Math.max(0, acc.m2[i]!) / (n - 1) : null; break;
      case 'stddev': v = n > 1 ? Math.sqrt(Math.max(0, acc.m2[i]!) / (n - 1)) : null; break;
      case 'count_distinct': v = n > 0 ? acc.distinct[i]?.size ?? 0 : 0; break;
    }
    out[r.outIndex[k]!] = v;
  }
}

/** `finalize` into a Float64Array (numeric groups; null as NaN), with no number boxed on the way. */
function finalizeNumbers(r: PlanRead, acc: ReadAccumulator, out: Float64Array): void {
  const features = r.plan.features;
  for (let k = 0; k < features.length; k++) {
    const f = features[k]!;
    const i = f.field;
    const n = i >= 0 ? acc.n[i]! : 0;
    const o = r.outIndex[k]!;
    switch (f.agg) {
      case 'count': out[o] = acc.count; break;
      case 'sum': out[o] = n > 0 ? acc.sum[i]! : 0; break;
      case 'avg': out[o] = n > 0 ? acc.sum[i]! / n : NaN; break;
      case 'min': out[o] = n > 0 ? acc.min[i]! : NaN; break;
      case 'max': out[o] = n > 0 ? acc.max[i]! : NaN; break;
      case 'first': out[o] = n > 0 ? (acc.first[i] as number) : NaN; break;
      case 'last': out[o] = n > 0 ? (acc.last[i] as number) : NaN; break;
      case 'variance': out[o] = n > 1 ? Math.max(0, acc.m2[i]!) / (n - 1) : NaN; break;
      case 'stddev': out[o] = n > 1 ? Math.sqrt(Math.max(0, acc.m2[i]!) / (n - 1)) : NaN; break;
      case 'count_distinct': out[o] = n > 0 ? acc.distinct[i]?.size ?? 0 : 0; break;
    }
  }
}

/** Values of an entity without state: counts (and sums, count_distinct) 0, everything else null. */
export function emptyValues(g: CompiledGroup): Record<string, AggValue> {
  return toRecord(g, groupRead(g).empty);
}

/** `emptyValues` into an array indexed like `g.featureNames` (a Float64Array: NaN for null). */
export function emptyValuesInto(g: CompiledGroup, out: AggValue[] | Float64Array): void {
  const empty = groupRead(g).empty;
  if (out instanceof Float64Array) for (let i = 0; i < empty.length; i++) out[i] = empty[i] === null ? NaN : (empty[i] as number);
  else for (let i = 0; i < empty.length; i++) out[i] = empty[i]!;
}

/** Whether every feature of the group reads as a number or null (so a Float64Array can take a read). */
export function numericFeatures(g: CompiledGroup): boolean {
  return groupRead(g).numeric;
}

function toRecord(g: CompiledGroup, values: readonly AggValue[]): Record<string, AggValue> {
  const names = g.featureNames;
  const out: Record<string, AggValue> = {};
  for (let i = 0; i < names.length; i++) out[names[i]!] = values[i]!;
  return out;
}

function outOfRange(g: CompiledGroup, newest: number, t: number): never {
  throw new FenestraError(
    'AS_OF_OUT_OF_RANGE',
    `asOf ${iso(t)} is older than the state kept for this entity of group "${g.name}" can answer exactly ` +
      `(newest event ${iso(newest)}, allowedLateness ${g.allowedLateness} ms; reads from ${iso(newest - g.allowedLateness)} on are always exact)`,
    { details: { asOf: t, newest, allowedLateness: g.allowedLateness } },
  );
}

/**
 * Finalizes every window as of t into `out`, indexed like `g.featureNames` (the read behind
 * `readEntity`, without building an object). `out` may be a Float64Array (null read as NaN) when
 * `numericFeatures(g)`. Throws AS_OF_OUT_OF_RANGE before writing anything.
 */
export function readEntityInto(g: CompiledGroup, raw: Cells, t: number, out: AggValue[] | Float64Array): void {
  const r = groupRead(g);
  if (out instanceof Float64Array && !r.numeric) throw new FenestraError('INTERNAL', `group "${g.name}" has string features: read into an array`);
  const newest = raw[H_NEWEST] as number;
  // reads at t >= newest − allowedLateness are always answerable (retention.ts)
  if (t < newest - g.allowedLateness) for (const p of r.plans) if (!readableAt(g, p.plan, newest, t)) outOfRange(g, newest, t);
  // offsets of the tile sets and of the raw events, and the raw events up to t
  const at = r.at;
  let o = g.head;
  for (let i = 0; i < g.tileSets.length; i++) {
    at[i] = o;
    o += tileCount(raw, i) * g.tileSets[i]!.stride;
  }
  const base = o;
  at[g.tileSets.length] = base;
  const stride = g.stride;
  const n = rawCount(raw);
  let end = n;
  if (n > 0) {
    const last = raw[base + (n - 1) * stride] as number;
    if (g.includeCurrent ? last > t : last >= t) end = g.includeCurrent ? upperBound(raw, base, stride, n, t) : lowerBound(raw, base, stride, end, t);
  }
  const acc = r.acc;
  for (let k = 0; k < r.plans.length; k++) {
    const pr = r.plans[k]!;
    const plan = pr.plan;
    acc.reset(plan.fields);
    // raw events from index `start` (to `end`) belong to the window
    let start = 0;
    if (plan.kind === 'lifetime') {
      if (g.life) {
        // the lifetime partial as a one-record range ([unused slot, partial…])
        const l = g.lifeAt - 1;
        acc.addTiles(raw, l, l + 1 + g.life.width, 1 + g.life.width, pr.slots, plan.distinct);
      }
    } else if (plan.tileSet < 0) {
      if (plan.kind === 'sliding') start = upperBound(raw, base, stride, end, t - plan.size);
      else start = lowerBound(raw, base, stride, end, floorTo(t, plan.size));
    } else {
      const ts = g.tileSets[plan.tileSet]!;
      const lo = tiledLow(plan, ts.precision, t);
      const folded = foldedTo(ts, newest, g.allowedLateness);
      if (lo < folded) {
        const first = at[plan.tileSet]!;
        const tStride = ts.stride;
        const last = at[plan.tileSet + 1]!;
        const from = firstTileFrom(raw, first, (last - first) / tStride, tStride, lo);
        // tiles hold folded events only (start < folded), so the range usually runs to the set's end
        let to = last;
        if (to > from && (raw[to - tStride] as number) >= folded) {
          to = from;
          while (to < last && (raw[to] as number) < folded) to += tStride;
        }
        acc.addTiles(raw, from, to, tStride, pr.slots, plan.distinct);
      }
      start = lowerBound(raw, base, stride, end, Math.max(lo, folded));
    }
    if (start < end) acc.addEvents(raw, base + start * stride, base + end * stride, stride, plan.fields, plan.distinct, pr.m2);
    finalize(pr, acc, out);
  }
}

export function readEntity(g: CompiledGroup, raw: Cells, t: number): AggRead {
  const out = groupRead(g).out;
  readEntityInto(g, raw, t, out);
  return { found: true, version: raw[H_VERSION] as number, values: toRecord(g, out) };
}
