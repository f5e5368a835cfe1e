import type { FieldSpec, FieldType, SourceSpec } from '../model.js';
import type { ErrorCode } from '../errors.js';
import { parseEventTime } from './time.js';
import { MalformedRecord } from './malformed.js';

export { MalformedRecord } from './malformed.js';

/** A decoded event: its entity key, event time (epoch ms) and the schema's fields, typed. */
export interface DecodedEvent {
  readonly ok: true;
  readonly key: string;
  readonly ts: number;
  /** Only the schema's fields, converted (timestamps → epoch ms); absent optional fields are left out. */
  readonly event: Record<string, unknown>;
}

export interface DecodeRejection {
  readonly ok: false;
  readonly code: Extract<ErrorCode, 'EVENT_MALFORMED' | 'EVENT_FIELD_MISSING' | 'EVENT_FIELD_TYPE' | 'EVENT_TIME_INVALID'>;
  readonly field?: string;
  readonly reason: string;
}

export type DecodeResult = DecodedEvent | DecodeRejection;

export type Decoder = (value: unknown) => DecodeResult;

/** Converts one field's raw value; returns `INVALID` when the value has the wrong type. */
type Convert = (v: unknown) => unknown;
const INVALID: unique symbol = Symbol('invalid');

const INTEGER_TEXT = /^[+-]?\d+$/;
const NUMBER_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function toInteger(v: unknown): unknown {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : INVALID;
  if (typeof v === 'bigint') {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : INVALID;
  }
  if (typeof v === 'string' && INTEGER_TEXT.test(v)) {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : INVALID;
  }
  return INVALID;
}

function toDouble(v: unknown): unknown {
  if (typeof v === 'number') return Number.isFinite(v) ? v : INVALID;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && NUMBER_TEXT.test(v.trim())) return Number(v);
  return INVALID;
}

function toBoolean(v: unknown): unknown {
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  return INVALID;
}

function toStringValue(v: unknown): unknown {
  return typeof v === 'string' ? v : INVALID;
}

function toTimestamp(v: unknown): unknown {
  const ms = parseEventTime(v);
  return ms === null ? INVALID : ms;
}

const CONVERTERS: Record<FieldType, Convert> = {
  string: toStringValue,
  int: toInteger,
  long: toInteger,
  double: toDouble,
  boolean: toBoolean,
  timestamp: toTimestamp,
};

const EXPECTED: Record<FieldType, string> = {
  string: 'a string',
  int: 'an integer (number or integer text)',
  long: 'an integer (number or integer text)',
  double: 'a finite number (or number text)',
  boolean: 'a boolean (true/false)',
  timestamp: 'epoch milliseconds or an ISO-8601 string',
};

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

/** Conversions inlined in the per-event loop for values that already have the schema's type. */
const enum Fast {
  None,
  String,
  Double,
  Time,
}

interface CompiledField {
  readonly name: string;
  readonly type: FieldType;
  readonly optional: boolean;
  readonly convert: Convert;
  readonly fast: Fast;
  readonly isTime: boolean;
  readonly isKey: boolean;
}

function fastOf(type: FieldType, isTime: boolean): Fast {
  if (isTime) return Fast.Time;
  return type === 'string' ? Fast.String : type === 'double' ? Fast.Double : Fast.None;
}

/**
 * Builds the per-event decoder of a source (compiled once per schema; it runs per event).
 *
 * Accepted input: a plain object, JSON text (string or bytes) holding an object, or a
 * {@link MalformedRecord} a source produced for input it could not parse. Conversions:
 * - `string`: strings only (an entity key field of type `int`/`long` is converted to its decimal text for `key`);
 * - `int`/`long`: safe integers given as numbers, bigints or integer text (`"42"`; CSV delivers text);
 * - `double`: finite numbers, bigints or number text (`"12.5"`, `"1e3"`); NaN/Infinity are refused;
 * - `boolean`: `true`/`false` or the texts `"true"`/`"false"`;
 * - `timestamp`: epoch ms (number, bigint, integer text), a `Date`, or ISO-8601 text
 *   (`2020-06-21T12:14:25Z`, `2020-06-21 12:14:25.123+02:00`, `2020-06-21`); without an offset it is UTC.
 * `null` and absent are the same: an error for a required field, omitted for an optional one.
 * Fields not in the schema are dropped. The event-time field yields `EVENT_TIME_INVALID` when present
 * but unparseable, `EVENT_FIELD_MISSING` when absent.
 */
export function makeDecoder(source: SourceSpec): Decoder {
  const fields: CompiledField[] = source.fields.map((f: FieldSpec) => ({
    name: f.name,
    type: f.type,
    optional: f.optional,
    convert: f.name === source.eventTimeField ? toTimestamp : CONVERTERS[f.type],
    fast: fastOf(f.type, f.name === source.eventTimeField),
    isTime: f.name === source.eventTimeField,
    isKey: f.name === source.keyField,
  }));
  if (!fields.some((f) => f.isTime)) {
    fields.push({ name: source.eventTimeField, type: 'timestamp', optional: false, convert: toTimestamp, fast: Fast.Time, isTime: true, isKey: false });
  }
  if (!fields.some((f) => f.isKey)) {
    fields.push({ name: source.keyField, type: 'string', optional: false, convert: toStringValue, fast: Fast.String, isTime: false, isKey: true });
  }
  const n = fields.length;

  return function decode(value: unknown): DecodeResult {
    let obj = value;
    if (typeof obj === 'string' || obj instanceof Uint8Array) {
      const text = typeof obj === 'string' ? obj : Buffer.from(obj.buffer, obj.byteOffset, obj.byteLength).toString('utf8');
      try {
        obj = JSON.parse(text);
      } catch (e) {
        return { ok: false, code: 'EVENT_MALFORMED', reason: `not valid JSON: ${(e as Error).message}` };
      }
    }
    if (obj instanceof MalformedRecord) return { ok: false, code: 'EVENT_MALFORMED', reason: obj.reason };
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      return { ok: false, code: 'EVENT_MALFORMED', reason: `the event is ${describe(obj)}, not a JSON object` };
    }
    const raw = obj as Record<string, unknown>;
    const event: Record<string, unknown> = {};
    let key = '';
    let ts = 0;
    for (let i = 0; i < n; i++) {
      const f = fields[i]!;
      const v = raw[f.name];
      if (v === undefined || v === null) {
        if (f.optional && !f.isTime && !f.isKey) continue;
        return { ok: false, code: 'EVENT_FIELD_MISSING', field: f.name, reason: `required field "${f.name}" is ${v === null ? 'null' : 'missing'}` };
      }
      // The same results as f.convert, without the call for values of the schema's own type.
      let c: unknown;
      if (f.fast === Fast.String && typeof v === 'string') c = v;
      else if (f.fast === Fast.Double && typeof v === 'number') c = Number.isFinite(v) ? v : INVALID;
      else if (f.fast === Fast.Time && typeof v === 'number') c = Number.isFinite(v) ? Math.floor(v) : INVALID;
      else c = f.convert(v);
      if (c === INVALID) {
        if (f.isTime) {
          return { ok: false, code: 'EVENT_TIME_INVALID', field: f.name, reason: `event time "${f.name}" is ${describe(v)}; expected ${EXPECTED.timestamp}` };
        }
        return { ok: false, code: 'EVENT_FIELD_TYPE', field: f.name, reason: `field "${f.name}" is ${describe(v)}; expected ${EXPECTED[f.type]}` };
      }
      event[f.name] = c;
      if (f.isTime) ts = c as number;
      if (f.isKey) key = typeof c === 'string' ? c : String(c);
    }
    return { ok: true, key, ts, event };
  };
}
