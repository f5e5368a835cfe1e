/**
 * The Redis online store on a real 3-master Redis Cluster (ioredis's cluster client): the contract
 * cases, and keys spread over every master.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'ioredis';
import { startRedisCluster, type RedisClusterServers } from '../../services/redis-cluster.js';
import { RedisOnlineStore } from '../../../adapters/online/redis/store.js';
import { testLogger } from '../../../plugins/testkit/logger.js';
import { freshGroup, onlineStoreCases } from './online-store-cases.js';

let cluster: RedisClusterServers;
let store: RedisOnlineStore;

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  store = new RedisOnlineStore({ cluster: cluster.nodes, keyPrefix: 'cl:' }, testLogger());
  await store.open();
});
afterAll(async () => {
  await store?.close();
  await cluster?.stop();
});

describe('redis online store on a Redis Cluster: contract cases', () => {
  onlineStoreCases(() => store);
});

describe('redis online store on a Redis Cluster: specifics', () => {
  it('uses the cluster client and spreads records over every master', async () => {
    expect(store.client).toBeInstanceOf(Cluster);
    const g = freshGroup('spread');
    const recs = Array.from({ length: 300 }, (_, i) => ({ group: g, key: `k${i}`, version: 1, value: Buffer.from(String(i)) }));
    expect(await store.write(recs)).toEqual({ applied: 300, skipped: 0 });
    const masters = (store.client as Cluster).nodes('master');
    expect(masters.length).toBe(3);
    const sizes = await Promise.all(masters.map((m) => m.dbsize()));
    expect(sizes.every((n) => n > 0)).toBe(true);
    expect(await store.healthy()).toBe(true);
  });
});
