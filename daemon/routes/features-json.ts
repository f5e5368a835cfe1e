/**
 * The JSON text of `POST /v1/features` answers, written straight from the engine's reads: no
 * intermediate object per key (a 100-key answer over two groups would build 100 objects with keys
 * like "cc_agg:avg_amt_last_10m" only to serialize them), so the work is one pass over the values.
 */
import type { FeatureRead, FeatureRows, FeatureValue } from '../../core/runtime/api.js';

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

/** One group's part of a batch read as rows (`EngineApi.readRows` of `features`, in key order). */
export interface GroupRows {
  readonly group: string;
  readonly features: readonly string[];
  readonly rows: FeatureRows;
}

/** `{ asOf, features: ["group:feature", ...], results: [{ key, found: {group: bool}, features: {...} }] }` */
export function batchAnswerJson(asOf: number, keys: readonly string[], groups: readonly GroupReads[]): string {
  return batchRowsJson(
    asOf,
    keys,
    groups.map(({ group, features, reads }) => {
      const values: FeatureValue[] = [];
      for (const r of reads) for (const f of features) values.push(r.values[f] ?? null);
      return { group, features, rows: { names: features, found: reads.map((r) => r.found), values } };
    }),
  );
}

/** `batchAnswerJson` from rows: one pass over the values, with every name's JSON written once. */
export function batchRowsJson(asOf: number, keys: readonly string[], groups: readonly GroupRows[]): string {
  const names: string[] = [];
  // `"group:feature":` of each feature, with the comma before it but for the first of a key's features
  const prefixes = groups.map((g) =>
    g.features.map((f) => {
      const name = `${g.group}:${f}`;
      const p = `${names.length > 0 ? ',' : ''}${JSON.stringify(name)}:`;
      names.push(name);
      return p;
    }),
  );
  const foundTrue = groups.map((g, i) => `${i > 0 ? ',' : ''}${JSON.stringify(g.group)}:true`);
  const foundFalse = groups.map((g, i) => `${i > 0 ? ',' : ''}${JSON.stringify(g.group)}:false`);
  let out = `{"asOf":${valueJson(asOf)},"features":${JSON.stringify(names)},"results":[`;
  for (let i = 0; i < keys.length; i++) {
    out += i > 0 ? ',{"key":' : '{"key":';
    out += JSON.stringify(keys[i]);
    out += ',"found":{';
    for (let g = 0; g < groups.length; g++) out += groups[g]!.rows.found[i] ? foundTrue[g]! : foundFalse[g]!;
    out += '},"features":{';
    for (let g = 0; g < groups.length; g++) {
      const p = prefixes[g]!;
      const width = p.length;
      const values = groups[g]!.rows.values;
      const o = i * width;
      for (let j = 0; j < width; j++) {
        out += p[j]!;
        const v = values[o + j];
        out += typeof v === 'number' ? (Number.isFinite(v) ? `${v}` : 'null') : valueJson(v);
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
