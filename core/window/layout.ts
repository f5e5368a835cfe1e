/**
 * Compiles an aggregated feature group into the layout the window state works with: which source
 * fields are kept raw (and in which slot), which window "plans" exist (one per distinct
 * kind/size/precision), which tile sets exist (one per precision, shared by every feature of that
 * precision), and which partial aggregates a tile / the lifetime accumulator holds.
 * Pure and deterministic: the same spec always compiles to the same layout and `layoutHash`.
 */
import { createHash } from 'node:crypto';
import { FenestraError } from '../errors.js';
import type { AggKind, AggregatedGroupSpec, SourceSpec } from '../model.js';

/** A source field kept in the raw event buffer. Slot = 1 + index within an event record. */
export interface RawField {
  readonly name: string;
  /** Numeric fields (int/long/double/timestamp/boolean→1/0) are stored as numbers, NaN = absent. */
  readonly numeric: boolean;
  /** Required by the source schema: every applied event has a value, so partials need no value count. */
  readonly required: boolean;
}

/**
 * Slot offsets (relative to a partial aggregate's first slot) of one field's mergeable statistics.
 * -1 means "not kept". Slot 0 of every partial is the event count.
 */
export interface FieldSlots {
  readonly field: number;
  readonly numeric: boolean;
  /** Slot of the non-null value count; -1 for required fields, whose count is the event count (slot 0). */
  readonly n: number;
  readonly sum: number;
  readonly m2: number;
  readonly min: number;
  readonly max: number;
  readonly first: number;
  readonly last: number;
  /** Holds an array of the distinct non-null values. */
  readonly distinct: number;
}

export interface PartialLayout {
  /** Number of slots (count + every field's statistics). */
  readonly width: number;
  readonly fields: readonly FieldSlots[];
  /**
   * The partial's encoding (codec.ts) as a list of `slot · 2 + (1 for an f64, 0 for a varuint)`, in
   * wire order; null when a slot holds a string or a distinct set (encoded by the generic path).
   */
  readonly wire: readonly number[] | null;
}

/** One set of tiles of width `precision`, shared by every feature of that precision. */
export interface TileSetLayout {
  readonly precision: number;
  readonly partial: PartialLayout;
  /** Slots per tile record: [start, ...partial]. */
  readonly stride: number;
  /** Sliding window sizes and tumbling sizes read from this tile set (for tile expiry). */
  readonly slidingSizes: readonly number[];
  readonly tumblingSizes: readonly number[];
}

export interface CompiledFeature {
  readonly name: string;
  readonly agg: AggKind;
  /** Raw field index, -1 for `count`. */
  readonly field: number;
}

export interface WindowPlan {
  readonly kind: 'sliding' | 'tumbling' | 'lifetime';
  /** Window size in ms (0 for lifetime). */
  readonly size: number;
  /** Index into `tileSets`, or -1 for an exact window (raw events / lifetime accumulator). */
  readonly tileSet: number;
  readonly features: readonly CompiledFeature[];
  /** Raw field indexes this plan's features read. */
  readonly fields: readonly number[];
  /** Per raw field index: whether a distinct set must be built. */
  readonly distinct: readonly boolean[];
}

/** Entity-array header slots (see entity-array.ts): newest event time, version, packed counters. */
export const H_NEWEST = 0;
export const H_VERSION = 1;
/** First counter slot. Counters are packed two per slot in lanes of 26 bits (entity-array.ts). */
export const H_COUNTERS = 2;

export interface CompiledGroup {
  readonly name: string;
  readonly allowedLateness: number;
  readonly includeCurrent: boolean;
  readonly fields: readonly RawField[];
  /** Slots per raw event record: [ts, field0, field1, ...]. */
  readonly stride: number;
  readonly plans: readonly WindowPlan[];
  readonly tileSets: readonly TileSetLayout[];
  /** Partial layout of the lifetime accumulator, null without lifetime features. */
  readonly life: PartialLayout | null;
  /** Largest exact sliding window (0 if none). */
  readonly maxExactSliding: number;
  /** Exact tumbling sizes. */
  readonly exactTumbling: readonly number[];
  readonly featureNames: readonly string[];
  /**
   * Entity-array header geometry. Counter lanes: 0 = raw events, 1..T = tiles of each set, T + 1 =
   * the dirty epoch (see entity-array.ts), packed two per slot from H_COUNTERS. `lifeAt`: index of
   * the lifetime partial (the first slot after the counters).
   */
  readonly lifeAt: number;
  /** Header length: newest, version, counters, lifetime partial. */
  readonly head: number;
  /** Whether every raw field is numeric and every partial has a `wire` (codec.ts's fast path). */
  readonly numericWire: boolean;
  readonly layoutHash: string;
  /** First 32 bits of layoutHash, written into every encoded entity. */
  readonly layoutTag: number;
}

type Need = 'n' | 'sum' | 'm2' | 'min' | 'max' | 'first' | 'last' | 'distinct';

const NEEDS: Record<AggKind, readonly Need[]> = {
  count: [],
  sum: ['n', 'sum'],
  avg: ['n', 'sum'],
  min: ['n', 'min'],
  max: ['n', 'max'],
  first: ['n', 'first'],
  last: ['n', 'last'],
  stddev: ['n', 'sum', 'm2'],
  variance: ['n', 'sum', 'm2'],
  count_distinct: ['n', 'distinct'],
};

const NEED_ORDER: readonly Need[] = ['n', 'sum', 'm2', 'min', 'max', 'first', 'last', 'distinct'];

function buildPartial(fields: readonly RawField[], uses: ReadonlyArray<{ agg: AggKind; field: number }>): PartialLayout {
  const perField = new Map<number, Set<Need>>();
  for (const u of uses) {
    if (u.field < 0) continue;
    let s = perField.get(u.field);
    if (!s) perField.set(u.field, (s = new Set()));
    for (const need of NEEDS[u.agg]) s.add(need);
  }
  let width = 1;
  const out: FieldSlots[] = [];
  for (const f of [...perField.keys()].sort((a, b) => a - b)) {
    const needs = perField.get(f)!;
    const slot: Record<Need, number> = { n: -1, sum: -1, m2: -1, min: -1, max: -1, first: -1, last: -1, distinct: -1 };
    if (fields[f]!.required) needs.delete('n');
    for (const need of NEED_ORDER) if (needs.has(need)) slot[need] = width++;
    out.push({ field: f, numeric: fields[f]!.numeric, ...slot });
  }
  return { width, fields: out, wire: wireOf(out) };
}

/** Wire order of a partial: count, then per field n, sum, m2, min, max, first, last (see codec.ts). */
function wireOf(fields: readonly FieldSlots[]): number[] | null {
  const wire = [0];
  for (const fs of fields) {
    if (fs.distinct >= 0 || (!fs.numeric && (fs.first >= 0 || fs.last >= 0))) return null;
    if (fs.n >= 0) wire.push(fs.n * 2);
    for (const s of [fs.sum, fs.m2, fs.min, fs.max, fs.first, fs.last]) if (s >= 0) wire.push(s * 2 + 1);
  }
  return wire;
}

/** Compiles a group; throws CONFIG_INVALID (with the field path) when a feature names an unknown field. */
export function compileGroup(spec: AggregatedGroupSpec, source: SourceSpec): CompiledGroup {
  const types = new Map(source.fields.map((f) => [f.name, f.type] as const));
  // Raw fields are ordered by name so that the encoding does not depend on feature order.
  const fieldNames = [...new Set(spec.features.filter((f) => f.agg !== 'count' && f.field !== undefined && types.has(f.field)).map((f) => f.field!))].sort();
  const optional = new Map(source.fields.map((f) => [f.name, f.optional] as const));
  const fields: RawField[] = fieldNames.map((name) => ({ name, numeric: types.get(name) !== 'string', required: optional.get(name) === false }));
  const fieldIndex = new Map(fieldNames.map((name, i) => [name, i] as const));
  const features: Array<CompiledFeature & { planKey: string; kind: 'sliding' | 'tumbling' | 'lifetime'; size: number; precision: number }> = [];
  for (const f of spec.features) {
    let field = -1;
    if (f.agg !== 'count') {
      if (f.field === undefined) {
        throw new FenestraError('CONFIG_INVALID', `featureGroups.${spec.name}.features.${f.name}.field: required for ${f.agg}`, {
          path: `featureGroups.${spec.name}.features.${f.name}.field`,
        });
      }
      const type = types.get(f.field);
      if (type === undefined) {
        throw new FenestraError('CONFIG_INVALID', `featureGroups.${spec.name}.features.${f.name}.field: unknown field "${f.field}" in source "${source.name}"`, {
          path: `featureGroups.${spec.name}.features.${f.name}.field`,
        });
      }
      field = fieldIndex.get(f.field)!;
    }
    const w = f.window;
    const size = w.kind === 'lifetime' ? 0 : w.size;
    const precision = w.kind === 'lifetime' ? 0 : Math.max(0, f.precision);
    if (w.kind !== 'lifetime' && !(size > 0)) {
      throw new FenestraError('CONFIG_INVALID', `featureGroups.${spec.name}.features.${f.name}.window: size must be > 0`, {
        path: `featureGroups.${spec.name}.features.${f.name}.window`,
      });
    }
    features.push({ name: f.name, agg: f.agg, field, kind: w.kind, size, precision, planKey: `${w.kind}|${size}|${precision}` });
  }

  const precisions = [...new Set(features.filter((f) => f.precision > 0).map((f) => f.precision))].sort((a, b) => a - b);
  const tileSets: TileSetLayout[] = precisions.map((p) => {
    const uses = features.filter((f) => f.precision === p);
    const partial = buildPartial(fields, uses);
    return {
      precision: p,
      partial,
      stride: 1 + partial.width,
      slidingSizes: [...new Set(uses.filter((f) => f.kind === 'sliding').map((f) => f.size))],
      tumblingSizes: [...new Set(uses.filter((f) => f.kind === 'tumbling').map((f) => f.size))],
    };
  });
  const lifeUses = features.filter((f) => f.kind === 'lifetime');
  const life = lifeUses.length > 0 ? buildPartial(fields, lifeUses) : null;

  const planMap = new Map<string, { kind: 'sliding' | 'tumbling' | 'lifetime'; size: number; precision: number; features: CompiledFeature[] }>();
  for (const f of features) {
    let p = planMap.get(f.planKey);
    if (!p) planMap.set(f.planKey, (p = { kind: f.kind, size: f.size, precision: f.precision, features: [] }));
    p.features.push({ name: f.name, agg: f.agg, field: f.field });
  }
  const plans: WindowPlan[] = [...planMap.values()].map((p) => {
    const distinct = fields.map(() => false);
    const used = new Set<number>();
    for (const f of p.features) {
      if (f.field < 0) continue;
      used.add(f.field);
      if (f.agg === 'count_distinct') distinct[f.field] = true;
    }
    return {
      kind: p.kind,
      size: p.size,
      tileSet: p.precision > 0 ? precisions.indexOf(p.precision) : -1,
      features: p.features,
      fields: [...used].sort((a, b) => a - b),
      distinct,
    };
  });

  const exact = features.filter((f) => f.kind !== 'lifetime' && f.precision === 0);
  const maxExactSliding = Math.max(0, ...exact.filter((f) => f.kind === 'sliding').map((f) => f.size));
  const exactTumbling = [...new Set(exact.filter((f) => f.kind === 'tumbling').map((f) => f.size))].sort((a, b) => a - b);

  const canonical = JSON.stringify({
    format: 1,
    allowedLateness: source.allowedLateness,
    fields: fields.map((f) => [f.name, types.get(f.name), f.required]),
    features: features.map((f) => `${f.agg}|${f.field < 0 ? '' : fields[f.field]!.name}|${f.planKey}`).sort(),
  });
  const layoutHash = createHash('sha256').update(canonical).digest('hex').slice(0, 16);
  const lanes = tileSets.length + 2;
  const lifeAt = H_COUNTERS + ((lanes + 1) >> 1);
  return {
    name: spec.name,
    allowedLateness: source.allowedLateness,
    includeCurrent: spec.includeCurrent,
    fields,
    stride: 1 + fields.length,
    plans,
    tileSets,
    life,
    maxExactSliding,
    exactTumbling,
    featureNames: spec.features.map((f) => f.name),
    lifeAt,
    head: lifeAt + (life ? life.width : 0),
    numericWire: fields.every((f) => f.numeric) && tileSets.every((t) => t.partial.wire !== null) && (life === null || life.wire !== null),
    layoutHash,
    layoutTag: parseInt(layoutHash.slice(0, 8), 16) >>> 0,
  };
}

const cache = new WeakMap<AggregatedGroupSpec, WeakMap<SourceSpec, CompiledGroup>>();

/** `compileGroup` memoized per (spec, source) object pair. */
export function compiledFor(spec: AggregatedGroupSpec, source: SourceSpec): CompiledGroup {
  let bySource = cache.get(spec);
  if (!bySource) cache.set(spec, (bySource = new WeakMap()));
  let g = bySource.get(source);
  if (!g) bySource.set(source, (g = compileGroup(spec, source)));
  return g;
}
