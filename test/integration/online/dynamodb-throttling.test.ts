/**
 * The DynamoDB store under throttling, against a real DynamoDB Local behind a fault-injecting proxy
 * (test/services/dynamodb-throttler.ts): BatchGetItem answers with UnprocessedKeys are completed by
 * retries with backoff; a read that stays unprocessed and writes refused with
 * ProvisionedThroughputExceeded reject with STORE_UNAVAILABLE (the engine then keeps its keys dirty
 * and retries), and work again once the throttling stops.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbOnlineStore } from '../../../adapters/online/dynamodb/store.js';
import { testLogger } from '../../../plugins/testkit/logger.js';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../services/dynamodb-local.js';
import { startDynamoDbThrottler, type DynamoDbThrottler } from '../../services/dynamodb-throttler.js';
import { freshGroup } from './online-store-cases.js';

let ddb: DynamoDbLocal;
let proxy: DynamoDbThrottler;
let store: DynamoDbOnlineStore;

beforeAll(async () => {
  ddb = await startDynamoDbLocal();
  proxy = await startDynamoDbThrottler(ddb.endpoint);
  store = new DynamoDbOnlineStore(
    { endpoint: proxy.endpoint, region: ddb.region, credentials: ddb.credentials, table: 'throttled', createTable: true, maxAttempts: 2 },
    testLogger(),
  );
  await store.open();
});
afterAll(async () => {
  await store?.close();
  await proxy?.stop();
  await ddb?.stop();
});

describe('dynamodb online store under throttling', () => {
  it('completes reads whose BatchGetItem answers leave UnprocessedKeys, retrying with backoff', async () => {
    const g = freshGroup('unprocessed');
    const keys = Array.from({ length: 230 }, (_, i) => `k${i}`);
    await store.write(keys.map((key, i) => ({ group: g, key, version: i + 1, value: Buffer.from(key) })));
    proxy.deferRatio = 0.5; // 100 keys: 50, 25, 12, 6, 3, 1 deferred: 7 rounds, within the default 8 retries
    const before = { ...proxy.stats };
    try {
      const rows = await store.read(g, [...keys, 'missing'], Date.now());
      expect(rows.slice(0, -1).map((r) => (r === null ? null : Buffer.from(r.value).toString()))).toEqual(keys);
      expect(rows.at(-1)).toBeNull();
    } finally {
      proxy.deferRatio = 0;
    }
    expect(proxy.stats.deferred - before.deferred).toBeGreaterThan(100);
    expect(proxy.stats.batchGets - before.batchGets).toBeGreaterThan(3); // 3 chunks, then retry rounds
  });

  it('rejects a read that stays unprocessed with STORE_UNAVAILABLE', async () => {
    const g = freshGroup('starved');
    await store.write([{ group: g, key: 'a', version: 1, value: Buffer.from('a') }]);
    const impatient = new DynamoDbOnlineStore(
      { endpoint: proxy.endpoint, region: ddb.region, credentials: ddb.credentials, table: 'throttled', unprocessedRetries: 2 },
      testLogger(),
    );
    proxy.deferRatio = 1;
    try {
      await expect(impatient.read(g, ['a'], Date.now())).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', message: expect.stringMatching(/unprocessed after 2 retries/) });
    } finally {
      proxy.deferRatio = 0;
      await impatient.close();
    }
    expect((await store.read(g, ['a'], Date.now()))[0]?.version).toBe(1);
  });

  it('rejects throttled writes with STORE_UNAVAILABLE, and applies them once throttling stops', async () => {
    const g = freshGroup('wthrottle');
    const recs = Array.from({ length: 20 }, (_, i) => ({ group: g, key: `w${i}`, version: 1, value: Buffer.from('w') }));
    proxy.throttleWrites = true;
    try {
      await expect(store.write(recs)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', message: expect.stringMatching(/ProvisionedThroughputExceeded/) });
      expect(proxy.stats.throttledWrites).toBeGreaterThanOrEqual(2); // the SDK retried before giving up
    } finally {
      proxy.throttleWrites = false;
    }
    expect(await store.write(recs)).toEqual({ applied: 20, skipped: 0 });
  });
});
