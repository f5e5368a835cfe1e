/**
 * End to end through the real daemon (daemon/assemble.ts) with `online: { type: redis }` in the
 * shipped config: events pushed over HTTP are flushed to a real Redis; an independent reader serving
 * from that Redis (core/runtime/online-reader.ts) returns exactly what the daemon serves from memory —
 * tiled 7d/30d windows, derived features with request fields — at several `asOf` instants.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../config/load.js';
import { startDaemon, type Daemon } from '../../../daemon/assemble.js';
import { OnlineFeatureReader } from '../../../core/runtime/online-reader.js';
import { RedisOnlineStore } from '../../../adapters/online/redis/store.js';
import { testLogger } from '../../../plugins/testkit/logger.js';
import { startRedis, type RedisServer } from '../../services/redis.js';

let redis: RedisServer;
let dir: string;
let daemon: Daemon | undefined;

beforeAll(async () => {
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), 'fenestra-daemon-redis-'));
});
afterAll(async () => {
  await daemon?.stop();
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function configFile(): string {
  const base = readFileSync(new URL('../../../config/fenestra.yaml', import.meta.url), 'utf8');
  const i = base.indexOf('\nonline:');
  if (i < 0) throw new Error('config/fenestra.yaml has no top-level online: block');
  const rest = base.slice(i + 1).split('\n');
  let end = 1;
  while (end < rest.length && (rest[end]!.startsWith(' ') || rest[end]!.trim() === '')) end++;
  const online = `online:\n  type: redis\n  url: ${redis.url}\n  keyPrefix: "e2e:"`;
  const text = `${base.slice(0, i + 1)}${online}\n${rest.slice(end).join('\n')}`
    .replace(/^ {2}dir: .*$/m, `  dir: ${join(dir, 'state')}\n  flushInterval: 50ms`);
  const path = join(dir, 'fenestra.yaml');
  writeFileSync(path, text);
  return path;
}

describe('fenestra daemon with a Redis online store', () => {
  it('flushes pushed events to Redis; reads from Redis equal the daemon\'s', async () => {
    const spec = await loadConfig(configFile());
    expect(spec.online.type).toBe('redis');
    daemon = await startDaemon(spec, { port: 0, processMetrics: false });
    await daemon.ready;

    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const cards = Array.from({ length: 12 }, (_, i) => `44735935034845${String(i).padStart(2, '0')}`);
    const events = Array.from({ length: 600 }, (_, i) => ({
      cc_num: cards[(i * 7) % cards.length],
      amount: 5 + ((i * 37) % 400),
      trans_time: new Date(t0 + i * 20 * 60_000).toISOString(), // every 20 minutes: 8+ days
    }));
    const ingest = await fetch(`${daemon.url}/v1/ingest/transactions?wait=visible`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(events),
    });
    expect(ingest.status, await ingest.text()).toBe(200);
    const engine = daemon.engine;
    const deadline = Date.now() + 40_000;
    while (engine.stats().online.pending > 0 || engine.stats().online.recordsWritten < cards.length) {
      if (Date.now() > deadline) throw new Error(`not flushed to Redis within 40 s: ${JSON.stringify(engine.stats().online)}`);
      await new Promise((r) => setTimeout(r, 20));
    }

    const store = new RedisOnlineStore({ url: redis.url, keyPrefix: 'e2e:' }, testLogger());
    await store.open();
    try {
      const reader = new OnlineFeatureReader(spec, store);
      const last = t0 + 599 * 20 * 60_000;
      for (const asOf of [last, last + 5 * 60_000, last + 3 * 86_400_000]) {
        const opts = { asOf, request: { amount: 250 } };
        const fromRedis = await reader.readMany('cc_agg', [...cards, 'unknown-card'], opts);
        const fromMemory = await engine.readMany('cc_agg', [...cards, 'unknown-card'], opts);
        expect(fromRedis).toEqual(fromMemory);
        expect(fromRedis.slice(0, -1).every((r) => r.found && r.version === 50)).toBe(true);
        expect(fromRedis.some((r) => typeof r.values.amt_ratio2 === 'number')).toBe(true);
      }
    } finally {
      await store.close();
    }
  });
});
