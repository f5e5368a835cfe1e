import type { EngineSpec, GroupSpec } from '../core/model.js';
import { FenestraError } from '../core/errors.js';

const namesOf = new WeakMap<GroupSpec, readonly string[]>();

/**
 * Every feature name a group serves: its aggregated or stored features, then derived ones. Computed
 * once per group (the feature routes ask on every request).
 */
export function groupFeatureNames(g: GroupSpec): readonly string[] {
  let names = namesOf.get(g);
  if (names === undefined) {
    const base = g.kind === 'aggregated' ? g.features.map((f) => f.name) : g.fields.map((f) => f.name);
    names = Object.freeze([...base, ...g.derived.map((d) => d.name)]);
    namesOf.set(g, names);
  }
  return names;
}

/** Requested features, grouped by feature group, in request order. */
export type ResolvedRefs = Map<string, string[]>;

/**
 * Resolves feature references: `group:feature`, `group:*`, or a feature service name.
 * Unknown group → UNKNOWN_GROUP, unknown feature → UNKNOWN_FEATURE, unknown service → UNKNOWN_SERVICE
 * (each with the reference's index as field path).
 */
export function resolveRefs(spec: EngineSpec, refs: readonly string[], path = 'features'): ResolvedRefs {
  const out: ResolvedRefs = new Map();
  const add = (group: string, feature: string): void => {
    const list = out.get(group) ?? [];
    if (!list.includes(feature)) list.push(feature);
    out.set(group, list);
  };
  refs.forEach((ref, i) => {
    const colon = ref.indexOf(':');
    if (colon < 0) {
      const svc = spec.services.get(ref);
      if (svc === undefined) throw new FenestraError('UNKNOWN_SERVICE', `no feature service "${ref}" (a feature is written "group:feature")`, { path: `${path}[${i}]` });
      for (const f of svc.features) add(f.group, f.feature);
      return;
    }
    const group = ref.slice(0, colon);
    const feature = ref.slice(colon + 1);
    const g = spec.groups.get(group);
    if (g === undefined) throw new FenestraError('UNKNOWN_GROUP', `no feature group "${group}"`, { path: `${path}[${i}]` });
    const names = groupFeatureNames(g);
    if (feature === '*') {
      for (const n of names) add(group, n);
      return;
    }
    if (!names.includes(feature)) throw new FenestraError('UNKNOWN_FEATURE', `feature group "${group}" has no feature "${feature}"`, { path: `${path}[${i}]` });
    add(group, feature);
  });
  return out;
}
