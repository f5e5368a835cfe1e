import { NUMERIC_AGGS } from '../model.js';
import type { AggFeatureSpec, FieldSpec, FieldType, GroupSpec } from '../model.js';
import type { DerivedInputType, DerivedInputs } from './types.js';

/** The CEL type of a value of a schema field type (timestamps are epoch ms numbers). */
export function celTypeOf(type: FieldType): DerivedInputType {
  switch (type) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    default:
      return 'double';
  }
}

/** The CEL type of an aggregated feature's value, given the source's fields. */
export function aggFeatureType(feature: AggFeatureSpec, fields: readonly FieldSpec[]): DerivedInputType {
  if (feature.agg === 'count' || feature.agg === 'count_distinct' || NUMERIC_AGGS.has(feature.agg)) return 'double';
  const field = fields.find((f) => f.name === feature.field);
  return field ? celTypeOf(field.type) : 'double';
}

/**
 * What the derived features of a group may read: an aggregated group's features (typed from the
 * source schema) or a stored group's fields.
 */
export function derivedInputsOf(group: GroupSpec, sourceFields: readonly FieldSpec[] = []): DerivedInputs {
  const out = new Map<string, DerivedInputType>();
  // `request` is the request map, never a feature (the config loader refuses the name).
  if (group.kind === 'aggregated') {
    for (const f of group.features) if (f.name !== 'request') out.set(f.name, aggFeatureType(f, sourceFields));
  } else {
    for (const f of group.fields) if (f.name !== 'request') out.set(f.name, celTypeOf(f.type));
  }
  return out;
}
