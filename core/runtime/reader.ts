import { FenestraError } from '../errors.js';
import type { EngineSpec, GroupSpec } from '../model.js';
import type { FeatureRead, FeatureValue, ReadOptions } from './api.js';
import type { StateGroup } from './state-group.js';
import { compileDerived, derivedInputsOf, evaluateAllDerived } from '../derived/index.js';

/** Evaluates a group's derived features from its finalized features and the request fields. */
export type DerivedEvaluator = (
  features: Readonly<Record<string, FeatureValue>>,
  request: Readonly<Record<string, unknown>>,
) => Readonly<Record<string, FeatureValue>>;

/** Builds the derived evaluator of a group (null when it has no derived features). */
export type DerivedFactory = (group: GroupSpec) => DerivedEvaluator | null;

interface GroupReader {
  readonly state: StateGroup;
  readonly derived: DerivedEvaluator | null;
  readonly derivedNames: readonly string[];
  /** Every feature name the group serves (aggregated/stored, then derived). */
  readonly names: ReadonlySet<string>;
}

/**
 * Reads features from the in-memory state: finalizes windows as of `asOf` (core/window), then
 * evaluates derived features with the request fields, then keeps the requested subset.
 * Unknown groups → UNKNOWN_GROUP; unknown features → UNKNOWN_FEATURE (with the feature as path).
 */
export class FeatureReader {
  private readonly readers = new Map<string, GroupReader>();

  constructor(spec: EngineSpec, groups: ReadonlyMap<string, StateGroup>, derived?: DerivedFactory) {
    for (const [name, state] of groups) {
      const g = spec.groups.get(name);
      const base = g === undefined ? [] : g.kind === 'aggregated' ? g.features.map((f) => f.name) : g.fields.map((f) => f.name);
      const derivedNames = g?.derived.map((d) => d.name) ?? [];
      const evaluator = g && derivedNames.length > 0 ? (derived ?? defaultDerived(spec))(g) : null;
      this.readers.set(name, { state, derived: evaluator, derivedNames, names: new Set([...base, ...derivedNames]) });
    }
  }

  /** Throws UNKNOWN_GROUP / UNKNOWN_FEATURE for a request that cannot be served. */
  check(group: string, opts: ReadOptions): GroupReader {
    const r = this.readers.get(group);
    if (!r) throw new FenestraError('UNKNOWN_GROUP', `no feature group "${group}"`, { path: group });
    if (opts.features) {
      for (const f of opts.features) {
        if (!r.names.has(f)) throw new FenestraError('UNKNOWN_FEATURE', `feature group "${group}" has no feature "${f}"`, { path: `${group}:${f}` });
      }
    }
    return r;
  }

  read(group: string, key: string, asOf: number, opts: ReadOptions): FeatureRead {
    const r = this.check(group, opts);
    const agg = r.state.read(key, asOf);
    let values: Record<string, FeatureValue> = { ...agg.values };
    if (r.derivedNames.length > 0) {
      const d = r.derived ? r.derived(values, opts.request ?? {}) : null;
      for (const n of r.derivedNames) values[n] = d ? (d[n] ?? null) : null;
    }
    if (opts.features) {
      const picked: Record<string, FeatureValue> = {};
      for (const f of opts.features) picked[f] = values[f] ?? null;
      values = picked;
    }
    return { group, key, found: agg.found, asOf, version: agg.found ? agg.version : 0, values };
  }
}

/** Derived features compiled with core/derived (CEL), the evaluator training sets use too. */
export function defaultDerived(spec: EngineSpec): DerivedFactory {
  return (group) => {
    if (group.derived.length === 0) return null;
    const fields = group.kind === 'aggregated' ? (spec.sources.get(group.source)?.fields ?? []) : [];
    const inputs = derivedInputsOf(group, fields);
    const compiled = group.derived.map((d) => compileDerived(d, inputs));
    return (features, request) => evaluateAllDerived(compiled, features, request);
  };
}
