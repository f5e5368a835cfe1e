/**
 * Two daemon instances (separate processes, daemon/server.ts over core/runtime/online-reader.ts)
 * reading one Redis return identical features for the same key and `asOf`, equal to the brute-force
 * oracle of the events the engine flushed there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../../core/runtime/engine.js';
import { FileCheckpointStore } from '../../../core/checkpoint/file-store.js';
import { RedisOnlineStore } from '../../../adapters/online/redis/store.js';
import { testLogger } from '../../../plugins/testkit/logger.js';
import { startRedis, type RedisServer } from '../../services/redis.js';
import { MIN, cardSpec, oracle, sameValues, transactions } from './support/card-spec.js';
import { GatedArraySource } from './support/gated-source.js';
import { spawnServingInstance, type ServingInstance } from './support/spawn-instance.js';

let redis: RedisServer;
let dir: string;
const instances: ServingInstance[] = [];

beforeAll(async () => {
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), 'fenestra-two-daemons-'));
});
afterAll(async () => {
  await Promise.all(instances.map((i) => i.stop()));
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('two daemons over one Redis', () => {
  it('return identical features for the same key and asOf', async () => {
    const txs = transactions(1200, 40, 1_700_000_000_000, 5);
    const engine = new Engine(cardSpec(join(dir, 'writer'), { type: 'redis', options: {} }, 20), {
      sources: new Map([['tx', new GatedArraySource(txs)]]),
      checkpointStore: new FileCheckpointStore({ dir: join(dir, 'writer', 'checkpoints') }),
      onlineStore: new RedisOnlineStore({ url: redis.url, keyPrefix: 'two:' }, testLogger()),
    });
    await engine.start();
    await engine.drained();
    await engine.stop(); // final flush

    instances.push(...(await Promise.all([0, 1].map((i) => spawnServingInstance({ type: 'redis', url: redis.url, keyPrefix: 'two:' }, join(dir, `serve${i}`))))));
    const cards = [...new Set(txs.map((t) => t.cc_num))].sort();
    const lastTs = txs[txs.length - 1]!.trans_time;
    for (const asOf of [lastTs - 30 * MIN, lastTs, lastTs + 8 * MIN, lastTs + 2 * 60 * MIN]) {
      for (const card of cards) {
        const [a, b] = await Promise.all(
          instances.map(async (inst) => {
            const res = await fetch(`${inst.base}/v1/features/cc_agg/${card}?asOf=${asOf}&request.amount=75`);
            expect(res.status).toBe(200);
            return (await res.json()) as { version: number; found: boolean; features: Record<string, number | null> };
          }),
        );
        expect(b).toEqual(a);
        const want = oracle(txs, card, asOf, { amount: 75 });
        expect(a!.version).toBe(want.version);
        expect(a!.found).toBe(true);
        expect(sameValues(a!.features, want.values)).toBe(true);
      }
    }
    // The batch route answers from the store too.
    const res = await fetch(`${instances[0]!.base}/v1/features`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ keys: cards.slice(0, 3), features: ['cc_agg:num_trans_total'], asOf: lastTs }),
    });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    const body = JSON.parse(text) as { results: Array<{ key: string; features: Record<string, number> }> };
    expect(body.results.map((r) => [r.key, r.features['cc_agg:num_trans_total'] ?? r.features['num_trans_total']])).toEqual(
      cards.slice(0, 3).map((c) => [c, oracle(txs, c, lastTs).values.num_trans_total]),
    );
  });
});
