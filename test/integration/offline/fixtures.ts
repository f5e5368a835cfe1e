/** Shared fixtures of the offline tests: the fraud config (as YAML text) and spec loading. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../../config/load.js';
import type { AggregatedGroupSpec, EngineSpec } from '../../../core/model.js';

export function fraudYaml(opts: { includeCurrent?: boolean; offlinePath?: string } = {}): string {
  return `
entities:
  card: { key: cc_num }
sources:
  transactions:
    type: http
    entity: card
    eventTime: { field: trans_time }
    schema:
      cc_num: string
      trans_time: timestamp
      amount: double
      merchant: { type: string, optional: true }
featureGroups:
  cc_agg:
    source: transactions
    includeCurrent: ${opts.includeCurrent ?? true}
    features:
      num_trans_last_10m: { agg: count, window: 10m }
      avg_amt_last_10m:   { agg: avg, field: amount, window: 10m }
      num_trans_last_1w:  { agg: count, window: 7d }
      avg_amt_last_1w:    { agg: avg, field: amount, window: 7d, precision: 1h }
    derived:
      amt_ratio1:  { expr: "avg_amt_last_10m / avg_amt_last_1w" }
      amt_ratio2:  { expr: "request.amount / avg_amt_last_1w" }
      count_ratio: { expr: "num_trans_last_10m / num_trans_last_1w" }
featureServices:
  fraud_model: [ "cc_agg:*" ]
${opts.offlinePath ? `offline: { type: parquet, path: "${opts.offlinePath}" }\n` : ''}`;
}

export async function loadYaml(dir: string, name: string, text: string): Promise<EngineSpec> {
  const path = join(dir, name);
  writeFileSync(path, text);
  return loadConfig(path);
}

/** The spec with every window of `group` made exact (precision 0), to compare with exact SQL windows. */
export function exactWindows(spec: EngineSpec, group: string): EngineSpec {
  const g = spec.groups.get(group) as AggregatedGroupSpec;
  const exact: AggregatedGroupSpec = { ...g, features: g.features.map((f) => ({ ...f, precision: 0 })) };
  const groups = new Map(spec.groups);
  groups.set(group, exact);
  return { ...spec, groups };
}
