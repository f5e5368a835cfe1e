/**
 * The exported conformance kit (fenestra/testkit) run against the built-in Redis and DynamoDB
 * online stores, each on its real backend — the same proof a third-party adapter gives.
 */
import { describeOnlineStoreConformance } from '../../../plugins/testkit/online-store.js';
import { testLogger } from '../../../plugins/testkit/logger.js';
import { startRedis, type RedisServer } from '../../services/redis.js';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../services/dynamodb-local.js';
import { RedisOnlineStore } from '../../../adapters/online/redis/store.js';
import { DynamoDbOnlineStore } from '../../../adapters/online/dynamodb/store.js';

let redis: RedisServer | undefined;
describeOnlineStoreConformance('redis', {
  setup: async () => {
    redis = await startRedis();
  },
  teardown: async () => {
    await redis?.stop();
  },
  createStore: (groups) => new RedisOnlineStore({ url: redis!.url }, testLogger(), groups),
});

let ddb: DynamoDbLocal | undefined;
for (const writeMode of ['put', 'transact'] as const) {
  describeOnlineStoreConformance(`dynamodb (${writeMode})`, {
    setup: async () => {
      ddb ??= await startDynamoDbLocal();
    },
    teardown: async () => {
      if (writeMode === 'transact') await ddb?.stop();
    },
    createStore: (groups) =>
      new DynamoDbOnlineStore(
        { endpoint: ddb!.endpoint, region: ddb!.region, credentials: ddb!.credentials, table: `kit_${writeMode}`, createTable: true, writeMode },
        testLogger(),
        groups,
      ),
  });
}
