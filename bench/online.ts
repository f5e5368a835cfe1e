/**
 * Online-store serving and flush figures, against a real redis-server and a real DynamoDB Local
 * started for the run (test/services/), each beside a baseline measured in the same run:
 *
 * - `GET /v1/features/cc_agg/:key` p50/p99/p99.9 served by the real daemon — a `fenestra start`
 *   process (cli/main.ts, daemon/assemble.ts) with `online: { type: redis | dynamodb }` and so
 *   `reads: store`: every read fetches the entity from the store and finalizes its windows — beside
 *   the raw store round trip of the same records (Redis `GET` / DynamoDB `GetItem` of the key the
 *   daemon reads) and the daemon's no-op route (`/healthz`) on the same connection.
 *   Target (Redis): features p99 <= 3 x raw p99 + no-op p99.
 * - `POST /v1/features` with 100 keys p99 (target <= 5 ms on Redis), and the adapter's own 100-key
 *   `read` p99.
 * - The daemon's own flushes while the cards were ingested over HTTP (`?wait=visible`, so every event
 *   is in the store before measuring): records applied per second of flush time, from its
 *   `fenestra_online_flush_duration_seconds` and `fenestra_online_records_total` metrics.
 * - Flush throughput (keys/s) of encoded entity states (cc_agg: 10m/1h/lifetime windows, 5 events
 *   per card) through the adapter's conditional `write`, in batches of 500 one after another as the
 *   engine's OnlineFlusher sends them (target >= 100,000 keys/s on Redis); baseline: plain pipelined
 *   `SET` of the same bytes (Redis) / unconditional PutItem (DynamoDB).
 *
 * Latencies: one request at a time at a fixed schedule (half the rate one client reached in the
 * warm-up); each latency is measured from the request's *scheduled* start, so a slow response delays
 * and is charged to the ones queued behind it (coordinated omission corrected), recorded in an HDR
 * histogram (microseconds).
 *
 *   node --expose-gc --import tsx bench/online.ts [--smoke] [--only redis|dynamodb]
 *
 * Prints one JSON line, then a readable table.
 */
import { Agent, request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import * as hdr from 'hdr-histogram-js';
import { Redis } from 'ioredis';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { OnlineRecord, OnlineStore } from '../core/contracts/online-store.js';
import { AggregatedGroupState } from '../core/window/index.js';
import { RedisOnlineStore } from '../adapters/online/redis/store.js';
import { DynamoDbOnlineStore } from '../adapters/online/dynamodb/store.js';
import { mapLimit } from '../adapters/online/shared/map-limit.js';
import { toItem } from '../adapters/online/dynamodb/item.js';
import { testLogger } from '../plugins/testkit/logger.js';
import { startRedis } from '../test/services/redis.js';
import { startDynamoDbLocal } from '../test/services/dynamodb-local.js';
import { ccAgg, txSource, MIN } from '../test/integration/online/support/card-spec.js';
import { writeDaemonConfig } from '../test/integration/online/support/daemon-config.js';
import { startFenestra } from '../test/integration/online/support/fenestra-process.js';
import { metric } from '../test/integration/online/support/prom.js';

const smoke = process.argv.includes('--smoke');
const onlyIdx = process.argv.indexOf('--only');
const only = onlyIdx >= 0 ? process.argv[onlyIdx + 1] : undefined;

const CARDS = smoke ? 500 : 20_000;
const FLUSH_KEYS_REDIS = smoke ? 10_000 : 200_000;
const FLUSH_KEYS_DDB = smoke ? 300 : 10_000;
const FLUSH_BATCH = 500; // what core/runtime/online-flusher.ts sends per write
type Counts = { rawGet: number; http: number; batch: number };
const LAT_N_REDIS: Counts = { rawGet: smoke ? 300 : 20_000, http: smoke ? 200 : 10_000, batch: smoke ? 50 : 2_000 };
// DynamoDB Local answers in milliseconds, not tens of microseconds: fewer samples keep the run short.
const LAT_N_DDB: Counts = { rawGet: smoke ? 200 : 3_000, http: smoke ? 100 : 2_000, batch: smoke ? 30 : 300 };
const RATE = { rawGet: 5_000, http: 2_000, batch: 500 }; // highest schedule rates (requests/s), one at a time

interface Latency {
  n: number;
  /** The schedule's rate (requests/s). */
  rate_per_s: number;
  p50_us: number;
  p99_us: number;
  p999_us: number;
  max_us: number;
}

/**
 * Runs `fn` n times, one at a time, on a fixed schedule; latency is taken from the scheduled start.
 * The schedule's rate is half what the warm-up calls (n/10, at least 50) showed one client can do
 * (capped at `maxRate`), so the system runs at about 50 % utilisation and a stall shows up as a queue
 * of late requests, as it would for real clients (coordinated omission corrected).
 */
async function latency(n: number, maxRate: number, fn: (i: number) => Promise<unknown>): Promise<Latency> {
  const warm = Math.max(50, Math.floor(n / 10));
  const w0 = process.hrtime.bigint();
  for (let i = 0; i < warm; i++) await fn(i);
  const meanNs = Number(process.hrtime.bigint() - w0) / warm;
  const ratePerSec = Math.min(maxRate, 0.5e9 / meanNs);
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
  const intervalNs = 1e9 / ratePerSec;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const scheduled = t0 + BigInt(Math.round(i * intervalNs));
    for (;;) {
      const wait = Number(scheduled - process.hrtime.bigint()) / 1e6;
      if (wait <= 0) break;
      if (wait > 2) await new Promise((r) => setTimeout(r, wait - 1));
      else await tick();
    }
    await fn(i);
    h.recordValue(Math.max(1, Math.round(Number(process.hrtime.bigint() - scheduled) / 1000)));
  }
  const out = {
    n,
    rate_per_s: Math.round(ratePerSec),
    p50_us: h.getValueAtPercentile(50),
    p99_us: h.getValueAtPercentile(99),
    p999_us: h.getValueAtPercentile(99.9),
    max_us: h.maxValue,
  };
  h.destroy();
  return out;
}

/** Encoded cc_agg states of `n` cards (5 events each within the last 10 minutes), version 5. */
function encodedStates(n: number, prefix: string, now: number): OnlineRecord[] {
  const st = new AggregatedGroupState(ccAgg, txSource);
  const out: OnlineRecord[] = [];
  for (let i = 0; i < n; i++) {
    const key = `${prefix}${String(i).padStart(12, '0')}`;
    for (let e = 0; e < 5; e++) st.apply(key, now - 9 * MIN + e * 60_000 + (i % 1000), { cc_num: key, amt: 10 + ((i * 7 + e) % 500), trans_time: 0 });
    out.push({ group: ccAgg.name, key, version: 5, value: st.encode(key)! });
  }
  return out;
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });
function http(base: string, method: 'GET' | 'POST', path: string, body?: string): Promise<number> {
  const u = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers: body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.on('data', () => undefined);
        res.on('end', () => (res.statusCode === 200 ? resolve(res.statusCode) : reject(new Error(`${method} ${path}: HTTP ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function flushThroughput(store: OnlineStore, records: readonly OnlineRecord[]): Promise<{ keys: number; seconds: number; keys_per_s: number }> {
  const t0 = process.hrtime.bigint();
  let applied = 0;
  for (let i = 0; i < records.length; i += FLUSH_BATCH) applied += (await store.write(records.slice(i, i + FLUSH_BATCH))).applied;
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (applied !== records.length) throw new Error(`flush applied ${applied} of ${records.length}`);
  return { keys: records.length, seconds: +s.toFixed(3), keys_per_s: Math.round(records.length / s) };
}

async function timed(n: number, fn: () => Promise<void>): Promise<{ keys: number; seconds: number; keys_per_s: number }> {
  const t0 = process.hrtime.bigint();
  await fn();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return { keys: n, seconds: +s.toFixed(3), keys_per_s: Math.round(n / s) };
}

interface DaemonFlush {
  flushes: number;
  records_applied: number;
  flush_seconds: number;
  /** Records applied per second of flush time. */
  keys_per_s: number;
}

interface ServingFigures {
  raw_roundtrip: Latency;
  noop_route: Latency;
  features_get: Latency;
  batch100_http: Latency;
  batch100_adapter_read: Latency;
  daemon_flush: DaemonFlush;
  flush: { keys: number; seconds: number; keys_per_s: number };
  flush_baseline: { keys: number; seconds: number; keys_per_s: number };
  flush_transact?: { keys: number; seconds: number; keys_per_s: number };
  value_bytes_avg: number;
}

/** `n` cards with 5 events each within the last 10 minutes (the shape encodedStates writes). */
function cardEvents(n: number, now: number): { keys: string[]; ndjson: string[] } {
  const keys: string[] = [];
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const key = `c${String(i).padStart(12, '0')}`;
    keys.push(key);
    for (let e = 0; e < 5; e++) lines.push(JSON.stringify({ cc_num: key, amt: 10 + ((i * 7 + e) % 500), trans_time: now - 9 * MIN + e * 60_000 + (i % 1000) }));
  }
  const ndjson: string[] = [];
  for (let i = 0; i < lines.length; i += 5000) ndjson.push(lines.slice(i, i + 5000).join('\n'));
  return { keys, ndjson };
}

/**
 * Starts `fenestra start` on `online`, ingests CARDS cards over HTTP (`?wait=visible`: answered once
 * the store has them), then measures the daemon's reads from the store beside the raw round trip.
 */
async function servingFigures(
  online: string,
  store: OnlineStore,
  rawRoundTrip: (key: string) => Promise<unknown>,
  dir: string,
  LAT_N: Counts,
): Promise<Omit<ServingFigures, 'flush' | 'flush_baseline' | 'flush_transact' | 'value_bytes_avg'>> {
  const daemon = await startFenestra(writeDaemonConfig({ dir, online, checkpointInterval: '1s', flushInterval: '50ms' }), { fromSources: true });
  try {
    const { keys, ndjson } = cardEvents(CARDS, Date.now());
    for (const body of ndjson) {
      const u = new URL('/v1/ingest/tx?wait=visible', daemon.url);
      const res = await fetch(u, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
      const answer = (await res.json()) as { accepted?: number; visible?: boolean };
      if (res.status !== 200 || answer.visible !== true) throw new Error(`ingest: HTTP ${res.status} ${JSON.stringify(answer)}\n${daemon.logs()}`);
    }
    const m = await (await fetch(new URL('/metrics', daemon.url))).text();
    const series = (name: string): number => metric(m, name) ?? NaN;
    const storeName = online.match(/type: (\w+)/)![1]!;
    const flush_seconds = series(`fenestra_online_flush_duration_seconds_sum{store="${storeName}"}`);
    const records_applied = series(`fenestra_online_records_total{store="${storeName}",outcome="applied"}`);
    const daemon_flush: DaemonFlush = {
      flushes: series(`fenestra_online_flush_duration_seconds_count{store="${storeName}"}`),
      records_applied,
      flush_seconds: +flush_seconds.toFixed(3),
      keys_per_s: Math.round(records_applied / flush_seconds),
    };
    const pick = (i: number): string => keys[(i * 7919) % keys.length]!;
    const raw_roundtrip = await latency(LAT_N.rawGet, RATE.rawGet, (i) => rawRoundTrip(pick(i)));
    const noop_route = await latency(LAT_N.http, RATE.http, () => http(daemon.url, 'GET', '/healthz'));
    const features_get = await latency(LAT_N.http, RATE.http, (i) => http(daemon.url, 'GET', `/v1/features/cc_agg/${pick(i)}`));
    const batchBody = (i: number): string => JSON.stringify({ keys: Array.from({ length: 100 }, (_, j) => pick(i * 100 + j)), features: ['cc_agg:*'] });
    const batch100_http = await latency(LAT_N.batch, RATE.batch, (i) => http(daemon.url, 'POST', '/v1/features', batchBody(i)));
    const batch100_adapter_read = await latency(LAT_N.batch, RATE.batch, (i) =>
      store.read('cc_agg', Array.from({ length: 100 }, (_, j) => pick(i * 100 + j)), Date.now()),
    );
    return { raw_roundtrip, noop_route, features_get, batch100_http, batch100_adapter_read, daemon_flush };
  } finally {
    const code = await daemon.stop();
    if (code !== 0) console.error(`fenestra start exited with ${code}:\n${daemon.logs()}`);
  }
}

async function redisBench(dir: string): Promise<ServingFigures> {
  const server = await startRedis();
  const cfg = { url: server.url, keyPrefix: 'bench:' };
  const store = new RedisOnlineStore(cfg, testLogger());
  const raw = new Redis(server.url, { lazyConnect: true });
  try {
    await store.open();
    await raw.connect();
    // The raw baseline GETs the very records the daemon reads.
    const online = `{ type: redis, url: "${server.url}", keyPrefix: "bench:" }`;
    const serving = await servingFigures(online, store, (key) => raw.getBuffer(store.keyOf('cc_agg', key)), join(dir, 'redis'), LAT_N_REDIS);
    const recs = encodedStates(FLUSH_KEYS_REDIS, 'f', Date.now());
    const value_bytes_avg = Math.round(recs.reduce((a, r) => a + r.value.length, 0) / recs.length);
    const flush_baseline = await timed(recs.length, async () => {
      for (let i = 0; i < recs.length; i += FLUSH_BATCH) {
        const p = raw.pipeline();
        for (const r of recs.slice(i, i + FLUSH_BATCH)) p.set(`rawflush:${r.key}`, Buffer.from(r.value));
        await p.exec();
      }
    });
    const flush = await flushThroughput(store, recs);
    return { ...serving, flush, flush_baseline, value_bytes_avg };
  } finally {
    raw.disconnect();
    await store.close();
    await server.stop();
  }
}

async function dynamoBench(dir: string): Promise<ServingFigures> {
  const ddb = await startDynamoDbLocal();
  const base = { endpoint: ddb.endpoint, region: ddb.region, credentials: ddb.credentials, createTable: true };
  const cfg = { ...base, table: 'bench' };
  const store = new DynamoDbOnlineStore(cfg, testLogger());
  try {
    await store.open();
    const c = ddb.credentials;
    const online = `{ type: dynamodb, table: bench, endpoint: "${ddb.endpoint}", region: ${ddb.region}, createTable: true, credentials: { accessKeyId: "${c.accessKeyId}", secretAccessKey: "${c.secretAccessKey}" } }`;
    const serving = await servingFigures(online, store, (key) => store.client.send(new GetItemCommand({ TableName: 'bench', Key: { pk: { S: `cc_agg#${key}` } }, ConsistentRead: true })), join(dir, 'ddb'), LAT_N_DDB);
    const recs = encodedStates(FLUSH_KEYS_DDB, 'f', Date.now());
    const value_bytes_avg = Math.round(recs.reduce((a, r) => a + r.value.length, 0) / recs.length);
    const flush_baseline = await timed(recs.length, async () => {
      await mapLimit(recs, 32, (r) => store.client.send(new PutItemCommand({ TableName: 'bench_raw', Item: toItem(r) })));
    }).catch(async () => {
      // bench_raw does not exist yet on the first call: create it through a store, then measure.
      const mk = new DynamoDbOnlineStore({ ...base, table: 'bench_raw' }, testLogger());
      await mk.open();
      await mk.close();
      return timed(recs.length, async () => {
        await mapLimit(recs, 32, (r) => store.client.send(new PutItemCommand({ TableName: 'bench_raw', Item: toItem(r) })));
      });
    });
    const flush = await flushThroughput(store, recs);
    const tx = new DynamoDbOnlineStore({ ...base, table: 'bench_tx', writeMode: 'transact' }, testLogger());
    await tx.open();
    const flush_transact = await flushThroughput(tx, recs);
    await tx.close();
    return { ...serving, flush, flush_baseline, flush_transact, value_bytes_avg };
  } finally {
    await store.close();
    await ddb.stop();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'fenestra-bench-online-'));
const result: Record<string, unknown> = { bench: 'online', smoke, cards: CARDS };
try {
  if (only === undefined || only === 'redis') result.redis = await redisBench(dir);
  if (only === undefined || only === 'dynamodb') result.dynamodb = await dynamoBench(dir);
} finally {
  agent.destroy();
  rmSync(dir, { recursive: true, force: true });
}

const ms = (us: number): string => (us / 1000).toFixed(3);
const rows: Record<string, Record<string, string | number>> = {};
for (const backend of ['redis', 'dynamodb'] as const) {
  const f = result[backend] as ServingFigures | undefined;
  if (f === undefined) continue;
  const lat = (name: string, l: Latency): void => {
    rows[`${backend}: ${name}`] = { n: l.n, 'req/s': l.rate_per_s, 'p50 ms': ms(l.p50_us), 'p99 ms': ms(l.p99_us), 'p99.9 ms': ms(l.p999_us), 'keys/s': '' };
  };
  lat(backend === 'redis' ? 'raw GET round trip (baseline)' : 'raw GetItem round trip (baseline)', f.raw_roundtrip);
  lat('no-op route /healthz (baseline)', f.noop_route);
  lat('GET /v1/features/:group/:key', f.features_get);
  lat('POST /v1/features, 100 keys', f.batch100_http);
  lat('adapter read, 100 keys', f.batch100_adapter_read);
  const thr = (name: string, t: { keys: number; keys_per_s: number }): void => {
    rows[`${backend}: ${name}`] = { n: t.keys, 'req/s': '', 'p50 ms': '', 'p99 ms': '', 'p99.9 ms': '', 'keys/s': t.keys_per_s };
  };
  thr(backend === 'redis' ? 'flush baseline: pipelined SET' : 'flush baseline: unconditional PutItem x32', f.flush_baseline);
  thr(`flush: conditional write, batches of ${FLUSH_BATCH}`, f.flush);
  thr('daemon flush while ingesting (records per flush-second)', { keys: f.daemon_flush.records_applied, keys_per_s: f.daemon_flush.keys_per_s });
  if (f.flush_transact) thr('flush: TransactWriteItems mode', f.flush_transact);
  const target = f.raw_roundtrip.p99_us * 3 + f.noop_route.p99_us;
  (result[backend] as Record<string, unknown>).targets = {
    features_get_p99_us_limit: target,
    features_get_p99_ok: f.features_get.p99_us <= target,
    batch100_p99_ok: f.batch100_http.p99_us <= 5000,
    flush_ok: f.flush.keys_per_s >= 100_000,
  };
}
console.log(JSON.stringify(result));
console.table(rows);
for (const backend of ['redis', 'dynamodb']) {
  const t = (result[backend] as { targets?: Record<string, unknown> } | undefined)?.targets;
  if (t) console.log(`${backend} targets: ${JSON.stringify(t)}${backend === 'dynamodb' ? ' (DynamoDB Local: reported as measured)' : ''}`);
}
process.exit(0);
