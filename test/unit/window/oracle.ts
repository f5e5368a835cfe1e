/**
 * Brute-force oracle for window semantics: a plain array of accepted events, filtered per the
 * documented window definitions (docs/WINDOWS.md) and aggregated naively (two-pass variance).
 */
import type { AggFeatureSpec, AggKind } from '../../../core/model.js';

export interface OEvent {
  readonly ts: number;
  readonly arrival: number;
  readonly values: Readonly<Record<string, unknown>>;
}

export interface WindowDef {
  readonly kind: 'sliding' | 'tumbling' | 'lifetime';
  readonly size: number;
  readonly precision: number;
}

const floorTo = (x: number, p: number) => Math.floor(x / p) * p;

export class Oracle {
  private readonly byKey = new Map<string, { newest: number; events: OEvent[] }>();
  private arrival = 0;
  constructor(readonly allowedLateness: number) {}

  /** Returns whether the event is accepted (not late). */
  apply(key: string, ts: number, values: Readonly<Record<string, unknown>>): boolean {
    let s = this.byKey.get(key);
    if (!s) this.byKey.set(key, (s = { newest: -Infinity, events: [] }));
    if (ts < s.newest - this.allowedLateness) return false;
    s.newest = Math.max(s.newest, ts);
    s.events.push({ ts, arrival: this.arrival++, values });
    return true;
  }

  newest(key: string): number {
    return this.byKey.get(key)?.newest ?? -Infinity;
  }

  version(key: string): number {
    return this.byKey.get(key)?.events.length ?? 0;
  }

  /** Events of the window as of t, sorted by (ts, arrival). lo is inclusive when loInclusive. */
  inRange(key: string, lo: number, loInclusive: boolean, t: number, includeCurrent: boolean): OEvent[] {
    const evs = this.byKey.get(key)?.events ?? [];
    return evs
      .filter((e) => (loInclusive ? e.ts >= lo : e.ts > lo) && (includeCurrent ? e.ts <= t : e.ts < t))
      .sort((a, b) => a.ts - b.ts || a.arrival - b.arrival);
  }

  /** The window per the documented semantics (tiled windows: far edge rounded down to the tile). */
  window(key: string, w: WindowDef, t: number, includeCurrent: boolean): OEvent[] {
    if (w.kind === 'lifetime') return this.inRange(key, -Infinity, true, t, includeCurrent);
    if (w.kind === 'tumbling') {
      const lo = w.precision > 0 ? floorTo(floorTo(t, w.size), w.precision) : floorTo(t, w.size);
      return this.inRange(key, lo, true, t, includeCurrent);
    }
    if (w.precision > 0) return this.inRange(key, floorTo(t - w.size, w.precision), true, t, includeCurrent);
    return this.inRange(key, t - w.size, false, t, includeCurrent);
  }
}

export function aggregate(agg: AggKind, field: string | undefined, events: readonly OEvent[]): number | string | null {
  if (agg === 'count') return events.length;
  const vals = events
    .map((e) => e.values[field!])
    .filter((v) => v !== null && v !== undefined)
    .map((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : (v as number | string)));
  const nums = vals as number[];
  const n = vals.length;
  switch (agg) {
    case 'sum': return nums.reduce((a, b) => a + b, 0);
    case 'avg': return n ? nums.reduce((a, b) => a + b, 0) / n : null;
    case 'min': return n ? Math.min(...nums) : null;
    case 'max': return n ? Math.max(...nums) : null;
    case 'first': return n ? vals[0]! : null;
    case 'last': return n ? vals[n - 1]! : null;
    case 'count_distinct': return new Set(vals).size;
    case 'variance':
    case 'stddev': {
      if (n < 2) return null;
      const mean = nums.reduce((a, b) => a + b, 0) / n;
      const v = nums.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
      return agg === 'variance' ? v : Math.sqrt(v);
    }
  }
}

/** Every aggregation over the test fields for one window: x (double), s (string), b (boolean). */
export function featuresFor(prefix: string, w: WindowDef): AggFeatureSpec[] {
  const window = w.kind === 'lifetime' ? ({ kind: 'lifetime' } as const) : { kind: w.kind, size: w.size };
  const f = (agg: AggKind, field?: string): AggFeatureSpec => ({
    name: `${prefix}_${agg}${field ? `_${field}` : ''}`,
    agg,
    ...(field ? { field } : {}),
    window,
    precision: w.precision,
  });
  return [
    f('count'), f('sum', 'x'), f('avg', 'x'), f('min', 'x'), f('max', 'x'), f('first', 'x'), f('last', 'x'),
    f('stddev', 'x'), f('variance', 'x'), f('count_distinct', 'x'),
    f('first', 's'), f('last', 's'), f('count_distinct', 's'), f('last', 'b'), f('count_distinct', 'b'),
  ];
}

/** Relative tolerance 1e-9 (with a 1e-9 absolute floor for values near 0). */
export function close(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b)) + 1e-9;
  return a === b;
}

export function diff(actual: Record<string, unknown>, expected: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const k of Object.keys(expected)) if (!close(actual[k], expected[k])) out.push(`${k}: got ${String(actual[k])}, want ${String(expected[k])}`);
  return out;
}
