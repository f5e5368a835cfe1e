/**
 * Fault test: the real engine flushes to a real redis-server (AOF, fsync always) that is SIGKILLed
 * mid-stream and started again on the same port. While it is down the flushes fail and the engine
 * keeps its keys dirty; once it is back they are flushed. Every card's record in Redis, decoded and
 * finalized with core/window's readEncoded, must then equal a brute-force oracle of the events —
 * nothing lost, nothing counted twice — and carry the card's event count as its version.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../../core/runtime/engine.js';
import { FileCheckpointStore } from '../../../core/checkpoint/file-store.js';
import { readEncoded } from '../../../core/window/index.js';
import { RedisOnlineStore } from '../../../adapters/online/redis/store.js';
import { testLogger } from '../../../plugins/testkit/logger.js';
import { startRedis, type RedisServer } from '../../services/redis.js';
import { MIN, cardSpec, ccAgg, oracle, sameValues, transactions, txSource } from './support/card-spec.js';
import { GatedArraySource } from './support/gated-source.js';

let server: RedisServer;
let dir: string;

beforeAll(async () => {
  server = await startRedis({ persistence: 'aof' });
  dir = mkdtempSync(join(tmpdir(), 'fenestra-redis-fault-'));
});
afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('redis online store under a server crash', () => {
  it('loses and double-counts nothing when redis-server is killed mid-stream and restarted (AOF)', async () => {
    // Cards 5… appear only before the crash: they survive it only through Redis's AOF, never by a re-flush.
    const before = transactions(2000, 100, 1_700_000_000_000, 7, '5');
    const txs = [...before, ...transactions(4000, 300, before[before.length - 1]!.trans_time, 11, '4')];
    const source = new GatedArraySource(txs, 2000);
    const store = new RedisOnlineStore({ url: server.url, keyPrefix: 'fault:', commandTimeoutMs: 1000 }, testLogger());
    const engine = new Engine(cardSpec(dir, { type: 'redis', options: {} }, 25), {
      sources: new Map([['tx', source]]),
      checkpointStore: new FileCheckpointStore({ dir: join(dir, 'checkpoints') }),
      onlineStore: store,
      batchSize: 250,
    });
    await engine.start();
    try {
      const st = () => engine.stats();
      // Phase 1: a third of the stream, flushed while Redis is up.
      await until('first third applied and flushed', () => st().eventsApplied === 2000 && st().online.pending === 0 && st().online.flushes > 0);
      // Phase 2: the next third flows while Redis is killed under it.
      source.release(4000);
      await new Promise((r) => setTimeout(r, 5));
      await server.kill();
      await until('second third applied', () => st().eventsApplied === 4000);
      await until('flushes failing while Redis is down', () => st().online.failures >= 2 && !st().online.healthy);
      expect(st().online.pending).toBeGreaterThan(0);
      // Phase 3: Redis comes back (same port, its AOF replayed); the rest of the stream follows.
      await server.restart();
      source.release(6000);
      await engine.drained();
      await until('everything flushed after the restart', () => st().online.pending === 0 && st().online.healthy, 60_000);
      expect(st().eventsApplied).toBe(6000);
    } finally {
      await engine.stop();
    }

    // Read back through a fresh store (another "instance"), finalize windows, compare with the oracle.
    const reader = new RedisOnlineStore({ url: server.url, keyPrefix: 'fault:' }, testLogger());
    await reader.open();
    try {
      const cards = [...new Set(txs.map((t) => t.cc_num))].sort();
      const lastTs = txs[txs.length - 1]!.trans_time;
      const rows = await reader.read('cc_agg', cards, Date.now());
      const mismatches: string[] = [];
      for (const asOf of [lastTs, lastTs + 7 * MIN, lastTs + 61 * MIN]) {
        rows.forEach((row, i) => {
          const card = cards[i]!;
          const want = oracle(txs, card, asOf);
          if (row === null) {
            mismatches.push(`${card}: missing in Redis`);
            return;
          }
          if (row.version !== want.version) mismatches.push(`${card}: version ${row.version}, want ${want.version}`);
          const got = readEncoded(ccAgg, txSource, row.value, asOf);
          if (!sameValues(got.values, want.values)) {
            mismatches.push(`${card} @${asOf}: ${JSON.stringify(got.values)} != oracle ${JSON.stringify(want.values)}`);
          }
        });
      }
      expect(mismatches.slice(0, 5)).toEqual([]);
      expect(rows.every((r) => r !== null)).toBe(true);
    } finally {
      await reader.close();
    }
  });
});
