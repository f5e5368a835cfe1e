/**
 * What a training set computes: the requested features (a feature service or `group:feature`
 * refs, `group:*` for all), grouped by feature group — aggregated groups (replayed from one source's
 * history) and stored groups (an as-of join over their `stored/<group>` history) — with their output
 * columns and types, in the order the groups are first named.
 */
import { FenestraError } from '../errors.js';
import type { AggregatedGroupSpec, EngineSpec, FeatureRef, FieldType, SourceSpec, StoredGroupSpec } from '../model.js';
import { aggFeatureType } from '../derived/index.js';
import { compileDerived, derivedInputsOf } from '../derived/index.js';
import { storedKeyField } from '../stored/history.js';

/** A Parquet output column's type: every schema `FieldType`, which stored fields keep. */
export type OutputType = FieldType;

/** What every requested group contributes to the output, aggregated or stored. */
interface PlannedColumns {
  /** Requested feature names (in the group's order). */
  readonly features: readonly string[];
  /** Output column name per requested feature (`feature`, or `group__feature` when names clash). */
  readonly columns: readonly string[];
  readonly types: readonly OutputType[];
  /** Whether any requested derived feature is present. */
  readonly needsDerived: boolean;
  /** `request.*` fields read by the requested derived features. */
  readonly requestFields: readonly string[];
}

export interface PlannedGroup extends PlannedColumns {
  readonly spec: AggregatedGroupSpec;
  /**
   * The group reduced to what is requested: the requested aggregates, those the requested derived
   * features read, and the requested derived features. Replays build their state from it (each
   * feature's value depends only on its own aggregation and window, so the values are the same as
   * with the whole group, for less work).
   */
  readonly stateSpec: AggregatedGroupSpec;
  readonly source: SourceSpec;
}

/** A requested stored group: its features are read from its `stored/<group>` history as of each label. */
export interface PlannedStoredGroup extends PlannedColumns {
  readonly spec: StoredGroupSpec;
  /** The group with only the requested derived features (the evaluator is built from it). */
  readonly derivedSpec: StoredGroupSpec;
  /** The record identifier (the entity's key field). */
  readonly keyField: string;
  /** Fields read from the history: the requested ones and those the requested derived features read. */
  readonly fieldsRead: readonly string[];
}

export interface TrainingPlan {
  /** Aggregated groups (replayed). */
  readonly groups: readonly PlannedGroup[];
  /** Stored groups (as-of joined). */
  readonly stored: readonly PlannedStoredGroup[];
  /** The one source every aggregated group reads (training sets replay one source's history); null without aggregated groups. */
  readonly source: SourceSpec | null;
  /** The label column with the entity key (every requested group's key field). */
  readonly keyField: string;
  /** The default label time column: the source's event-time field, else the first stored group's. */
  readonly timeField: string;
  /** Every output feature column in request order (groups in the order first named). */
  readonly output: ReadonlyArray<{ readonly group: string; readonly column: string; readonly type: OutputType }>;
}

/** Parses `SERVICE` or comma-separated `group:feature` / `group:*` refs. */
export function resolveFeatureRefs(spec: EngineSpec, text: string): FeatureRef[] {
  const service = spec.services.get(text);
  if (service) return [...service.features];
  const refs: FeatureRef[] = [];
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([^:]+):(.+)$/.exec(part);
    if (!m) {
      throw new FenestraError('UNKNOWN_SERVICE', `--features: "${part}" is neither a feature service nor a group:feature reference`, { path: 'features' });
    }
    const [, group, feature] = m as unknown as [string, string, string];
    const g = spec.groups.get(group);
    if (!g) throw new FenestraError('UNKNOWN_GROUP', `--features: no feature group "${group}"`, { path: `features.${part}` });
    const names = g.kind === 'aggregated' ? [...g.features.map((f) => f.name), ...g.derived.map((d) => d.name)] : [...g.fields.map((f) => f.name), ...g.derived.map((d) => d.name)];
    if (feature === '*') for (const n of names) refs.push({ group, feature: n });
    else if (names.includes(feature)) refs.push({ group, feature });
    else throw new FenestraError('UNKNOWN_FEATURE', `--features: group "${group}" has no feature "${feature}"`, { path: `features.${part}` });
  }
  if (refs.length === 0) throw new FenestraError('BAD_REQUEST', '--features: no features requested', { path: 'features' });
  return refs;
}

function derivedOutputType(t: string): OutputType {
  return t === 'string' ? 'string' : t === 'bool' ? 'boolean' : 'double';
}

function planStored(spec: EngineSpec, g: StoredGroupSpec, wanted: ReadonlySet<string>, column: (f: string) => string): PlannedStoredGroup {
  const inputs = derivedInputsOf(g);
  const features: string[] = [];
  const types: OutputType[] = [];
  const read = new Set<string>();
  for (const f of g.fields) {
    if (!wanted.has(f.name)) continue;
    features.push(f.name);
    types.push(f.type); // a field keeps its schema type
    read.add(f.name);
  }
  const requestFields = new Set<string>();
  const derived = g.derived.filter((d) => wanted.has(d.name));
  for (const d of derived) {
    const c = compileDerived(d, inputs);
    features.push(d.name);
    types.push(derivedOutputType(c.resultType));
    for (const r of c.requestFields) requestFields.add(r);
    for (const f of c.features) read.add(f.name);
  }
  return {
    spec: g,
    derivedSpec: { ...g, derived },
    keyField: storedKeyField(spec, g),
    features,
    columns: features.map(column),
    types,
    needsDerived: derived.length > 0,
    requestFields: [...requestFields],
    fieldsRead: g.fields.map((f) => f.name).filter((n) => read.has(n)),
  };
}

export function planTraining(spec: EngineSpec, refs: readonly FeatureRef[]): TrainingPlan {
  const byGroup = new Map<string, Set<string>>();
  for (const r of refs) {
    let s = byGroup.get(r.group);
    if (!s) byGroup.set(r.group, (s = new Set()));
    s.add(r.feature);
  }
  const nameCount = new Map<string, number>();
  for (const r of refs) nameCount.set(r.feature, (nameCount.get(r.feature) ?? 0) + (byGroup.get(r.group)!.has(r.feature) ? 1 : 0));
  const groups: PlannedGroup[] = [];
  const stored: PlannedStoredGroup[] = [];
  const output: Array<{ group: string; column: string; type: OutputType }> = [];
  let source: SourceSpec | undefined;
  let key: { field: string; group: string } | undefined;
  const sameKey = (name: string, field: string): void => {
    if (key && key.field !== field) {
      throw new FenestraError('BAD_REQUEST', `requested groups are keyed by different fields ("${key.group}" by "${key.field}", "${name}" by "${field}"); make one training set per key`, { path: name });
    }
    key ??= { field, group: name };
  };
  for (const [name, wanted] of byGroup) {
    const g = spec.groups.get(name);
    if (!g) throw new FenestraError('UNKNOWN_GROUP', `no feature group "${name}"`, { path: name });
    const column = (f: string): string => ((nameCount.get(f) ?? 0) > 1 ? `${name}__${f}` : f);
    if (g.kind === 'stored') {
      const p = planStored(spec, g, wanted, column);
      sameKey(name, p.keyField);
      stored.push(p);
      p.columns.forEach((c, i) => output.push({ group: name, column: c, type: p.types[i]! }));
      continue;
    }
    const src = spec.sources.get(g.source);
    if (!src) throw new FenestraError('BAD_REQUEST', `feature group "${name}" reads unknown source "${g.source}"`, { path: name });
    if (source && source.name !== src.name) {
      throw new FenestraError('BAD_REQUEST', `requested groups read different sources ("${source.name}", "${src.name}"); make one training set per source`, { path: name });
    }
    sameKey(name, src.keyField);
    source = src;
    const inputs = derivedInputsOf(g, src.fields);
    const features: string[] = [];
    const types: OutputType[] = [];
    for (const f of g.features) {
      if (!wanted.has(f.name)) continue;
      features.push(f.name);
      const t = aggFeatureType(f, src.fields);
      types.push(t === 'bool' ? 'boolean' : t);
    }
    const requestFields = new Set<string>();
    let needsDerived = false;
    for (const d of g.derived) {
      if (!wanted.has(d.name)) continue;
      needsDerived = true;
      features.push(d.name);
      const c = compileDerived(d, inputs);
      for (const r of c.requestFields) requestFields.add(r);
      types.push(derivedOutputType(c.resultType));
    }
    const columns = features.map(column);
    const keepAggs = new Set(features);
    for (const d of g.derived) if (wanted.has(d.name)) for (const f of compileDerived(d, inputs).features) keepAggs.add(f.name);
    const stateSpec: AggregatedGroupSpec = {
      ...g,
      features: g.features.filter((f) => keepAggs.has(f.name)),
      derived: g.derived.filter((d) => wanted.has(d.name)),
    };
    groups.push({ spec: g, stateSpec, source: src, features, columns, types, needsDerived, requestFields: [...requestFields] });
    columns.forEach((c, i) => output.push({ group: name, column: c, type: types[i]! }));
  }
  if (!key) throw new FenestraError('BAD_REQUEST', 'no features requested', { path: 'features' });
  const timeField = source ? source.eventTimeField : stored[0]!.spec.eventTimeField;
  return { groups, stored, source: source ?? null, keyField: key.field, timeField, output };
}
