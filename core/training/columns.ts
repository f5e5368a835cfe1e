/**
 * Converting input columns (as read from Parquet or NDJSON) into the typed columns the replay join
 * works on, with errors that name the column and row.
 */
import { FenestraError } from '../errors.js';
import type { FieldSpec } from '../model.js';
import { parseInstant } from '../time/duration.js';

/** Event or label times as epoch ms: numbers, bigints, `Date`s or ISO-8601 / digit strings. */
export function toTimes(col: ArrayLike<unknown>, name: string, rows = col.length): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const v = col[i];
    let t: number | null;
    if (typeof v === 'number') t = Number.isFinite(v) ? Math.trunc(v) : null;
    else if (typeof v === 'bigint') t = Number(v);
    else if (v instanceof Date) t = v.getTime();
    else t = parseInstant(v);
    if (t === null || Number.isNaN(t)) {
      throw new FenestraError('EVENT_TIME_INVALID', `column "${name}", row ${i}: ${JSON.stringify(v ?? null)} is neither epoch milliseconds nor ISO-8601`, { path: `${name}[${i}]` });
    }
    out[i] = t;
  }
  return out;
}

/** Entity keys as strings (numbers and bigints are formatted as the engine's decoder does). */
export function toKeys(col: ArrayLike<unknown>, name: string, rows = col.length): ArrayLike<string> {
  let allStrings = true;
  for (let i = 0; i < rows; i++) {
    if (typeof col[i] !== 'string') {
      allStrings = false;
      break;
    }
  }
  if (allStrings) return col as ArrayLike<string>;
  const out = new Array<string>(rows);
  for (let i = 0; i < rows; i++) {
    const v = col[i];
    if (v === null || v === undefined) {
      throw new FenestraError('EVENT_FIELD_MISSING', `column "${name}", row ${i}: the entity key is missing`, { path: `${name}[${i}]` });
    }
    out[i] = String(v);
  }
  return out;
}

/** A field column converted to what the window code expects: numbers for numeric types, strings, booleans. */
export function toFieldValues(col: ArrayLike<unknown>, field: FieldSpec | undefined, rows = col.length): ArrayLike<unknown> {
  const type = field?.type;
  if (type === 'double' || type === 'int' || type === 'long' || type === 'timestamp') {
    let clean = true;
    for (let i = 0; i < rows; i++) {
      const v = col[i];
      if (typeof v !== 'number' && v !== null) {
        clean = false;
        break;
      }
    }
    if (clean) return col;
    const out = new Array<unknown>(rows);
    for (let i = 0; i < rows; i++) {
      const v = col[i];
      if (typeof v === 'bigint') out[i] = Number(v);
      else if (typeof v === 'string' && type === 'timestamp') out[i] = parseInstant(v);
      else if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) out[i] = Number(v);
      else if (v instanceof Date) out[i] = v.getTime();
      else out[i] = v ?? null;
    }
    return out;
  }
  return col;
}

/**
 * Concatenates column chunks in order: one Float64Array when every chunk is one (no boxing), else a
 * plain array. A single chunk that already holds every row is returned as it is.
 */
export function concatColumnChunks<T extends ArrayLike<unknown>>(parts: readonly T[], rows = parts.reduce((a, p) => a + p.length, 0)): T | Float64Array | unknown[] {
  if (parts.length === 1 && parts[0]!.length === rows) return parts[0]!;
  if (parts.length > 0 && parts.every((p) => p instanceof Float64Array)) {
    const out = new Float64Array(rows);
    let off = 0;
    for (const p of parts as unknown as Float64Array[]) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  }
  const out: unknown[] = [];
  for (const p of parts) for (let i = 0; i < p.length; i++) out.push(p[i]);
  return out;
}
