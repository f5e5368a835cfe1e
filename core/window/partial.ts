/**
 * Mergeable partial aggregates stored in flat arrays (tiles and the lifetime accumulator), laid out
 * by a `PartialLayout`: slot 0 = event count, then per field n, sum, m2 (sum of squared deviations,
 * Welford / Chan), min, max, first, last, distinct (an array of the distinct non-null values).
 * Events must be folded in (event time, arrival) order: `first` is set by the first non-null value
 * folded and `last` by the latest one, which is what makes first/last exact without timestamps.
 */
import type { FieldSlots, PartialLayout } from './layout.js';
import type { RawValue } from './entity-array.js';

export type Cell = RawValue | RawValue[];
export type Cells = Cell[];

/** True for an absent value (null, or NaN in a numeric slot). */
export function isAbsent(v: RawValue): boolean {
  return v === null || v !== v;
}

/** Writes an empty partial at `o`. */
export function initPartial(a: Cells, o: number, layout: PartialLayout): void {
  a[o] = 0;
  for (const fs of layout.fields) {
    if (fs.n >= 0) a[o + fs.n] = 0;
    if (fs.sum >= 0) a[o + fs.sum] = 0;
    if (fs.m2 >= 0) a[o + fs.m2] = 0;
    if (fs.min >= 0) a[o + fs.min] = NaN;
    if (fs.max >= 0) a[o + fs.max] = NaN;
    if (fs.first >= 0) a[o + fs.first] = fs.numeric ? NaN : null;
    if (fs.last >= 0) a[o + fs.last] = fs.numeric ? NaN : null;
    if (fs.distinct >= 0) a[o + fs.distinct] = [];
  }
}

/** Folds raw event record at `ri` (its ts slot) into the partial at `o`. */
export function foldEvent(a: Cells, o: number, layout: PartialLayout, raw: Cells, ri: number): void {
  a[o] = (a[o] as number) + 1;
  for (const fs of layout.fields) {
    const v = raw[ri + 1 + fs.field] as RawValue;
    if (v === null || v !== v) continue;
    let n: number;
    if (fs.n >= 0) a[o + fs.n] = n = (a[o + fs.n] as number) + 1;
    else n = a[o] as number;
    if (fs.sum >= 0) {
      const x = v as number;
      const sumOld = a[o + fs.sum] as number;
      const sumNew = sumOld + x;
      a[o + fs.sum] = sumNew;
      if (fs.m2 >= 0 && n > 1) {
        const meanOld = sumOld / (n - 1);
        a[o + fs.m2] = (a[o + fs.m2] as number) + (x - meanOld) * (x - sumNew / n);
      }
    }
    if (fs.min >= 0 && (n === 1 || (v as number) < (a[o + fs.min] as number))) a[o + fs.min] = v;
    if (fs.max >= 0 && (n === 1 || (v as number) > (a[o + fs.max] as number))) a[o + fs.max] = v;
    if (fs.first >= 0 && n === 1) a[o + fs.first] = v;
    if (fs.last >= 0) a[o + fs.last] = v;
    if (fs.distinct >= 0) {
      const set = a[o + fs.distinct] as RawValue[];
      if (!set.includes(v)) set.push(v);
    }
  }
}

/**
 * The accumulator a read builds for one window: statistics per raw field, merged from partials
 * (older first) and then raw events (in order). Reused across reads (`reset` clears the fields a
 * window reads); numbers live in typed arrays, so a read allocates nothing but distinct sets.
 */
export class ReadAccumulator {
  count = 0;
  readonly n: Float64Array;
  readonly sum: Float64Array;
  readonly m2: Float64Array;
  readonly min: Float64Array;
  readonly max: Float64Array;
  readonly first: RawValue[];
  readonly last: RawValue[];
  readonly distinct: Array<Set<RawValue> | null>;

  constructor(nFields: number) {
    this.n = new Float64Array(nFields);
    this.sum = new Float64Array(nFields);
    this.m2 = new Float64Array(nFields);
    this.min = new Float64Array(nFields).fill(NaN);
    this.max = new Float64Array(nFields).fill(NaN);
    this.first = new Array<RawValue>(nFields).fill(null);
    this.last = new Array<RawValue>(nFields).fill(null);
    this.distinct = new Array<Set<RawValue> | null>(nFields).fill(null);
  }

  /** Empties the statistics of `fields` and the event count. */
  reset(fields: readonly number[]): void {
    this.count = 0;
    for (let k = 0; k < fields.length; k++) {
      const f = fields[k]!;
      this.n[f] = 0;
      this.sum[f] = 0;
      this.m2[f] = 0;
      this.min[f] = NaN;
      this.max[f] = NaN;
      this.first[f] = null;
      this.last[f] = null;
      this.distinct[f] = null;
    }
  }

  /**
   * Adds the raw event records at `from`, `from + stride`, … (< `to`; each record's ts slot) for
   * the given fields, oldest first. Field by field over the range: each field's statistics see the
   * events in the same order, with the same operations, as adding the events one by one would.
   * `m2` (by field, default every field) says which fields' m2 the window reads (variance, stddev):
   * the others' is left as it is (it costs two divisions per event and feeds nothing else).
   */
  addEvents(raw: Cells, from: number, to: number, stride: number, fields: readonly number[], distinct: readonly boolean[], m2s?: readonly boolean[]): void {
    if (to <= from) return;
    this.count += (to - from) / stride;
    for (let k = 0; k < fields.length; k++) {
      const f = fields[k]!;
      let n = this.n[f]!;
      let sum = this.sum[f]!;
      let m2 = this.m2[f]!;
      let min = this.min[f]!;
      let max = this.max[f]!;
      let first = this.first[f]!;
      let last = this.last[f]!;
      let set = distinct[f] ? this.distinct[f]! : null;
      const withM2 = m2s === undefined || m2s[f] === true;
      for (let ri = from + 1 + f; ri < to; ri += stride) {
        const v = raw[ri] as RawValue;
        if (v === null || v !== v) continue;
        n++;
        if (typeof v === 'number') {
          const sumOld = sum;
          sum = sumOld + v;
          if (withM2 && n > 1) m2 = m2 + (v - sumOld / (n - 1)) * (v - sum / n);
          if (n === 1 || v < min) min = v;
          if (n === 1 || v > max) max = v;
        }
        if (n === 1) first = v;
        last = v;
        if (distinct[f]) (set ??= new Set()).add(v);
      }
      this.n[f] = n;
      this.sum[f] = sum;
      this.m2[f] = m2;
      this.min[f] = min;
      this.max[f] = max;
      this.first[f] = first;
      this.last[f] = last;
      if (set) this.distinct[f] = set;
    }
  }

  /**
   * Merges the partials of the tile records at `from`, `from + stride`, … (< `to`; each record is
   * [start, partial…]), older first, holding events older than everything added so far (Chan et al.
   * for m2). `slots` are the partial layout's slots of the fields the window reads (see `slotsFor`).
   * Field by field over the range: each field sees the tiles in order, as merging one tile at a
   * time would.
   */
  addTiles(a: Cells, from: number, to: number, stride: number, slots: readonly FieldSlots[], distinct: readonly boolean[]): void {
    if (to <= from) return;
    let count = this.count;
    for (let o = from + 1; o < to; o += stride) count += a[o] as number; // slot 0 of each partial
    this.count = count;
    for (let k = 0; k < slots.length; k++) {
      const fs = slots[k]!;
      const f = fs.field;
      const nSlot = 1 + (fs.n >= 0 ? fs.n : 0);
      let n = this.n[f]!;
      if (fs.sum >= 0) {
        const sumSlot = 1 + fs.sum;
        let sum = this.sum[f]!;
        if (fs.m2 >= 0) {
          const m2Slot = 1 + fs.m2;
          let m2 = this.m2[f]!;
          for (let o = from; o < to; o += stride) {
            const nb = a[o + nSlot] as number;
            if (nb === 0) continue;
            const sb = a[o + sumSlot] as number;
            const m2b = a[o + m2Slot] as number;
            if (n === 0) m2 = m2b;
            else {
              const delta = sb / nb - sum / n;
              m2 = m2 + m2b + (delta * delta * n * nb) / (n + nb);
            }
            sum = sum + sb;
            n = n + nb;
          }
          this.m2[f] = m2;
        } else {
          for (let o = from; o < to; o += stride) {
            const nb = a[o + nSlot] as number;
            if (nb === 0) continue;
            sum = sum + (a[o + sumSlot] as number);
            n = n + nb;
          }
        }
        this.sum[f] = sum;
      }
      if (fs.min >= 0 || fs.max >= 0 || fs.first >= 0 || fs.last >= 0 || fs.distinct >= 0) {
        let na = this.n[f]!;
        for (let o = from; o < to; o += stride) {
          const nb = a[o + nSlot] as number;
          if (nb === 0) continue;
          if (fs.min >= 0) {
            const v = a[o + 1 + fs.min] as number;
            if (na === 0 || v < this.min[f]!) this.min[f] = v;
          }
          if (fs.max >= 0) {
            const v = a[o + 1 + fs.max] as number;
            if (na === 0 || v > this.max[f]!) this.max[f] = v;
          }
          if (fs.first >= 0 && na === 0) this.first[f] = a[o + 1 + fs.first] as RawValue;
          if (fs.last >= 0) this.last[f] = a[o + 1 + fs.last] as RawValue;
          if (fs.distinct >= 0 && distinct[f]) {
            let s = this.distinct[f];
            if (!s) this.distinct[f] = s = new Set();
            for (const v of a[o + 1 + fs.distinct] as RawValue[]) s.add(v);
          }
          na = na + nb;
        }
        n = na;
      }
      // Every field slot keeps a sum or one of min/max/first/last/distinct besides n (layout.ts
      // NEEDS), so one of the loops above has counted n.
      this.n[f] = n;
    }
  }
}

/** The field slots of `layout` for the fields a window reads (what `addTiles` merges). */
export function slotsFor(layout: PartialLayout, fields: readonly number[]): FieldSlots[] {
  return layout.fields.filter((fs) => fields.includes(fs.field));
}
