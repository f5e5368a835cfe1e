/**
 * The point-in-time join behind training sets, computed by replaying history through the engine's
 * own window code (`AggregatedGroupState`) and derived-feature evaluator, so training rows equal
 * what serving returns for the same entity and time.
 *
 * One pass in event time: events and labels are each ordered by time (stable: equal times keep
 * their input order); before the label at time t is answered, every event with ts <= t has been
 * applied, nothing later; then `read(key, t)` finalizes the windows as of t exactly as a serving
 * read with `asOf = t` does, including the group's `includeCurrent` rule (with includeCurrent=false
 * an event at exactly t is applied but excluded by the read, as online). No label can see an event
 * later than its own time: those events have not been applied yet.
 *
 * Columnar in, columnar out; one reused event object; results scattered back to label order.
 */
import { FenestraError } from '../errors.js';
import type { EngineSpec } from '../model.js';
import { AggregatedGroupState } from '../window/index.js';
import { defaultDerived, type DerivedEvaluator } from '../runtime/reader.js';
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

/** Indices of `times` in ascending order (stable), or null when already ascending. */
export function sortedOrder(times: ArrayLike<number>): Uint32Array | null {
  const n = times.length;
  let sorted = true;
  for (let i = 1; i < n; i++) {
    if (times[i]! < times[i - 1]!) {
      sorted = false;
      break;
    }
  }
  if (sorted) return null;
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  idx.sort((a, b) => times[a]! - times[b]! || a - b);
  return idx;
}

export function replayJoin(spec: EngineSpec, plan: TrainingPlan, events: EventColumns, labels: LabelColumns, onProgress?: JoinProgress): JoinResult {
  const groups = plan.groups.map((g) => ({
    plan: g,
    state: new AggregatedGroupState(g.stateSpec, g.source),
    derived: g.needsDerived ? (defaultDerived(spec)(g.stateSpec) as DerivedEvaluator | null) : null,
    out: g.types.map((t) => (t === 'double' ? new Float64Array(labels.rows).fill(NaN) : new Array<unknown>(labels.rows).fill(null))) as FeatureColumn[],
    numeric: g.types.map((t) => t === 'double'),
    /** Requested features before this index are aggregates, from it on derived. */
    aggCount: g.features.filter((f) => g.stateSpec.features.some((x) => x.name === f)).length,
  }));
  const states = groups.map((g) => g.state);

  // the reused event object: every field column present in the input
  const fieldNames = [...events.fields.keys()];
  const fieldCols = fieldNames.map((n) => events.fields.get(n)!);
  const event: Record<string, unknown> = {};
  const requestNames = [...labels.request.keys()];
  const requestCols = requestNames.map((n) => labels.request.get(n)!);
  const request: Record<string, unknown> = {};

  const evOrder = sortedOrder(events.times);
  const lbOrder = sortedOrder(labels.times);
  const evTimes = events.times;
  const evKeys = events.keys;
  const nEv = events.rows;
  let e = 0;
  let rejected = 0;
  const step = 1 << 16;

  for (let li = 0; li < labels.rows; li++) {
    const l = lbOrder === null ? li : lbOrder[li]!;
    const t = labels.times[l]!;
    while (e < nEv) {
      const ei = evOrder === null ? e : evOrder[e]!;
      const ts = evTimes[ei]!;
      if (ts > t) break;
      for (let f = 0; f < fieldNames.length; f++) event[fieldNames[f]!] = fieldCols[f]![ei];
      const key = evKeys[ei]!;
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
      e++;
    }
    const key = labels.keys[l]!;
    for (let gi = 0; gi < groups.length; gi++) {
      const g = groups[gi]!;
      const values = g.state.read(key, t).values as Readonly<Record<string, unknown>>;
      let derived: Readonly<Record<string, unknown>> | null = null;
      if (g.derived) {
        for (let r = 0; r < requestNames.length; r++) request[requestNames[r]!] = requestCols[r]![l];
        derived = g.derived(values as Record<string, number | string | null>, request);
      }
      const feats = g.plan.features;
      const numeric = g.numeric;
      const out = g.out;
      for (let c = 0; c < feats.length; c++) {
        const name = feats[c]!;
        const v = c >= g.aggCount && derived !== null ? derived[name] : values[name];
        if (numeric[c]) {
          if (typeof v === 'number') (out[c] as Float64Array)[l] = v;
          else if (typeof v === 'boolean') (out[c] as Float64Array)[l] = v ? 1 : 0;
        } else if (v !== undefined) (out[c] as unknown[])[l] = v;
      }
    }
    if (onProgress && (li & (step - 1)) === step - 1) onProgress(li + 1, e);
  }
  onProgress?.(labels.rows, e);
  const columns = new Map<string, FeatureColumn>();
  for (const g of groups) g.plan.columns.forEach((name, c) => columns.set(name, g.out[c]!));
  return { columns, eventsApplied: e - rejected, eventsRejected: rejected };
}
