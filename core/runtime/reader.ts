import { FenestraError } from '../errors.js';
import type { EngineSpec, GroupSpec } from '../model.js';
import type { FeatureRead, FeatureRows, FeatureValue, ReadOptions } from './api.js';
import type { StateGroup } from './state-group.js';
import { compileDerived, derivedInputsOf, evaluateAllDerived } from '../derived/index.js';

/**
 * Evaluates a group's derived features from its finalized features and the request fields (into
 * `into` when given: every derived feature is written, so a caller may reuse one object).
 */
export type DerivedEvaluator = (
  features: Readonly<Record<string, FeatureValue>>,
  request: Readonly<Record<string, unknown>>,
  into?: Record<string, FeatureValue>,
) => Readonly<Record<string, FeatureValue>>;

/** Builds the derived evaluator of a group (null when it has no derived features). */
export type DerivedFactory = (group: GroupSpec) => DerivedEvaluator | null;

interface GroupReader {
  readonly state: StateGroup;
  readonly derived: DerivedEvaluator | null;
  readonly derivedNames: readonly string[];
  /** Every feature name the group serves (aggregated/stored, then derived). */
  readonly names: ReadonlySet<string>;
  /** The aggregated/stored features, in spec order (what `state.readInto` writes). */
  readonly baseNames: readonly string[];
  /** Every feature name the group serves, in order (aggregated/stored, then derived). */
  readonly allNames: readonly string[];
  /** Index in `allNames` of each name. */
  readonly allIndex: ReadonlyMap<string, number>;
}

/** Reused buffers of `readRows` (reads are synchronous, so one set per group reader serves all). */
interface RowScratch {
  /** One key's values, indexed like `allNames`. */
  readonly full: Array<FeatureValue>;
  /** The aggregated/stored values by name, the features record derived features read (fixed shape). */
  readonly base: Record<string, FeatureValue>;
  /** The derived evaluator's output record (every derived name written on each evaluation). */
  readonly derived: Record<string, FeatureValue>;
}

/**
 * Reads features from the in-memory state: finalizes windows as of `asOf` (core/window), then
 * evaluates derived features with the request fields, then keeps the requested subset.
 * Unknown groups → UNKNOWN_GROUP; unknown features → UNKNOWN_FEATURE (with the feature as path).
 */
export class FeatureReader {
  private readonly readers = new Map<string, GroupReader>();
  private readonly scratch = new WeakMap<GroupReader, RowScratch>();

  constructor(spec: EngineSpec, groups: ReadonlyMap<string, StateGroup>, derived?: DerivedFactory) {
    for (const [name, state] of groups) {
      const g = spec.groups.get(name);
      const base = g === undefined ? [] : g.kind === 'aggregated' ? g.features.map((f) => f.name) : g.fields.map((f) => f.name);
      const derivedNames = g?.derived.map((d) => d.name) ?? [];
      const evaluator = g && derivedNames.length > 0 ? (derived ?? defaultDerived(spec))(g) : null;
      const allNames = [...base, ...derivedNames];
      const allIndex = new Map<string, number>();
      // A name listed twice reads as `read` does: the later (derived) value wins.
      allNames.forEach((n, i) => allIndex.set(n, i));
      this.readers.set(name, { state, derived: evaluator, derivedNames, names: new Set(allNames), baseNames: base, allNames, allIndex });
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

  /**
   * `read` of every key (one group, one `asOf`) as rows of the requested features (`opts.features`,
   * default all of the group's): the same values `read` gives, without an object per key. `requests`
   * (one per key) replaces `opts.request` when given. The batch route's read.
   */
  readRows(group: string, keys: readonly string[], asOf: number, opts: ReadOptions, requests?: readonly Readonly<Record<string, unknown>>[]): FeatureRows {
    const r = this.check(group, opts);
    const names = opts.features ?? r.allNames;
    const width = names.length;
    // where each requested feature is in a key's `full` values
    const at = new Array<number>(width);
    for (let j = 0; j < width; j++) at[j] = r.allIndex.get(names[j]!)!;
    const s = this.rowScratch(r);
    const { full, base, derived: into } = s;
    const baseNames = r.baseNames;
    const nBase = baseNames.length;
    const derivedNames = r.derivedNames;
    const nDerived = derivedNames.length;
    const evaluate = r.derived;
    const state = r.state;
    const readInto = state.readInto === undefined ? null : state.readInto.bind(state);
    const found = new Array<boolean>(keys.length);
    const values = new Array<FeatureValue>(keys.length * width);
    const request = opts.request ?? {};
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      let features: Readonly<Record<string, FeatureValue>>;
      if (readInto !== null) {
        found[i] = readInto(key, asOf, full as Array<number | string | null>);
        if (evaluate !== null) for (let j = 0; j < nBase; j++) base[baseNames[j]!] = full[j]!;
        features = base;
      } else {
        const agg = state.read(key, asOf);
        found[i] = agg.found;
        for (let j = 0; j < nBase; j++) full[j] = agg.values[baseNames[j]!] ?? null;
        features = agg.values;
      }
      if (nDerived > 0) {
        const d = evaluate !== null ? evaluate(features, requests === undefined ? request : (requests[i] ?? {}), into) : null;
        for (let j = 0; j < nDerived; j++) full[nBase + j] = d !== null ? (d[derivedNames[j]!] ?? null) : null;
      }
      const o = i * width;
      for (let j = 0; j < width; j++) values[o + j] = full[at[j]!]!;
    }
    return { names, found, values };
  }

  private rowScratch(r: GroupReader): RowScratch {
    let s = this.scratch.get(r);
    if (s === undefined) {
      const base: Record<string, FeatureValue> = {};
      for (const n of r.baseNames) base[n] = null;
      s = { full: new Array<FeatureValue>(r.allNames.length).fill(null), base, derived: {} };
      this.scratch.set(r, s);
    }
    return s;
  }
}

/** Derived features compiled with core/derived (CEL), the evaluator training sets use too. */
export function defaultDerived(spec: EngineSpec): DerivedFactory {
  return (group) => {
    if (group.derived.length === 0) return null;
    const fields = group.kind === 'aggregated' ? (spec.sources.get(group.source)?.fields ?? []) : [];
    const inputs = derivedInputsOf(group, fields);
    const compiled = group.derived.map((d) => compileDerived(d, inputs));
    return (features, request, into) => evaluateAllDerived(compiled, features, request, into);
  };
}
