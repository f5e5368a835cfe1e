/**
 * Serving from a shared online store: the engine flushes to a real Redis (and DynamoDB Local); two
 * independent readers ("instances", each with its own connection) serve features from the store
 * through core/runtime/online-reader.ts. For every card and several `asOf` instants both return
 * identical features (derived ones included), equal to the engine's in-memory reads and to the
 * brute-force oracle — windows finalized at read time (a quiet card reads count_10m = 0 an hour later).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OnlineStore } from '../../../core/contracts/online-store.js';
import { Engine } from '../../../core/runtime/engine.js';
import { FileCheckpointStore } from '../../../core/checkpoint/file-store.js';
import { OnlineFeatureReader } from '../../../core/runtime/online-reader.js';
import { servingApi } from '../../../daemon/serving-api.js';
import { RedisOnlineStore } from '../../../adapters/online/redis/store.js';
import { DynamoDbOnlineStore } from '../../../adapters/online/dynamodb/store.js';
import { testLogger } from '../../../plugins/testkit/logger.js';
import { startRedis, type RedisServer } from '../../services/redis.js';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../services/dynamodb-local.js';
import { MIN, cardSpec, oracle, sameValues, transactions } from './support/card-spec.js';
import { GatedArraySource } from './support/gated-source.js';

let redis: RedisServer;
let ddb: DynamoDbLocal;
const dirs: string[] = [];

beforeAll(async () => {
  [redis, ddb] = await Promise.all([startRedis(), startDynamoDbLocal()]);
});
afterAll(async () => {
  await Promise.all([redis?.stop(), ddb?.stop()]);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const backends: Array<{ name: string; make: () => OnlineStore }> = [
  { name: 'redis', make: () => new RedisOnlineStore({ url: redis.url, keyPrefix: 'serve:' }, testLogger()) },
  {
    name: 'dynamodb',
    make: () =>
      new DynamoDbOnlineStore(
        { endpoint: ddb.endpoint, region: ddb.region, credentials: ddb.credentials, table: 'serve', createTable: true },
        testLogger(),
      ),
  },
];

for (const backend of backends) {
  describe(`features served from ${backend.name}`, () => {
    it('two instances reading one store return identical features, equal to the engine and the oracle', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'fenestra-online-reads-'));
      dirs.push(dir);
      const txs = transactions(1500, 60, 1_700_000_000_000, 3);
      const spec = cardSpec(dir, { type: backend.name, options: {} }, 20);
      const engine = new Engine(spec, {
        sources: new Map([['tx', new GatedArraySource(txs)]]),
        checkpointStore: new FileCheckpointStore({ dir: join(dir, 'checkpoints') }),
        onlineStore: backend.make(),
      });
      await engine.start();
      await engine.drained();
      const deadline = Date.now() + 40_000;
      while (engine.stats().online.pending > 0 || engine.stats().online.flushes === 0) {
        if (Date.now() > deadline) throw new Error('engine did not flush to the online store within 40 s');
        await new Promise((r) => setTimeout(r, 10));
      }

      const stores = [backend.make(), backend.make()];
      await Promise.all(stores.map((s) => s.open()));
      const [a, b] = stores.map((s) => new OnlineFeatureReader(spec, s));
      try {
        const cards = [...new Set(txs.map((t) => t.cc_num))].sort();
        const lastTs = txs[txs.length - 1]!.trans_time;
        for (const asOf of [lastTs, lastTs + 3 * MIN, lastTs + 65 * MIN]) {
          const opts = { asOf, request: { amount: 120 } };
          const [ra, rb] = await Promise.all([a!.readMany('cc_agg', [...cards, 'no-such-card'], opts), b!.readMany('cc_agg', [...cards, 'no-such-card'], opts)]);
          expect(rb).toEqual(ra);
          const mem = await engine.readMany('cc_agg', cards, opts);
          cards.forEach((card, i) => {
            const want = oracle(txs, card, asOf, { amount: 120 });
            expect(ra[i]!.found).toBe(true);
            expect(ra[i]!.version).toBe(want.version);
            expect(ra[i]!.values).toEqual(mem[i]!.values);
            expect(sameValues(ra[i]!.values, want.values)).toBe(true);
          });
          expect(ra[cards.length]).toMatchObject({ found: false, version: 0, values: { num_trans_last_10m: 0 } });
        }
        // An hour after the last event every 10-minute window has emptied (finalized at read time).
        const late = await a!.readMany('cc_agg', cards, { asOf: lastTs + 65 * MIN });
        expect(late.every((r) => r.values.num_trans_last_10m === 0 && r.values.num_trans_last_1h === 0)).toBe(true);
        // Feature selection and unknown names behave as the in-memory reader's.
        const one = await b!.read('cc_agg', cards[0]!, { asOf: lastTs, features: ['num_trans_total'] });
        expect(Object.keys(one.values)).toEqual(['num_trans_total']);
        await expect(a!.read('cc_agg', cards[0]!, { features: ['nope'] })).rejects.toMatchObject({ code: 'UNKNOWN_FEATURE' });
        await expect(a!.read('no_group', 'x')).rejects.toMatchObject({ code: 'UNKNOWN_GROUP' });
        // The daemon's API with reads from the store.
        const served = servingApi(engine, { reader: a! });
        expect(await served.read('cc_agg', cards[1]!, { asOf: lastTs })).toEqual((await a!.readMany('cc_agg', [cards[1]!], { asOf: lastTs }))[0]);
        expect(served.isReady()).toBe(true);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
        await engine.stop();
      }
    });
  });
}
