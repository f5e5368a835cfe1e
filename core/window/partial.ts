/**
 * Mergeable partial aggregates stored in flat arrays (tiles and the lifetime accumulator), laid out
 * by a `PartialLayout`: slot 0 = event count, then per field n, sum, m2 (sum of squared deviations,
 * Welford / Chan), min, max, first, last, distinct (an array of the distinct non-null values).
 * Events must be folded in (event time, arrival) order: `first` is set by the first non-null value
 * folded and `last` by the latest one, which is what makes first/last exact without timestamps.
 */
import type { PartialLayout } from './layout.js';
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
 * The accumulator a read builds for one window: statistics for every raw field, merged from
 * partials (older first) and then raw events (in order).
 */
export class ReadAccumulator {
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

  /** Adds one raw event (record at `ri`) for the given fields. */
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

  /** Merges a partial (Chan et al. for m2) holding events older than everything added so far. */
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
