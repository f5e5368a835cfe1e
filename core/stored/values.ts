import type { FieldSpec, StoredGroupSpec } from '../model.js';
import type { FeatureValue } from '../runtime/api.js';

/**
 * Parses a stored feature's text (SageMaker `ValueAsString`) as its schema type. Returns
 * `undefined` when the text does not fit the type (callers report the feature name).
 */
export function parseStoredValue(type: FieldSpec['type'], text: string): FeatureValue | undefined {
  switch (type) {
    case 'string':
      return text;
    case 'int':
    case 'long': {
      if (!/^[+-]?\d+$/.test(text.trim())) return undefined;
      const n = Number(text);
      return Number.isSafeInteger(n) ? n : undefined;
    }
    case 'double': {
      const t = text.trim();
      if (t === '' || !/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(t)) return undefined;
      return Number(t);
    }
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : undefined;
    case 'timestamp': {
      const ms = parseStoredTime(text);
      return ms === null ? undefined : ms;
    }
  }
}

/**
 * A stored record's event time, SageMaker style: ISO-8601 text, or a (fractional) number of
 * *seconds* since the epoch (SageMaker's `Fractional` event time). Returns epoch ms, or null.
 */
export function parseStoredTime(text: string): number | null {
  const t = text.trim();
  if (/^[+-]?(?:\d+\.?\d*|\.\d+)$/.test(t)) {
    const s = Number(t);
    return Number.isFinite(s) ? Math.round(s * 1000) : null;
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(t)) return null;
  const ms = Date.parse(/[zZ]|[+-]\d{2}:?\d{2}$/.test(t) ? t : `${t}Z`);
  return Number.isNaN(ms) ? null : ms;
}

/** The typed values of a record's schema fields (missing or unparseable ones are null). */
export function typedValues(spec: StoredGroupSpec, strings: Readonly<Record<string, string>>): Record<string, FeatureValue> {
  const out: Record<string, FeatureValue> = {};
  for (const f of spec.fields) {
    const s = strings[f.name];
    out[f.name] = s === undefined ? null : (parseStoredValue(f.type, s) ?? null);
  }
  return out;
}
