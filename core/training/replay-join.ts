/**
 * The point-in-time join behind training sets, computed by replaying history through the engine's
 * own window code (`AggregatedGroupState`) and derived-feature evaluator, so training rows equal
 * what serving returns for the same entity and time.
 *
 * Entity by entity (entities are independent; see entity-order.ts), in event time within an entity
 * (stable: equal times keep their input order): before the label of key k at time t is answered,
 * every event of k with ts <= t has been applied, nothing later; then the state's read as of t
 * finalizes the windows exactly as a serving read with `asOf = t` does (the same `readEntity`),
 * including the group's `includeCurrent` rule (with includeCurrent=false an event at exactly t is
 * applied but excluded by the read, as online). No label can see an event later than its own time:
 * those events have not been applied yet. An entity's state is dropped once its last label is
 * answered; events after an entity's last label are not applied (no label can see them).
 *
 * Columnar in, columnar out; one reused event object; results scattered back to label order.
 */
import { FenestraError } from '../errors.js';
import type { EngineSpec } from '../model.js';
import { AggregatedGroupState, type AggValue } from '../window/index.js';
import { numericFeatures } from '../window/entity-read.js';
import { compiledFor } from '../window/layout.js';
import { defaultDerived, type DerivedEvaluator } from '../runtime/reader.js';
import { entityIds, orderByEntity } from './entity-order.js';
import type { TrainingPlan } from './plan.js';

export interface EventColumns {
  readonly rows: number;
  readonly keys: ArrayLike<string>;
  /** Event times, epoch ms. */
  readonly times: ArrayLike<number>;
  /** Source fields by name (only those the groups read are needed). */
  readonly fields: ReadonlyMap<string, ArrayLike<unknown>>;
}

export interface LabelColumns {
  readonly rows: number;
  readonly keys: ArrayLike<string>;
  readonly times: ArrayLike<number>;
  /** `request.*` fields for derived features, by name. */
  readonly request: ReadonlyMap<string, ArrayLike<unknown>>;
}

/** One output column per planned feature: numbers in a Float64Array (NaN = null), else an array. */
export type FeatureColumn = Float64Array | unknown[];

export interface JoinResult {
  readonly columns: ReadonlyMap<string, FeatureColumn>;
  readonly eventsApplied: number;
  /** Events skipped because the engine would dead-letter them (required field missing / mistyped). */
  readonly eventsRejected: number;
}

export type JoinProgress = (labelsDone: number, eventsApplied: number) => void;

/**
 * The join's input in entity order: entity k's events are `[evStart[k], evStart[k + 1])` of the
 * event arrays, its labels `[lbStart[k], lbStart[k + 1])` of the label arrays, each in time order.
 * Plain typed arrays and arrays: it can be sliced by entity range and sent to a worker thread.
 */
export interface OrderedJoin {
  /** Entity keys by entity id. */
  readonly keys: string[];
  readonly evStart: Uint32Array;
  readonly evTimes: Float64Array;
  /** Event fields (numeric ones as Float64Array, NaN = absent), by name. */
  readonly evFields: Record<string, Float64Array | unknown[]>;
  readonly lbStart: Uint32Array;
  readonly lbTimes: Float64Array;
  /** Label request fields, by name. */
  readonly lbRequest: Record<string, Float64Array | unknown[]>;
}

/** The input in entity order, and each entity-ordered label's row in the input (for `scatter`). */
export function orderJoin(plan: TrainingPlan, events: EventColumns, labels: LabelColumns): { ordered: OrderedJoin; labelRows: Uint32Array } {
  const ids = new Map<string, number>();
  const keys: string[] = [];
  const evIds = entityIds(events.keys, events.rows, ids, keys);
  const sameRows = labels.keys === events.keys && labels.times === events.times && labels.rows === events.rows;
  const lbIds = sameRows ? evIds : entityIds(labels.keys, labels.rows, ids, keys);
  const ev = orderByEntity(evIds, events.times, keys.length);
  const lb = sameRows ? ev : orderByEntity(lbIds, labels.times, keys.length);
  // Numeric fields become doubles by the rule `apply` uses (number as is, boolean 1/0, else absent: NaN).
  const numericFields = new Set(plan.groups.flatMap((g) => g.source.fields.filter((f) => f.type !== 'string').map((f) => f.name)));
  const evFields: Record<string, Float64Array | unknown[]> = {};
  for (const [n, col] of events.fields) evFields[n] = gather(col, ev.rows, numericFields.has(n));
  const lbRequest: Record<string, Float64Array | unknown[]> = {};
  for (const [n, col] of labels.request) lbRequest[n] = gather(col, lb.rows, false);
  return {
    ordered: { keys, evStart: ev.start, evTimes: ev.times, evFields, lbStart: lb.start, lbTimes: lb.times, lbRequest },
    labelRows: lb.rows,
  };
}

/** The entities [from, to) of an ordered input, as an input of their own (entity ids from 0). */
export function sliceOrdered(o: OrderedJoin, from: number, to: number): OrderedJoin {
  const e0 = o.evStart[from]!;
  const e1 = o.evStart[to]!;
  const l0 = o.lbStart[from]!;
  const l1 = o.lbStart[to]!;
  const rebase = (start: Uint32Array, s: number) => start.slice(from, to + 1).map((x) => x - s);
  const cut = (cols: Record<string, Float64Array | unknown[]>, s: number, e: number) =>
    Object.fromEntries(Object.entries(cols).map(([n, c]) => [n, c.slice(s, e)])) as Record<string, Float64Array | unknown[]>;
  return {
    keys: o.keys.slice(from, to),
    evStart: rebase(o.evStart, e0),
    evTimes: o.evTimes.slice(e0, e1),
    evFields: cut(o.evFields, e0, e1),
    lbStart: rebase(o.lbStart, l0),
    lbTimes: o.lbTimes.slice(l0, l1),
    lbRequest: cut(o.lbRequest, l0, l1),
  };
}

export interface RangeResult {
  /** Per planned group, per requested feature: values of the range's labels in entity order. */
  readonly columns: FeatureColumn[][];
  readonly eventsApplied: number;
  readonly eventsRejected: number;
}

/**
 * Replays every entity of an ordered input through fresh engine state and answers its labels (see
 * the module comment): the join's work, on one thread.
 */
export function replayOrdered(spec: EngineSpec, plan: TrainingPlan, o: OrderedJoin, onProgress?: JoinProgress): RangeResult {
  const nLabels = o.lbTimes.length;
  const groups = plan.groups.map((g) => {
    const aggNames = g.stateSpec.features.map((f) => f.name);
    return {
      plan: g,
      state: new AggregatedGroupState(g.stateSpec, g.source),
      derived: g.needsDerived ? (defaultDerived(spec)(g.stateSpec) as DerivedEvaluator | null) : null,
      /** Feature values of the labels in entity order. */
      out: g.types.map((t) => (t === 'double' ? new Float64Array(nLabels).fill(NaN) : filledArray(nLabels))) as FeatureColumn[],
      numeric: g.types.map((t) => t === 'double'),
      aggNames,
      /**
       * The state's values, in `aggNames` order (reused). A Float64Array (NaN = null) when every
       * feature is numeric and no derived feature reads them (derived features see null and NaN apart).
       */
      values: !g.needsDerived && numericFeatures(compiledFor(g.stateSpec, g.source)) ? new Float64Array(aggNames.length) : new Array<AggValue>(aggNames.length).fill(null),
      /** The same values by name, for derived features (reused). */
      byName: Object.fromEntries(aggNames.map((n) => [n, null])) as Record<string, AggValue>,
      /** Per requested feature: its index in `aggNames`, or -1 for a derived feature. */
      source: g.features.map((f) => aggNames.indexOf(f)),
    };
  });
  const states = groups.map((g) => g.state);
  const fieldNames = Object.keys(o.evFields);
  const fieldCols = fieldNames.map((n) => o.evFields[n]!);
  // the reused event object: every field column present in the input
  const event: Record<string, unknown> = Object.fromEntries(fieldNames.map((n) => [n, null]));
  const requestNames = Object.keys(o.lbRequest);
  const requestCols = requestNames.map((n) => o.lbRequest[n]!);
  const request: Record<string, unknown> = Object.fromEntries(requestNames.map((n) => [n, null]));
  const evTimes = o.evTimes;
  const lbTimes = o.lbTimes;
  let applied = 0;
  let rejected = 0;
  let done = 0;
  const step = 1 << 16;

  for (let k = 0; k < o.keys.length; k++) {
    const lbEnd = o.lbStart[k + 1]!;
    let li = o.lbStart[k]!;
    if (li === lbEnd) continue;
    const key = o.keys[k]!;
    let e = o.evStart[k]!;
    const evEnd = o.evStart[k + 1]!;
    for (; li < lbEnd; li++) {
      const t = lbTimes[li]!;
      for (; e < evEnd; e++) {
        const ts = evTimes[e]!;
        if (ts > t) break;
        for (let f = 0; f < fieldNames.length; f++) event[fieldNames[f]!] = fieldCols[f]![e];
        applied++;
        try {
          for (let s = 0; s < states.length; s++) {
            const r = states[s]!.apply(key, ts, event);
            if (!r.ok) throw new FenestraError('EVENT_LATE', `replay: ${r.reason}`);
          }
        } catch (err) {
          // An event the engine's decoder would have dead-lettered (a required field missing or of
          // the wrong type) is skipped, as serving never saw it; anything else is a real error.
          if (!(err instanceof FenestraError) || !(err.code === 'EVENT_FIELD_MISSING' || err.code === 'EVENT_FIELD_TYPE')) throw err;
          rejected++;
        }
      }
      for (let gi = 0; gi < groups.length; gi++) {
        const g = groups[gi]!;
        const values = g.values;
        g.state.readInto(key, t, values);
        let derived: Readonly<Record<string, unknown>> | null = null;
        if (g.derived) {
          const byName = g.byName;
          for (let i = 0; i < values.length; i++) byName[g.aggNames[i]!] = values[i]!;
          for (let r = 0; r < requestNames.length; r++) request[requestNames[r]!] = requestCols[r]![li];
          derived = g.derived(byName, request);
        }
        const feats = g.plan.features;
        const numeric = g.numeric;
        const out = g.out;
        for (let c = 0; c < feats.length; c++) {
          const src = g.source[c]!;
          const v = src >= 0 ? values[src] : derived !== null ? derived[feats[c]!] : undefined;
          if (numeric[c]) {
            if (typeof v === 'number') (out[c] as Float64Array)[li] = v;
            else if (typeof v === 'boolean') (out[c] as Float64Array)[li] = v ? 1 : 0;
          } else if (v !== undefined) (out[c] as unknown[])[li] = v;
        }
      }
      if (onProgress && (++done & (step - 1)) === 0) onProgress(done, applied - rejected);
    }
    for (let s = 0; s < states.length; s++) states[s]!.delete(key);
  }
  onProgress?.(nLabels, applied - rejected);
  return { columns: groups.map((g) => g.out), eventsApplied: applied - rejected, eventsRejected: rejected };
}

/** Entity-ordered feature columns (one per planned feature, in plan order) moved to label order. */
export function scatterColumns(plan: TrainingPlan, columns: readonly FeatureColumn[][], labelRows: Uint32Array): Map<string, FeatureColumn> {
  const out = new Map<string, FeatureColumn>();
  plan.groups.forEach((g, gi) => g.columns.forEach((name, c) => out.set(name, scatter(columns[gi]![c]!, labelRows))));
  return out;
}

export function replayJoin(spec: EngineSpec, plan: TrainingPlan, events: EventColumns, labels: LabelColumns, onProgress?: JoinProgress): JoinResult {
  const { ordered, labelRows } = orderJoin(plan, events, labels);
  const r = replayOrdered(spec, plan, ordered, onProgress);
  return { columns: scatterColumns(plan, r.columns, labelRows), eventsApplied: r.eventsApplied, eventsRejected: r.eventsRejected };
}

/** `col` in the order of `rows`: a Float64Array for numeric columns (NaN = absent), else an array. */
function gather(col: ArrayLike<unknown>, rows: Uint32Array, numeric: boolean): Float64Array | unknown[] {
  const n = rows.length;
  if (numeric) {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v = col[rows[i]!];
      out[i] = typeof v === 'number' ? v : typeof v === 'boolean' ? (v ? 1 : 0) : NaN;
    }
    return out;
  }
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) out.push(col[rows[i]!]);
  return out;
}

function filledArray(n: number): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) out.push(null);
  return out;
}

/** `col[i]` moved to row `rows[i]`. */
function scatter(col: FeatureColumn, rows: Uint32Array): FeatureColumn {
  const n = rows.length;
  const out = col instanceof Float64Array ? new Float64Array(n) : filledArray(n);
  for (let i = 0; i < n; i++) out[rows[i]!] = col[i]!;
  return out;
}
