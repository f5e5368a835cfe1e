/**
 * The daemon (daemon/assemble.ts) over a real Redis and a real DynamoDB Local:
 *
 * - `online.reads: store` (the default for external stores): `GET/POST /v1/features` and GetRecord
 *   answer from the store — a key removed from Redis behind the daemon's back reads as missing, while
 *   a `reads: engine` daemon on the same data still answers from memory; windows are finalized at the
 *   read's time either way.
 * - `/metrics`: the online-store series and `fenestra_dead_letters_total{source,code}`.
 * - TTL: a stored group's record written with PutRecord (the real AWS SDK client) gets its expiry in
 *   the backend (Redis PEXPIRETIME = expiresAt; DynamoDB `e` and `ttl`) and reads as missing after it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetRecordCommand, PutRecordCommand, SageMakerFeatureStoreRuntimeClient } from '@aws-sdk/client-sagemaker-featurestore-runtime';
import { loadConfig } from '../../../config/load.js';
import { startDaemon, type Daemon } from '../../../daemon/assemble.js';
import { startRedis, type RedisServer } from '../../services/redis.js';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../services/dynamodb-local.js';
import { MIN, oracle, sameValues, transactions } from './support/card-spec.js';
import { writeDaemonConfig } from './support/daemon-config.js';
import { metric } from './support/prom.js';

let redis: RedisServer;
let ddb: DynamoDbLocal;
let raw: Redis;
let dir: string;
const daemons: Daemon[] = [];

beforeAll(async () => {
  [redis, ddb] = await Promise.all([startRedis(), startDynamoDbLocal()]);
  raw = new Redis(redis.url);
  dir = mkdtempSync(join(tmpdir(), 'fenestra-daemon-store-reads-'));
});
afterAll(async () => {
  for (const d of daemons) await d.stop().catch(() => undefined);
  raw?.disconnect();
  await Promise.all([redis?.stop(), ddb?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function daemon(name: string, online: string, storedTtl?: string): Promise<Daemon> {
  const spec = await loadConfig(writeDaemonConfig({ dir: join(dir, name), online, ...(storedTtl ? { storedTtl } : {}) }));
  const d = await startDaemon(spec, { port: 0, processMetrics: false, onlineProbeIntervalMs: 200 });
  daemons.push(d);
  await d.ready;
  return d;
}

async function getJson(url: string): Promise<any> {
  const res = await fetch(url);
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text);
}

async function ingest(base: string, events: readonly object[], wait = true): Promise<any> {
  const res = await fetch(`${base}/v1/ingest/tx${wait ? '?wait=visible' : ''}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson' },
    body: events.map((e) => JSON.stringify(e)).join('\n'),
  });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text);
}

describe('reads from the online store', () => {
  it('reads: store answers from Redis (a key removed there reads as missing); reads: engine from memory', async () => {
    const online = (reads: string) => `{ type: redis, url: "${redis.url}", keyPrefix: "sr:", reads: ${reads} }`;
    const fromStore = await daemon('store', online('store'));
    const txs = transactions(400, 12, Date.now() - 3 * 60 * MIN, 11, '5');
    const r = await ingest(fromStore.url, txs);
    expect(r).toMatchObject({ accepted: txs.length, visible: true });
    // The same events in a reads: engine daemon writing to another prefix.
    const fromEngine = await daemon('engine', `{ type: redis, url: "${redis.url}", keyPrefix: "se:", reads: engine }`);
    await ingest(fromEngine.url, txs);

    const cards = [...new Set(txs.map((t) => t.cc_num))].sort();
    const asOf = txs[txs.length - 1]!.trans_time + 5 * MIN;
    for (const d of [fromStore, fromEngine]) {
      for (const card of cards) {
        const got = await getJson(`${d.url}/v1/features/cc_agg/${card}?asOf=${asOf}&request.amount=40`);
        const want = oracle(txs, card, asOf, { amount: 40 });
        expect(got.version).toBe(want.version);
        expect(sameValues(got.features, want.values), `${card}: ${JSON.stringify(got.features)} vs ${JSON.stringify(want.values)}`).toBe(true);
      }
    }

    const victim = cards[0]!;
    // The reads: engine daemon's ?wait=visible means applied in memory, not flushed: wait for its periodic
    // flush (every 50 ms) to have written the victim before removing it behind the daemon's back.
    const flushedBy = Date.now() + 30_000;
    while ((await raw.exists(`se:cc_agg:${victim}`)) !== 1) {
      if (Date.now() > flushedBy) throw new Error(`the reads: engine daemon did not flush ${victim} to Redis within 30 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await raw.del(`sr:cc_agg:${victim}`)).toBe(1);
    expect(await raw.del(`se:cc_agg:${victim}`)).toBe(1);
    const gone = await getJson(`${fromStore.url}/v1/features/cc_agg/${victim}?asOf=${asOf}`);
    expect(gone).toMatchObject({ found: false, version: 0 });
    const batch = await fetch(`${fromStore.url}/v1/features`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ keys: [victim, cards[1]], features: ['cc_agg:num_trans_total'], asOf }),
    });
    const body = (await batch.json()) as { results: Array<{ key: string; features: Record<string, unknown> }> };
    expect(body.results.map((x) => x.features['cc_agg:num_trans_total'] ?? x.features['num_trans_total'])).toEqual([0, oracle(txs, cards[1]!, asOf).values.num_trans_total]);
    const kept = await getJson(`${fromEngine.url}/v1/features/cc_agg/${victim}?asOf=${asOf}`);
    expect(kept).toMatchObject({ found: true, version: oracle(txs, victim, asOf).version });

    // Windows end at the read's time, from the store too: an hour later the 10-minute window is empty.
    const later = await getJson(`${fromStore.url}/v1/features/cc_agg/${cards[1]}?asOf=${asOf + 60 * MIN}`);
    expect(later.features).toMatchObject({ num_trans_last_10m: 0, num_trans_last_1h: 0, num_trans_total: oracle(txs, cards[1]!, asOf).version });
  });

  it('exposes the online-store metrics and dead letters by source and code', async () => {
    const d = await daemon('metrics', `{ type: redis, url: "${redis.url}", keyPrefix: "m:" }`);
    const t = Date.now();
    await ingest(d.url, [
      { cc_num: 'm1', amt: 5, trans_time: t },
      { cc_num: 'm1', amt: 6, trans_time: t - 400 * 86_400_000 }, // older than allowedLateness (365d) behind m1's newest
      { cc_num: 'm2', amt: 7, trans_time: t },
    ]);
    const text = await (await fetch(`${d.url}/metrics`)).text();
    expect(metric(text, 'fenestra_dead_letters_total{source="tx",code="EVENT_LATE"}')).toBe(1);
    expect(text).toContain('# TYPE fenestra_dead_letters_total counter');
    expect(metric(text, 'fenestra_online_store_up{store="redis"}')).toBe(1);
    expect(metric(text, 'fenestra_online_pending_keys{store="redis"}')).toBe(0);
    expect(metric(text, 'fenestra_online_flush_failures_total{store="redis"}')).toBe(0);
    expect(metric(text, 'fenestra_online_records_total{store="redis",outcome="applied"}')).toBeGreaterThanOrEqual(2);
    const flushes = metric(text, 'fenestra_online_flush_duration_seconds_count{store="redis"}')!;
    expect(flushes).toBeGreaterThanOrEqual(1);
    expect(metric(text, 'fenestra_online_flush_duration_seconds_bucket{store="redis",le="+Inf"}')).toBe(flushes);
    expect(metric(text, 'fenestra_online_flush_duration_seconds_sum{store="redis"}')).toBeGreaterThan(0);
    expect(text).toContain('# TYPE fenestra_online_flush_duration_seconds histogram');
    expect(metric(text, 'fenestra_ready')).toBe(1);
  });
});

describe('WebSocket subscriptions with reads from the store', () => {
  it('push every change, read from the store once it has it (a stored record too)', async () => {
    const d = await daemon('ws', `{ type: redis, url: "${redis.url}", keyPrefix: "ws:" }`);
    const ws = new WebSocket(`${d.url.replace('http', 'ws')}/v1/ws`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const got: any[] = [];
    ws.on('message', (m) => got.push(JSON.parse(m.toString())));
    const waitFor = async (what: string, f: (m: any) => boolean): Promise<any> => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const m = got.find(f);
        if (m !== undefined) return m;
        if (Date.now() > deadline) throw new Error(`${what}: not received; got ${JSON.stringify(got)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    try {
      ws.send(JSON.stringify({ op: 'subscribe', id: 's', group: 'cc_agg', key: 'sub' }));
      ws.send(JSON.stringify({ op: 'subscribe', id: 'b', group: 'cc_batch', key: 'sub' }));
      await waitFor('initial', (m) => m.op === 'features' && m.group === 'cc_agg' && m.features.num_trans_total === 0);
      const t = Date.now();
      for (let i = 1; i <= 3; i++) {
        await ingest(d.url, [{ cc_num: 'sub', amt: 10 * i, trans_time: t + i }], false);
        const m = await waitFor(`change ${i}`, (x) => x.op === 'features' && x.group === 'cc_agg' && x.features.num_trans_total === i);
        expect(m.versions).toEqual({ cc_agg: i });
      }
      const client = sagemaker(d.url);
      try {
        await client.send(new PutRecordCommand({
          FeatureGroupName: 'cc_batch',
          Record: [
            { FeatureName: 'cc_num', ValueAsString: 'sub' },
            { FeatureName: 'event_time', ValueAsString: new Date(t).toISOString() },
            { FeatureName: 'avg_amt_last_1w', ValueAsString: '7' },
            { FeatureName: 'num_trans_last_1w', ValueAsString: '1' },
          ],
        }));
      } finally {
        client.destroy();
      }
      await waitFor('stored record', (m) => m.op === 'features' && m.group === 'cc_batch' && m.features.avg_amt_last_1w === 7);
    } finally {
      ws.close();
    }
  });
});

const sagemaker = (url: string) =>
  new SageMakerFeatureStoreRuntimeClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'f', secretAccessKey: 'f' }, maxAttempts: 1 });

describe('TTL of stored groups', () => {
  const backends = [
    {
      name: 'redis',
      online: () => `{ type: redis, url: "${redis.url}", keyPrefix: "ttl:" }`,
      backendExpiry: async (key: string) => Number(await raw.call('PEXPIRETIME', `ttl:cc_batch:${key}`)),
      stillThere: async (key: string) => (await raw.exists(`ttl:cc_batch:${key}`)) === 1,
    },
    {
      name: 'dynamodb',
      online: () => `{ type: dynamodb, table: ttl_test, endpoint: "${ddb.endpoint}", region: ${ddb.region}, createTable: true, credentials: { accessKeyId: "${ddb.credentials.accessKeyId}", secretAccessKey: "${ddb.credentials.secretAccessKey}" } }`,
      backendExpiry: async (key: string) => {
        const c = new DynamoDBClient({ endpoint: ddb.endpoint, region: ddb.region, credentials: ddb.credentials });
        try {
          const item = (await c.send(new GetItemCommand({ TableName: 'ttl_test', Key: { pk: { S: `cc_batch#${key}` } }, ConsistentRead: true }))).Item;
          expect(Number(item?.ttl?.N)).toBe(Math.ceil(Number(item?.e?.N) / 1000)); // DynamoDB's TTL attribute, epoch seconds
          return Number(item?.e?.N);
        } finally {
          c.destroy();
        }
      },
      stillThere: undefined, // DynamoDB Local never deletes expired items: the read-side check must hide them
    },
  ];

  it.each(backends)('$name: a record written with PutRecord gets its expiry in the backend and reads as missing after it', async (b) => {
    // The ttl leaves the reads before expiry 10 s, not a few: a loaded machine (DynamoDB Local's JVM) may take seconds.
    const d = await daemon(`ttl-${b.name}`, b.online(), '10s');
    const client = sagemaker(d.url);
    try {
      const key = `ttl-${b.name}`;
      const eventTime = Date.now();
      const expiresAt = eventTime + 10_000;
      await client.send(new PutRecordCommand({
        FeatureGroupName: 'cc_batch',
        Record: [
          { FeatureName: 'cc_num', ValueAsString: key },
          { FeatureName: 'event_time', ValueAsString: new Date(eventTime).toISOString() },
          { FeatureName: 'avg_amt_last_1w', ValueAsString: '12.5' },
          { FeatureName: 'num_trans_last_1w', ValueAsString: '3' },
        ],
      }));
      // PutRecord answered: the record is in the store (reads: store) with its expiry.
      expect(await b.backendExpiry(key)).toBe(expiresAt);
      const got = await client.send(new GetRecordCommand({ FeatureGroupName: 'cc_batch', RecordIdentifierValueAsString: key, ExpirationTimeResponse: 'Enabled' }));
      expect(got.Record?.find((f) => f.FeatureName === 'avg_amt_last_1w')?.ValueAsString).toBe('12.5');
      expect(got.ExpiresAt).toBe(new Date(expiresAt).toISOString());
      expect(await getJson(`${d.url}/v1/features/cc_batch/${key}`)).toMatchObject({ found: true, features: { avg_amt_last_1w: 12.5, num_trans_last_1w: 3 } });

      await new Promise((r) => setTimeout(r, Math.max(0, expiresAt + 300 - Date.now())));
      const after = await client.send(new GetRecordCommand({ FeatureGroupName: 'cc_batch', RecordIdentifierValueAsString: key }));
      expect(after.Record).toBeUndefined();
      expect(await getJson(`${d.url}/v1/features/cc_batch/${key}`)).toMatchObject({ found: false, features: { avg_amt_last_1w: null } });
      if (b.stillThere) expect(await b.stillThere(key)).toBe(false); // Redis deleted it (PXAT)
    } finally {
      client.destroy();
    }
  });
});
