/**
 * What a training set computes: the requested features (a feature service or `group:feature`
 * refs, `group:*` for all), grouped by aggregated group and source, with their output types.
 */
import { FenestraError } from '../errors.js';
import type { AggregatedGroupSpec, EngineSpec, FeatureRef, SourceSpec } from '../model.js';
import { aggFeatureType } from '../derived/index.js';
import { compileDerived, derivedInputsOf } from '../derived/index.js';

export type OutputType = 'double' | 'string' | 'boolean';

export interface PlannedGroup {
  readonly spec: AggregatedGroupSpec;
  /**
   * The group reduced to what is requested: the requested aggregates, those the requested derived
   * features read, and the requested derived features. Replays build their state from it (each
   * feature's value depends only on its own aggregation and window, so the values are the same as
   * with the whole group, for less work).
   */
  readonly stateSpec: AggregatedGroupSpec;
  readonly source: SourceSpec;
  /** Requested feature names of this group (aggregated and derived, in the group's order). */
  readonly features: readonly string[];
  /** Output column name per requested feature (`feature`, or `group__feature` when names clash). */
  readonly columns: readonly string[];
  readonly types: readonly OutputType[];
  /** Whether any requested derived feature is present (derived needs every aggregate it reads). */
  readonly needsDerived: boolean;
  /** `request.*` fields read by the requested derived features. */
  readonly requestFields: readonly string[];
}

export interface TrainingPlan {
  readonly groups: readonly PlannedGroup[];
  /** The one source every planned group reads (training sets replay one source's history). */
  readonly source: SourceSpec;
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
  let source: SourceSpec | undefined;
  for (const [name, wanted] of byGroup) {
    const g = spec.groups.get(name);
    if (!g) throw new FenestraError('UNKNOWN_GROUP', `no feature group "${name}"`, { path: name });
    if (g.kind !== 'aggregated') {
      throw new FenestraError('BAD_REQUEST', `feature group "${name}" is a stored group; training sets replay aggregated groups only`, { path: name });
    }
    const src = spec.sources.get(g.source);
    if (!src) throw new FenestraError('BAD_REQUEST', `feature group "${name}" reads unknown source "${g.source}"`, { path: name });
    if (source && source.name !== src.name) {
      throw new FenestraError('BAD_REQUEST', `requested groups read different sources ("${source.name}", "${src.name}"); make one training set per source`, { path: name });
    }
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
      types.push(c.resultType === 'string' ? 'string' : c.resultType === 'bool' ? 'boolean' : 'double');
    }
    const columns = features.map((f) => ((nameCount.get(f) ?? 0) > 1 ? `${name}__${f}` : f));
    const keepAggs = new Set(features);
    for (const d of g.derived) if (wanted.has(d.name)) for (const f of compileDerived(d, inputs).features) keepAggs.add(f.name);
    const stateSpec: AggregatedGroupSpec = {
      ...g,
      features: g.features.filter((f) => keepAggs.has(f.name)),
      derived: g.derived.filter((d) => wanted.has(d.name)),
    };
    groups.push({ spec: g, stateSpec, source: src, features, columns, types, needsDerived, requestFields: [...requestFields] });
  }
  if (!source) throw new FenestraError('BAD_REQUEST', 'no features requested', { path: 'features' });
  return { groups, source };
}
