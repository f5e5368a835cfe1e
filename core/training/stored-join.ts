/**
 * The point-in-time join of a stored feature group: for each label (key k, time t), the record of k
 * in the group's history (`stored/<group>`, see core/stored/history.ts) with the latest event time
 * <= t; among records with that same event time, the one written last (the state's rule: an equal
 * event time replaces the held record). The answer is null (every field) when there is none, when
 * that record is a delete, or when it has expired by t (`expires_at <= t`) — as
 * `StoredGroupState.get` reads. Derived features are then evaluated by the serving evaluator
 * (`defaultDerived`) from the fields (null when not found, as serving does) and the label's request
 * fields.
 *
 * No leakage: a record with an event time later than t is never used, whenever it was written.
 * Write order is the order of the history rows given (files in name order — checkpoint order — then
 * rows in file order), so the caller passes them as read. O(n + m) after grouping by key (counting
 * sort; see entity-order.ts). Single-threaded, no shared state.
 */
import type { EngineSpec } from '../model.js';
import { defaultDerived, type DerivedEvaluator } from '../runtime/reader.js';
import type { FeatureValue } from '../runtime/api.js';
import { entityIds, orderByEntity } from './entity-order.js';
import type { PlannedStoredGroup } from './plan.js';
import type { FeatureColumn, LabelColumns } from './replay-join.js';

/** A stored group's history, rows in write order. */
export interface StoredHistoryColumns {
  readonly rows: number;
  readonly keys: ArrayLike<string>;
  /** Record event times, epoch ms. */
  readonly eventTimes: ArrayLike<number>;
  /** Expiry, epoch ms; 0 or NaN = never. */
  readonly expiresAt: ArrayLike<number>;
  /** True for a delete (tombstone). */
  readonly deleted: ArrayLike<boolean>;
  /** Field values by name (typed as serving reads them: numbers, strings, booleans, null). */
  readonly fields: ReadonlyMap<string, ArrayLike<unknown>>;
}

/**
 * For each label, the history row holding its record as of the label's time, or -1 (none, deleted,
 * expired). Labels in input order.
 */
function asOfRows(history: StoredHistoryColumns, labels: Pick<LabelColumns, 'rows' | 'keys' | 'times'>): Int32Array {
  const ids = new Map<string, number>();
  const dict: string[] = [];
  const hIds = entityIds(history.keys, history.rows, ids, dict);
  const known = dict.length;
  const lIds = entityIds(labels.keys, labels.rows, ids, dict);
  const h = orderByEntity(hIds, history.eventTimes, dict.length);
  const l = orderByEntity(lIds, labels.times, dict.length);
  const out = new Int32Array(labels.rows).fill(-1);
  for (let k = 0; k < known; k++) {
    let r = h.start[k]!;
    const rEnd = h.start[k + 1]!;
    if (r === rEnd) continue;
    for (let li = l.start[k]!, lEnd = l.start[k + 1]!; li < lEnd; li++) {
      const t = l.times[li]!;
      // rows of k sorted by (event time, write order): the last with event time <= t wins
      while (r < rEnd && h.times[r]! <= t) r++;
      if (r === h.start[k]!) continue;
      const row = h.rows[r - 1]!;
      if (history.deleted[row]) continue;
      const exp = history.expiresAt[row]!;
      if (exp > 0 && exp <= t) continue;
      out[l.rows[li]!] = row;
    }
  }
  return out;
}

/** The planned features of a stored group for every label (see the module comment). */
export function storedJoin(spec: EngineSpec, plan: PlannedStoredGroup, history: StoredHistoryColumns, labels: LabelColumns): Map<string, FeatureColumn> {
  const rows = asOfRows(history, labels);
  const n = labels.rows;
  const out: FeatureColumn[] = plan.types.map((t) => (t === 'double' ? new Float64Array(n).fill(NaN) : new Array<unknown>(n).fill(null)));
  // Only the fields read (requested, or read by a requested derived feature) are filled per label.
  const fieldNames = plan.fieldsRead;
  const fieldCols = fieldNames.map((f) => history.fields.get(f));
  const derived: DerivedEvaluator | null = plan.needsDerived ? defaultDerived(spec)(plan.derivedSpec) : null;
  const values: Record<string, FeatureValue> = Object.fromEntries(fieldNames.map((f) => [f, null]));
  const requestNames = [...labels.request.keys()];
  const requestCols = requestNames.map((r) => labels.request.get(r)!);
  const request: Record<string, unknown> = {};
  // Per output column: true when it is a field read, false for a derived feature.
  const isField = new Set(fieldNames);
  const fromField = plan.features.map((name) => isField.has(name));
  for (let i = 0; i < n; i++) {
    const row = rows[i]!;
    for (let f = 0; f < fieldNames.length; f++) {
      const col = fieldCols[f];
      values[fieldNames[f]!] = row < 0 || col === undefined ? null : ((col[row] ?? null) as FeatureValue);
    }
    let d: Readonly<Record<string, FeatureValue>> | null = null;
    if (derived) {
      for (let r = 0; r < requestNames.length; r++) request[requestNames[r]!] = requestCols[r]![i];
      d = derived(values, request);
    }
    for (let c = 0; c < plan.features.length; c++) {
      const name = plan.features[c]!;
      const v = fromField[c] ? values[name] : d !== null ? (d[name] ?? null) : null;
      const col = out[c]!;
      if (col instanceof Float64Array) {
        if (typeof v === 'number') col[i] = v;
      } else col[i] = v ?? null;
    }
  }
  return new Map(plan.columns.map((name, c) => [name, out[c]!]));
}
