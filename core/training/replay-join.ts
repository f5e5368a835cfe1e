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

export function replayJoin(spec: EngineSpec, plan: TrainingPlan, events: EventColumns, labels: LabelColumns, onProgress?: JoinProgress): JoinResult {
  const groups = plan.groups.map((g) => {
    const aggNames = g.stateSpec.features.map((f) => f.name);
    return {
      plan: g,
      state: new AggregatedGroupState(g.stateSpec, g.source),
      derived: g.needsDerived ? (defaultDerived(spec)(g.stateSpec) as DerivedEvaluator | null) : null,
      /** Feature values in entity order (label `lb.rows[i]` at i), scattered to label order at the end. */
      out: g.types.map((t) => (t === 'double' ? new Float64Array(labels.rows).fill(NaN) : filledArray(labels.rows))) as FeatureColumn[],
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

  const ids = new Map<string, number>();
  const dict: string[] = [];
  const evIds = entityIds(events.keys, events.rows, ids, dict);
  const sameRows = labels.keys === events.keys && labels.times === events.times && labels.rows === events.rows;
  const lbIds = sameRows ? evIds : entityIds(labels.keys, labels.rows, ids, dict);
  const ev = orderByEntity(evIds, events.times, dict.length);
  const lb = sameRows ? ev : orderByEntity(lbIds, labels.times, dict.length);

  // Event columns gathered into entity order (sequential reads in the replay loop). Numeric fields
  // become doubles by the rule `apply` uses (number as is, boolean 1/0, anything else absent: NaN).
  const numericFields = new Set(plan.groups.flatMap((g) => g.source.fields.filter((f) => f.type !== 'string').map((f) => f.name)));
  const fieldNames = [...events.fields.keys()];
  const fieldCols = fieldNames.map((n) => gather(events.fields.get(n)!, ev.rows, numericFields.has(n)));
  const evTimes = ev.times;
  const lbTimes = lb.times;
  // the reused event object: every field column present in the input
  const event: Record<string, unknown> = Object.fromEntries(fieldNames.map((n) => [n, null]));
  const requestNames = [...labels.request.keys()];
  const requestCols = requestNames.map((n) => labels.request.get(n)!);
  const request: Record<string, unknown> = Object.fromEntries(requestNames.map((n) => [n, null]));
  let applied = 0;
  let rejected = 0;
  let done = 0;
  const step = 1 << 16;

  for (let k = 0; k < dict.length; k++) {
    const lbEnd = lb.start[k + 1]!;
    let li = lb.start[k]!;
    if (li === lbEnd) continue;
    const key = dict[k]!;
    let e = ev.start[k]!;
    const evEnd = ev.start[k + 1]!;
    for (; li < lbEnd; li++) {
      const l = lb.rows[li]!;
      const t = lbTimes[li]!;
      for (; e < evEnd; e++) {
        const ts = evTimes[e]!;
        if (ts > t) break;
        for (let f = 0; f < fieldNames.length; f++) event[fieldNames[f]!] = fieldCols[f]![e];
        applied++;
        try {
          for (let s = 0; s < states.length; s++) {
            const o = states[s]!.apply(key, ts, event);
            if (!o.ok) throw new FenestraError('EVENT_LATE', `replay: ${o.reason}`);
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
          for (let r = 0; r < requestNames.length; r++) request[requestNames[r]!] = requestCols[r]![l];
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
  onProgress?.(labels.rows, applied - rejected);
  const columns = new Map<string, FeatureColumn>();
  for (const g of groups) g.plan.columns.forEach((name, c) => columns.set(name, scatter(g.out[c]!, lb.rows)));
  return { columns, eventsApplied: applied - rejected, eventsRejected: rejected };
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
