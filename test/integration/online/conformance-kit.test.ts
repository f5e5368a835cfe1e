/**
 * The exported conformance kit (fenestra/testkit) run against the built-in Redis (single server and a
 * 3-master Redis Cluster) and DynamoDB (both write modes) online stores, each on its real backend and
 * created through its plugin definition with the config block a user would write — the same proof a
 * third-party adapter gives. (The memory store runs the kit in test/conformance/memory-online-store.test.ts.)
 */
import { describeOnlineStoreConformance, testLogger } from '../../../plugins/testkit/index.js';
import type { OnlineStore, Plugin } from '../../../plugins/sdk/index.js';
import { ENGINE_VERSION } from '../../../core/version.js';
import { startRedis, type RedisServer } from '../../services/redis.js';
import { startRedisCluster, type RedisClusterServers } from '../../services/redis-cluster.js';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../services/dynamodb-local.js';
import redisPlugin from '../../../adapters/online/redis/index.js';
import dynamoDbPlugin from '../../../adapters/online/dynamodb/index.js';

async function create(plugin: Plugin, config: Record<string, unknown>, groups: readonly string[]): Promise<OnlineStore> {
  if (plugin.kind !== 'online-store') throw new Error(`${plugin.name} is not an online store`);
  return (await plugin.create(config, { logger: testLogger(), baseDir: process.cwd(), engineVersion: ENGINE_VERSION, groups })) as OnlineStore;
}

let redis: RedisServer | undefined;
describeOnlineStoreConformance('redis (built-in, single server)', {
  setup: async () => {
    redis = await startRedis();
  },
  teardown: async () => {
    await redis?.stop();
  },
  createStore: (groups) => create(redisPlugin, { url: redis!.url }, groups),
});

let cluster: RedisClusterServers | undefined;
describeOnlineStoreConformance('redis (built-in, Redis Cluster of 3 masters)', {
  setup: async () => {
    cluster = await startRedisCluster(3);
  },
  teardown: async () => {
    await cluster?.stop();
  },
  createStore: (groups) => create(redisPlugin, { cluster: [...cluster!.nodes], keyPrefix: 'kit:' }, groups),
});

let ddb: DynamoDbLocal | undefined;
for (const writeMode of ['put', 'transact'] as const) {
  describeOnlineStoreConformance(`dynamodb (built-in, DynamoDB Local, writeMode ${writeMode})`, {
    setup: async () => {
      ddb ??= await startDynamoDbLocal();
    },
    teardown: async () => {
      if (writeMode === 'transact') await ddb?.stop();
    },
    createStore: (groups) =>
      create(dynamoDbPlugin, { endpoint: ddb!.endpoint, region: ddb!.region, credentials: { ...ddb!.credentials }, table: `kit_${writeMode}`, createTable: true, writeMode }, groups),
  });
}
