/**
 * The JSON text of `POST /v1/features` answers, written straight from the engine's reads: no
 * intermediate object per key (a 100-key answer over two groups would build 100 objects with keys
 * like "cc_agg:avg_amt_last_10m" only to serialize them), so the work is one pass over the values.
 */
import type { FeatureRead, FeatureValue } from '../../core/runtime/api.js';

/** A value as the API writes it: numbers that JSON cannot hold (NaN, ±Infinity) are null. */
export function valueJson(v: FeatureValue | undefined): string {
  switch (typeof v) {
    case 'number':
      return Number.isFinite(v) ? `${v}` : 'null';
    case 'string':
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      return 'null';
  }
}

/** One group's part of a batch read: its features and one read per key (in key order). */
export interface GroupReads {
  readonly group: string;
  readonly features: readonly string[];
  readonly reads: readonly FeatureRead[];
}

/** `{ asOf, features: ["group:feature", ...], results: [{ key, found: {group: bool}, features: {...} }] }` */
export function batchAnswerJson(asOf: number, keys: readonly string[], groups: readonly GroupReads[]): string {
  const names: string[] = [];
  const prefixes = groups.map((g) =>
    g.features.map((f) => {
      const name = `${g.group}:${f}`;
      names.push(name);
      return `${JSON.stringify(name)}:`;
    }),
  );
  const foundPrefix = groups.map((g) => `${JSON.stringify(g.group)}:`);
  let out = `{"asOf":${valueJson(asOf)},"features":${JSON.stringify(names)},"results":[`;
  for (let i = 0; i < keys.length; i++) {
    if (i > 0) out += ',';
    out += `{"key":${JSON.stringify(keys[i])},"found":{`;
    for (let g = 0; g < groups.length; g++) out += `${g > 0 ? ',' : ''}${foundPrefix[g]}${groups[g]!.reads[i]!.found ? 'true' : 'false'}`;
    out += '},"features":{';
    let first = true;
    for (let g = 0; g < groups.length; g++) {
      const { features, reads } = groups[g]!;
      const values = reads[i]!.values;
      const p = prefixes[g]!;
      for (let j = 0; j < features.length; j++) {
        out += `${first ? '' : ','}${p[j]}${valueJson(values[features[j]!])}`;
        first = false;
      }
    }
    out += '}}';
  }
  return `${out}]}`;
}

/** `{ group, key, found, asOf, version, features: {...} }` of `GET /v1/features/:group/:key`. */
export function oneAnswerJson(r: FeatureRead): string {
  let out = `{"group":${JSON.stringify(r.group)},"key":${JSON.stringify(r.key)},"found":${r.found ? 'true' : 'false'},"asOf":${valueJson(r.asOf)},"version":${valueJson(r.version)},"features":{`;
  let first = true;
  for (const name in r.values) {
    out += `${first ? '' : ','}${JSON.stringify(name)}:${valueJson(r.values[name])}`;
    first = false;
  }
  return `${out}}}`;
}
