import { FenestraError } from '../core/errors.js';
import { AGG_KINDS, NUMERIC_AGGS } from '../core/model.js';
import type {
  AggFeatureSpec, AggKind, AggregatedGroupSpec, DerivedFeatureSpec, DivZeroPolicy, EntitySpec, FieldSpec,
  GroupSpec, NullPolicy, SourceSpec, StoredGroupSpec,
} from '../core/model.js';
import { compileDerived } from '../core/derived/compile.js';
import { derivedInputsOf } from '../core/derived/inputs.js';
import type { CompiledDerived } from '../core/derived/types.js';
import type { IssueSink } from './issues.js';
import { joinPath } from './issues.js';
import { durationAt, entriesOf, FIELD_TYPES, fieldsOf, isObject, listNames, NUMERIC_FIELD_TYPES } from './values.js';
import { precisionAt, windowAt } from './windows.js';

const TIME_TYPES = new Set(['timestamp', 'long']);

/** Names a feature cannot have: derived expressions read request fields through `request`. */
const RESERVED_FEATURE_NAMES: ReadonlySet<string> = new Set(['request']);

function checkReserved(name: string, path: string, sink: IssueSink): void {
  if (RESERVED_FEATURE_NAMES.has(name)) sink.add(path, `the name "${name}" is reserved (derived expressions read request fields as request.<field>); rename the feature`);
}

function compileFeature(name: string, raw: unknown, path: string, source: SourceSpec | undefined, sink: IssueSink): AggFeatureSpec | null {
  checkReserved(name, path, sink);
  if (!isObject(raw)) return null;
  const agg = raw.agg as AggKind;
  if (!AGG_KINDS.includes(agg)) return null;
  const field = typeof raw.field === 'string' ? raw.field : undefined;
  const fieldPath = joinPath(path, 'field');
  if (agg === 'count') {
    if (field !== undefined) sink.add(fieldPath, 'count counts events and takes no field; remove "field" (use count_distinct to count distinct values)');
  } else if (field === undefined) {
    sink.add(path, `agg "${agg}" needs a field: add field: <one of the source's fields>${source ? ` (${listNames(source.fields.map((f) => f.name))})` : ''}`);
  } else if (source !== undefined) {
    const f = source.fields.find((x) => x.name === field);
    if (f === undefined) {
      sink.add(fieldPath, `unknown field "${field}" in source "${source.name}" (fields: ${listNames(source.fields.map((x) => x.name))})`);
    } else if (NUMERIC_AGGS.has(agg) && FIELD_TYPES.has(f.type) && !NUMERIC_FIELD_TYPES.has(f.type)) {
      const numeric = source.fields.filter((x) => NUMERIC_FIELD_TYPES.has(x.type)).map((x) => x.name);
      sink.add(fieldPath, `agg "${agg}" needs a numeric field, but "${field}" is ${f.type} (numeric fields: ${listNames(numeric)})`);
    }
  }
  const window = windowAt(raw.window, joinPath(path, 'window'), sink);
  if (window === null) return null;
  const precision = precisionAt(raw.precision, window, joinPath(path, 'precision'), sink);
  const spec: AggFeatureSpec = { name, agg, window, precision };
  return {
    ...spec,
    ...(field !== undefined && agg !== 'count' ? { field } : {}),
    ...(typeof raw.description === 'string' ? { description: raw.description } : {}),
  };
}

/** Derived features of a group, compiled against the group's inputs (compile errors become issues). */
function compileDerivedMap(
  raw: unknown, groupPath: string, group: GroupSpec, sourceFields: readonly FieldSpec[], taken: ReadonlySet<string>, sink: IssueSink,
): { specs: DerivedFeatureSpec[]; compiled: CompiledDerived[] } {
  const specs: DerivedFeatureSpec[] = [];
  const compiled: CompiledDerived[] = [];
  const entries = entriesOf(raw);
  const inputs = new Map(derivedInputsOf(group, sourceFields));
  for (const name of taken) if (!inputs.has(name) && name !== 'request') inputs.set(name, 'double'); // declared but invalid: already reported
  const derivedNames = new Set(entries.map(([n]) => n));
  for (const [name, d] of entries) {
    const path = joinPath(joinPath(groupPath, 'derived'), name);
    checkReserved(name, path, sink);
    if (taken.has(name)) {
      sink.add(path, `derived feature "${name}" has the same name as a feature of group "${group.name}"; rename one of them`);
      continue;
    }
    const def = typeof d === 'string' ? { expr: d } : isObject(d) ? d : null;
    if (def === null || typeof def.expr !== 'string') continue;
    const onNull = (def.onNull ?? 'null') as NullPolicy;
    const onDivZero = (def.onDivZero ?? 'null') as DivZeroPolicy;
    try {
      const c = compileDerived({ name, expr: def.expr, onNull, onDivZero }, inputs, derivedNames);
      compiled.push(c);
      specs.push({
        name, expr: def.expr, onNull, onDivZero, requestFields: c.requestFields,
        ...(typeof def.description === 'string' ? { description: def.description } : {}),
      });
    } catch (e) {
      const problem = e instanceof FenestraError && typeof (e.details as { problem?: unknown })?.problem === 'string'
        ? (e.details as { problem: string }).problem
        : String(e);
      sink.add(typeof d === 'string' ? path : joinPath(path, 'expr'), problem);
    }
  }
  return { specs, compiled };
}

function compileAggregated(name: string, g: Record<string, unknown>, sources: ReadonlyMap<string, SourceSpec>, entities: ReadonlyMap<string, EntitySpec>, sink: IssueSink): AggregatedGroupSpec {
  const path = joinPath('featureGroups', name);
  const sourceName = typeof g.source === 'string' ? g.source : '';
  const source = sources.get(sourceName);
  if (source === undefined && sourceName !== '') {
    sink.add(joinPath(path, 'source'), `unknown source "${sourceName}" (sources: ${listNames(sources.keys())})`);
  }
  let entity = source?.entity ?? '';
  if (typeof g.entity === 'string') {
    if (!entities.has(g.entity)) {
      sink.add(joinPath(path, 'entity'), `unknown entity "${g.entity}" (entities: ${listNames(entities.keys())})`);
    } else if (source !== undefined && source.entity !== g.entity) {
      sink.add(joinPath(path, 'entity'), `group entity "${g.entity}" differs from the entity "${source.entity}" of its source "${source.name}"; remove entity or use a source of "${g.entity}"`);
    }
    entity = g.entity;
  }
  const features: AggFeatureSpec[] = [];
  for (const [fname, f] of entriesOf(g.features)) {
    const spec = compileFeature(fname, f, joinPath(joinPath(path, 'features'), fname), source, sink);
    if (spec) features.push(spec);
  }
  const group: AggregatedGroupSpec = {
    kind: 'aggregated', name, entity, source: sourceName, features, derived: [],
    includeCurrent: g.includeCurrent !== false,
    ...(typeof g.description === 'string' ? { description: g.description } : {}),
  };
  const taken = new Set(entriesOf(g.features).map(([n]) => n));
  const { specs } = compileDerivedMap(g.derived, path, group, source?.fields ?? [], taken, sink);
  return { ...group, derived: specs };
}

function compileStored(name: string, g: Record<string, unknown>, entities: ReadonlyMap<string, EntitySpec>, sink: IssueSink): StoredGroupSpec {
  const path = joinPath('featureGroups', name);
  const stored = isObject(g.stored) ? g.stored : {};
  const storedPath = joinPath(path, 'stored');
  const entity = typeof g.entity === 'string' ? g.entity : '';
  if (entity !== '' && !entities.has(entity)) {
    sink.add(joinPath(path, 'entity'), `unknown entity "${entity}" (entities: ${listNames(entities.keys())})`);
  }
  const declared = fieldsOf(stored.schema);
  for (const f of declared) checkReserved(f.name, joinPath(joinPath(storedPath, 'schema'), f.name), sink);
  const eventTimeField = typeof stored.eventTime === 'string' ? stored.eventTime : '';
  // DESIGN §5's stored group names its event-time feature without listing it in the schema:
  // it is then an implicit `timestamp` field; when listed, it must be a time type.
  const listed = declared.find((x) => x.name === eventTimeField);
  if (listed !== undefined && FIELD_TYPES.has(listed.type) && !TIME_TYPES.has(listed.type)) {
    sink.add(joinPath(storedPath, 'eventTime'), `event-time field "${eventTimeField}" must be of type timestamp or long (epoch ms), not ${listed.type}`);
  }
  const fields = listed === undefined && eventTimeField !== ''
    ? [{ name: eventTimeField, type: 'timestamp' as const, optional: false }, ...declared]
    : declared;
  const ttl = durationAt(stored.ttl, joinPath(storedPath, 'ttl'), sink, 0);
  const group: StoredGroupSpec = {
    kind: 'stored', name, entity, eventTimeField, ttl, fields, derived: [],
    ...(typeof g.description === 'string' ? { description: g.description } : {}),
  };
  const { specs } = compileDerivedMap(g.derived, path, group, [], new Set(fields.map((f) => f.name)), sink);
  return { ...group, derived: specs };
}

/** Checks and compiles `featureGroups:` (aggregated and stored), derived features included. */
export function compileGroups(raw: unknown, sources: ReadonlyMap<string, SourceSpec>, entities: ReadonlyMap<string, EntitySpec>, sink: IssueSink): Map<string, GroupSpec> {
  const out = new Map<string, GroupSpec>();
  for (const [name, g] of entriesOf(raw)) {
    if (!isObject(g)) continue;
    out.set(name, 'stored' in g ? compileStored(name, g, entities, sink) : compileAggregated(name, g, sources, entities, sink));
  }
  return out;
}

/** Every feature name a group serves, in order: aggregated features or stored fields, then derived. */
export function featureNamesOf(group: GroupSpec): string[] {
  const base = group.kind === 'aggregated' ? group.features.map((f) => f.name) : group.fields.map((f) => f.name);
  return [...base, ...group.derived.map((d) => d.name)];
}

/**
 * Every feature name a group declares in the YAML (valid or not), so that references to a feature
 * whose own definition has an error are not reported a second time as unknown.
 */
export function declaredFeatureNames(raw: unknown): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [name, g] of entriesOf(raw)) {
    if (!isObject(g)) continue;
    const base = isObject(g.stored) ? Object.keys(isObject(g.stored.schema) ? g.stored.schema : {}) : Object.keys(isObject(g.features) ? g.features : {});
    out.set(name, [...base, ...Object.keys(isObject(g.derived) ? g.derived : {})]);
  }
  return out;
}
