/**
 * A YAML config for the daemon tests over an external online store: the feature set of card-spec.ts
 * (so its brute-force `oracle` applies) behind an `http` push source `tx`, plus a stored group
 * `cc_batch` with a TTL (SageMaker PutRecord). Written to `<dir>/fenestra.yaml`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DaemonConfigOptions {
  /** Directory of the config file; the state goes to `<dir>/state`. */
  readonly dir: string;
  /** The `online:` block as one line of YAML flow, e.g. `{ type: redis, url: "redis://..." }`. */
  readonly online: string;
  /** `state.flushInterval` (default 50ms). */
  readonly flushInterval?: string;
  /** `state.checkpointInterval` (default 1s). */
  readonly checkpointInterval?: string;
  /** `ttl` of the stored group `cc_batch` (default 48h). */
  readonly storedTtl?: string;
  /** `allowedLateness` of the source (default 365d). */
  readonly allowedLateness?: string;
  /** File name (default fenestra.yaml). */
  readonly file?: string;
}

/** card-spec.ts's `cc_agg` group (fed by source `tx`) as YAML under `featureGroups:`, two-space indented. */
export const CC_AGG_YAML = `  cc_agg:
    source: tx
    features:
      num_trans_last_10m: { agg: count, window: 10m }
      sum_amt_last_10m:   { agg: sum, field: amt, window: 10m }
      num_trans_last_1h:  { agg: count, window: 1h }
      max_amt_last_1h:    { agg: max, field: amt, window: 1h }
      num_trans_total:    { agg: count, window: lifetime }
      sum_amt_total:      { agg: sum, field: amt, window: lifetime }
    derived:
      avg_amt_last_10m: { expr: "sum_amt_last_10m / double(num_trans_last_10m)" }
      amt_ratio_1h_max: { expr: "request.amount / max_amt_last_1h" }
`;

/** `GET /v1/features/cc_agg/:card?asOf=…&request.amount=75` of a running daemon (200 expected). */
export async function servedFeatures(base: string, card: string, asOf: number): Promise<{ status: number; text: string }> {
  const res = await fetch(`${base}/v1/features/cc_agg/${card}?asOf=${asOf}&request.amount=75`);
  return { status: res.status, text: await res.text() };
}

export function writeDaemonConfig(o: DaemonConfigOptions): string {
  mkdirSync(o.dir, { recursive: true });
  const text = `# card-spec.ts's feature set over HTTP, for the online-store daemon tests
server: { host: 127.0.0.1, port: 0 }
state:
  dir: ./state
  checkpointInterval: ${o.checkpointInterval ?? '1s'}
  flushInterval: ${o.flushInterval ?? '50ms'}
entities:
  card: { key: cc_num }
sources:
  tx:
    type: http
    entity: card
    eventTime: { field: trans_time }
    allowedLateness: ${o.allowedLateness ?? '365d'}
    schema: { cc_num: string, amt: double, trans_time: timestamp }
featureGroups:
${CC_AGG_YAML}  cc_batch:
    entity: card
    stored:
      eventTime: event_time
      ttl: ${o.storedTtl ?? '48h'}
      schema: { event_time: timestamp, avg_amt_last_1w: double, num_trans_last_1w: int }
online: ${o.online}
`;
  const path = join(o.dir, o.file ?? 'fenestra.yaml');
  writeFileSync(path, text);
  return path;
}
