/**
 * The DynamoDB online store against a real DynamoDB Local (Maven Central jars, started by
 * test/services/dynamodb-local.ts): the contract cases in both write modes, plus table creation,
 * per-group tables and failing while the endpoint is down.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeTimeToLiveCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../services/dynamodb-local.js';
import { DynamoDbOnlineStore, newestPerKey } from '../../../adapters/online/dynamodb/store.js';
import type { DynamoDbOnlineConfig } from '../../../adapters/online/dynamodb/config.js';
import { testLogger } from '../../../plugins/testkit/logger.js';
import { freshGroup, onlineStoreCases } from './online-store-cases.js';

let ddb: DynamoDbLocal;
const cfg = (extra: Partial<DynamoDbOnlineConfig> = {}): DynamoDbOnlineConfig => ({
  endpoint: ddb.endpoint,
  region: ddb.region,
  credentials: ddb.credentials,
  createTable: true,
  ...extra,
});

beforeAll(async () => {
  ddb = await startDynamoDbLocal();
});
afterAll(async () => {
  await ddb?.stop();
});

for (const writeMode of ['put', 'transact'] as const) {
  describe(`dynamodb online store (${writeMode}): contract cases`, () => {
    let store: DynamoDbOnlineStore;
    beforeAll(async () => {
      store = new DynamoDbOnlineStore(cfg({ table: `it_${writeMode}`, writeMode }), testLogger());
      await store.open();
    });
    afterAll(async () => {
      await store?.close();
    });
    onlineStoreCases(() => store);
  });
}

describe('dynamodb online store: specifics', () => {
  it('creates its tables with TTL on `ttl`, stores pk/v/d/e/ttl, and uses per-group tables', async () => {
    const g = freshGroup('tbl');
    const store = new DynamoDbOnlineStore(cfg({ table: 'it_default', tables: { [g]: 'it_per_group' } }), testLogger(), [g, 'other']);
    await store.open();
    try {
      expect(store.tables().sort()).toEqual(['it_default', 'it_per_group']);
      const exp = 1_900_000_000_123;
      await store.write([{ group: g, key: 'k', version: 7, value: Buffer.from('v'), expiresAt: exp }]);
      const got = await store.client.send(new GetItemCommand({ TableName: 'it_per_group', Key: { pk: { S: `${g}#k` } } }));
      expect(got.Item?.v?.N).toBe('7');
      expect(got.Item?.e?.N).toBe(String(exp));
      expect(got.Item?.ttl?.N).toBe('1900000001');
      const ttl = await store.client.send(new DescribeTimeToLiveCommand({ TableName: 'it_per_group' }));
      expect(ttl.TimeToLiveDescription?.AttributeName).toBe('ttl');
      // Opening again (tables exist, TTL already on) is fine.
      const again = new DynamoDbOnlineStore(cfg({ table: 'it_default', tables: { [g]: 'it_per_group' } }), testLogger(), [g]);
      await again.open();
      expect((await again.read(g, ['k'], Date.now()))[0]?.version).toBe(7);
      await again.close();
    } finally {
      await store.close();
    }
  });

  it('reads more than 100 keys (several BatchGetItem calls) in request order', async () => {
    const store = new DynamoDbOnlineStore(cfg({ table: 'it_many' }), testLogger());
    await store.open();
    try {
      const g = freshGroup('many');
      const keys = Array.from({ length: 250 }, (_, i) => `k${i}`);
      await store.write(keys.filter((_, i) => i % 3 !== 0).map((key, i) => ({ group: g, key, version: i + 1, value: Buffer.from(key) })));
      const rows = await store.read(g, [...keys].reverse(), Date.now());
      expect(rows.map((r) => (r === null ? null : Buffer.from(r.value).toString()))).toEqual(
        [...keys].reverse().map((k) => (Number(k.slice(1)) % 3 === 0 ? null : k)),
      );
    } finally {
      await store.close();
    }
  });

  it('fails open() on a missing table when createTable is off', async () => {
    const store = new DynamoDbOnlineStore(cfg({ table: 'it_absent', createTable: false }), testLogger());
    await expect(store.open()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await store.close();
  });

  it('rejects writes and reads with STORE_UNAVAILABLE while the endpoint is down, and reports unhealthy', async () => {
    const dead = await startDynamoDbLocal();
    const store = new DynamoDbOnlineStore(
      { endpoint: dead.endpoint, region: dead.region, credentials: dead.credentials, createTable: true, table: 'it_dead', maxAttempts: 1, requestTimeoutMs: 1000 },
      testLogger(),
    );
    await store.open();
    expect(await store.healthy()).toBe(true);
    await dead.kill();
    const g = freshGroup('dead');
    await expect(store.write([{ group: g, key: 'a', version: 1, value: Buffer.from('a') }])).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await expect(store.read(g, ['a'], Date.now())).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(await store.healthy()).toBe(false);
    await store.close();
  });
});

describe('newestPerKey', () => {
  it('keeps the first record of each key with its highest version, in batch order', () => {
    const r = (key: string, version: number, tag: string) => ({ group: 'g', key, version, value: Buffer.from(tag) });
    const { kept, dropped } = newestPerKey([r('a', 1, 'a1'), r('b', 5, 'b5'), r('a', 3, 'a3'), r('b', 5, 'b5bis'), r('a', 2, 'a2')]);
    expect(kept.map((x) => x.value.toString())).toEqual(['b5', 'a3']);
    expect(dropped).toBe(3);
  });
});
