import type { StoredGroupSpec } from '../model.js';
import type { ErrorCode } from '../errors.js';
import { parseStoredTime, parseStoredValue } from './values.js';

/** A SageMaker feature value as it arrives in PutRecord / BatchWriteRecord. */
export interface RecordFeature {
  readonly FeatureName: string;
  readonly ValueAsString?: string;
  readonly ValueAsStringList?: readonly string[];
}

export interface RecordProblem {
  readonly code: ErrorCode;
  readonly field: string;
  readonly reason: string;
}

export type ParsedRecord =
  | { readonly ok: true; readonly key: string; readonly eventTime: number; readonly strings: Record<string, string> }
  | ({ readonly ok: false } & RecordProblem);

/**
 * Checks a written record against its stored group: the record identifier (the entity's key
 * field) and the event-time feature are required; every other feature must be in the group's
 * schema and parse as its type. Features left out read as null.
 */
export function parseRecord(spec: StoredGroupSpec, keyField: string, record: unknown): ParsedRecord {
  if (!Array.isArray(record) || record.length === 0) {
    return { ok: false, code: 'BAD_REQUEST', field: 'Record', reason: 'Record must be a non-empty list of {FeatureName, ValueAsString}' };
  }
  const strings: Record<string, string> = {};
  for (let i = 0; i < record.length; i++) {
    const f = record[i] as Partial<RecordFeature> | null;
    if (typeof f !== 'object' || f === null || typeof f.FeatureName !== 'string') {
      return { ok: false, code: 'BAD_REQUEST', field: `Record[${i}].FeatureName`, reason: 'FeatureName must be a string' };
    }
    if (typeof f.ValueAsString !== 'string') {
      return { ok: false, code: 'BAD_REQUEST', field: `Record[${i}].ValueAsString`, reason: `feature "${f.FeatureName}" needs ValueAsString (lists are not supported)` };
    }
    const name = f.FeatureName;
    if (name !== keyField && name !== spec.eventTimeField) {
      const field = spec.fields.find((x) => x.name === name);
      if (field === undefined) {
        return { ok: false, code: 'UNKNOWN_FEATURE', field: name, reason: `feature "${name}" is not in stored group "${spec.name}"` };
      }
      if (parseStoredValue(field.type, f.ValueAsString) === undefined) {
        return { ok: false, code: 'EVENT_FIELD_TYPE', field: name, reason: `feature "${name}" is ${JSON.stringify(f.ValueAsString)}; expected ${field.type}` };
      }
    }
    strings[name] = f.ValueAsString;
  }
  const key = strings[keyField];
  if (key === undefined || key === '') {
    return { ok: false, code: 'EVENT_FIELD_MISSING', field: keyField, reason: `record identifier "${keyField}" is missing` };
  }
  const et = strings[spec.eventTimeField];
  if (et === undefined) {
    return { ok: false, code: 'EVENT_FIELD_MISSING', field: spec.eventTimeField, reason: `event time feature "${spec.eventTimeField}" is missing` };
  }
  const eventTime = parseStoredTime(et);
  if (eventTime === null) {
    return { ok: false, code: 'EVENT_TIME_INVALID', field: spec.eventTimeField, reason: `event time ${JSON.stringify(et)} is neither ISO-8601 nor seconds since the epoch` };
  }
  return { ok: true, key, eventTime, strings };
}
