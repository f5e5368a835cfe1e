/**
 * Two real daemons — `node bin/fenestra.js start -c <config>` processes, each with its own state
 * directory — over one real redis-server (append-only file, fsync always), both with
 * `online: { type: redis }` and so `reads: store` by default:
 *
 * 1. Events pushed over HTTP to instance A only; A and B return identical features for every key and
 *    `asOf`, equal to the brute-force oracle. B never received an event: it answers from Redis.
 * 2. redis-server is killed under the running daemons: `/readyz` answers 503 STORE_UNAVAILABLE naming
 *    the online store and `/metrics` shows it down with changed entities pending, while A keeps
 *    accepting events; redis-server restarts: both are ready again and serve features equal to the
 *    oracle of every event, none lost or counted twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis, type RedisServer } from '../../services/redis.js';
import { oracle, sameValues, transactions, type Tx } from './support/card-spec.js';
import { servedFeatures, writeDaemonConfig } from './support/daemon-config.js';
import { ensureBuilt, startFenestra, type FenestraProcess } from './support/fenestra-process.js';
import { metric } from './support/prom.js';

let redis: RedisServer;
let dir: string;
let a: FenestraProcess;
let b: FenestraProcess;

beforeAll(async () => {
  ensureBuilt();
  redis = await startRedis({ persistence: 'aof' });
  dir = mkdtempSync(join(tmpdir(), 'fenestra-two-daemons-'));
  const online = `{ type: redis, url: "${redis.url}", keyPrefix: "two:" }`;
  [a, b] = await Promise.all(['a', 'b'].map((name) => startFenestra(writeDaemonConfig({ dir: join(dir, name), online }))));
}, 240_000);
afterAll(async () => {
  const codes = await Promise.all([a?.stop(), b?.stop()]);
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  expect(codes, 'both daemons stop cleanly on SIGTERM').toEqual([0, 0]);
});

async function ingest(base: string, events: readonly Tx[], wait: boolean): Promise<{ accepted: number; visible?: boolean }> {
  let accepted = 0;
  let visible: boolean | undefined;
  for (let i = 0; i < events.length; i += 300) {
    const res = await fetch(`${base}/v1/ingest/tx${wait ? '?wait=visible' : ''}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', 'idempotency-key': `batch-${events[i]!.trans_time}-${i}` },
      body: events.slice(i, i + 300).map((e) => JSON.stringify(e)).join('\n'),
    });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    const body = JSON.parse(text) as { accepted: number; visible?: boolean };
    accepted += body.accepted;
    visible = visible === false ? false : body.visible;
  }
  return { accepted, ...(visible === undefined ? {} : { visible }) };
}

type Served = { found: boolean; version: number; features: Record<string, number | null> };

async function features(base: string, card: string, asOf: number): Promise<Served> {
  const { status, text } = await servedFeatures(base, card, asOf);
  expect(status, `${base} ${card}: ${text}`).toBe(200);
  return JSON.parse(text) as Served;
}

/** Both instances agree with each other and with the oracle for every card at each asOf. */
async function expectBothEqualOracle(events: readonly Tx[], asOfs: readonly number[]): Promise<void> {
  const cards = [...new Set(events.map((t) => t.cc_num))].sort();
  for (const asOf of asOfs) {
    for (const card of cards) {
      const [x, y] = await Promise.all([features(a.url, card, asOf), features(b.url, card, asOf)]);
      expect(y, `B vs A, ${card} @ ${asOf}`).toEqual(x);
      const want = oracle(events, card, asOf, { amount: 75 });
      expect(x.found).toBe(true);
      expect(x.version, `${card} @ ${asOf}`).toBe(want.version);
      expect(sameValues(x.features, want.values), `${card} @ ${asOf}: ${JSON.stringify(x.features)} vs ${JSON.stringify(want.values)}`).toBe(true);
    }
  }
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ''}\nA:\n${a.logs().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const MIN = 60_000;
const first = transactions(1200, 40, 1_700_000_000_000, 5);
const lastFirst = first[first.length - 1]!.trans_time;
const second = transactions(300, 40, lastFirst + 1000, 9);
const all = [...first, ...second];

describe('two `fenestra start` processes over one Redis', () => {
  it('one ingests over HTTP; both return identical features for the same key and asOf, from the store', async () => {
    expect(await ingest(a.url, first, true)).toEqual({ accepted: first.length, visible: true });
    await expectBothEqualOracle(first, [lastFirst - 30 * MIN, lastFirst, lastFirst + 8 * MIN, lastFirst + 120 * MIN]);

    // B's own engine never saw an event (it answered from Redis above).
    const bMetrics = await (await fetch(`${b.url}/metrics`)).text();
    expect(metric(bMetrics, 'fenestra_ingest_events_total{source="tx",outcome="accepted"}') ?? 0).toBe(0);
    // The batch route of B answers from the store too.
    const cards = [...new Set(first.map((t) => t.cc_num))].sort().slice(0, 3);
    const res = await fetch(`${b.url}/v1/features`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ keys: cards, features: ['cc_agg:num_trans_total'], asOf: lastFirst }),
    });
    const body = (await res.json()) as { results: Array<{ key: string; features: Record<string, number> }> };
    expect(body.results.map((r) => [r.key, r.features['cc_agg:num_trans_total'] ?? r.features['num_trans_total']])).toEqual(
      cards.map((c) => [c, oracle(first, c, lastFirst).values.num_trans_total]),
    );
  }, 120_000);

  it('redis-server stopped: /readyz 503 and metrics show the store down while ingest goes on; restarted: ready, features equal the oracle', async () => {
    await redis.kill();
    for (const d of [a, b]) {
      const body = await until(`${d.url} /readyz 503`, 30_000, async () => {
        const res = await fetch(`${d.url}/readyz`);
        return res.status === 503 ? ((await res.json()) as { error: { code: string; message: string } }) : undefined;
      });
      expect(body.error.code).toBe('STORE_UNAVAILABLE');
      expect(body.error.message).toContain('online store "redis"');
      const m = await (await fetch(`${d.url}/metrics`)).text();
      expect(metric(m, 'fenestra_online_store_up{store="redis"}')).toBe(0);
      expect(metric(m, 'fenestra_ready')).toBe(0);
    }

    // Ingestion goes on (acknowledged = durable in the daemon); the changes wait in memory.
    expect(await ingest(a.url, second, false)).toEqual({ accepted: second.length });
    const down = await until('A pending keys and failed flushes', 30_000, async () => {
      const m = await (await fetch(`${a.url}/metrics`)).text();
      const pending = metric(m, 'fenestra_online_pending_keys{store="redis"}') ?? 0;
      const failures = metric(m, 'fenestra_online_flush_failures_total{store="redis"}') ?? 0;
      return pending > 0 && failures > 0 ? { pending, failures } : undefined;
    });
    expect(down.pending).toBeGreaterThan(0);
    // Reads come from the store: while it is down they answer 503, never stale or empty features.
    const read = await fetch(`${b.url}/v1/features/cc_agg/${first[0]!.cc_num}`);
    expect(read.status).toBe(503);
    expect(((await read.json()) as { error: { code: string } }).error.code).toBe('STORE_UNAVAILABLE');

    await redis.restart();
    for (const d of [a, b]) {
      await until(`${d.url} ready again`, 30_000, async () => ((await fetch(`${d.url}/readyz`)).status === 200 ? true : undefined));
    }
    const m = await (await fetch(`${a.url}/metrics`)).text();
    expect(metric(m, 'fenestra_online_store_up{store="redis"}')).toBe(1);
    expect(metric(m, 'fenestra_online_pending_keys{store="redis"}')).toBe(0);
    const lastAll = all[all.length - 1]!.trans_time;
    await expectBothEqualOracle(all, [lastFirst, lastAll, lastAll + 30 * MIN]);
  }, 180_000);
});
