import { formatDuration, parseDuration } from '../core/time/duration.js';
import type { FieldSpec, FieldType } from '../core/model.js';
import type { IssueSink } from './issues.js';

/** A plain YAML mapping. */
export type RawObject = Record<string, unknown>;

export function isObject(x: unknown): x is RawObject {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** The entries of a mapping, or none if the value is not one (the schema reported that). */
export function entriesOf(x: unknown): [string, unknown][] {
  return isObject(x) ? Object.entries(x) : [];
}

/** Parses a duration value at `path`; a bad one is an issue and yields `fallback`. */
export function durationAt(value: unknown, path: string, sink: IssueSink, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  const ms = typeof value === 'string' || typeof value === 'number' ? parseDuration(value) : null;
  if (ms === null) {
    sink.add(path, `invalid duration ${JSON.stringify(value)}: write a number with a unit (500ms, 10s, 10m, 1h30m, 7d, 2w) or milliseconds`);
    return fallback;
  }
  return ms;
}

/** Like `durationAt` but the duration must be longer than zero. */
export function positiveDurationAt(value: unknown, path: string, sink: IssueSink, fallback: number): number {
  const ms = durationAt(value, path, sink, fallback);
  if (ms <= 0) {
    sink.add(path, `must be longer than 0 (got ${JSON.stringify(value)})`);
    return fallback;
  }
  return ms;
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1000, kb: 1000, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, ki: 1024, kib: 1024, mi: 1048576, mib: 1048576, gi: 1073741824, gib: 1073741824 };

/** Parses a byte size (`1048576`, `512kb`, `1MiB`). */
export function bytesAt(value: unknown, path: string, sink: IssueSink, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  const m = typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value) : null;
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined || Number(m[1]) <= 0) {
    sink.add(path, `invalid size ${JSON.stringify(value)}: write bytes or a size such as 512kb, 1mb, 1MiB`);
    return fallback;
  }
  return Math.round(Number(m[1]) * unit);
}

/** Human text for a duration in messages. */
export function showDuration(ms: number): string {
  return formatDuration(ms);
}

export const FIELD_TYPES: ReadonlySet<string> = new Set(['string', 'int', 'long', 'double', 'boolean', 'timestamp']);

/** Turns a `schema:` mapping into field specs (`amount: double`, `merchant: { type: string, optional: true }`). */
export function fieldsOf(schema: unknown): FieldSpec[] {
  const out: FieldSpec[] = [];
  for (const [name, decl] of entriesOf(schema)) {
    const type = typeof decl === 'string' ? decl : isObject(decl) ? decl.type : undefined;
    const optional = isObject(decl) && decl.optional === true;
    if (typeof type !== 'string' || !FIELD_TYPES.has(type)) {
      // The JSON Schema reports the bad type; keep the field (typed 'invalid') so that references to
      // it do not also read as "unknown field".
      out.push({ name, type: 'invalid' as FieldType, optional });
      continue;
    }
    out.push({ name, type: type as FieldType, optional });
  }
  return out;
}

/** `a, b, c` for messages (or `none`). */
export function listNames(names: Iterable<string>): string {
  const list = [...names];
  return list.length === 0 ? 'none' : list.join(', ');
}

export const NUMERIC_FIELD_TYPES: ReadonlySet<FieldType> = new Set(['int', 'long', 'double']);
