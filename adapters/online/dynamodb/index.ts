/**
 * The built-in `dynamodb` online store (alias `dynamodb` in adapters/registry.ts).
 *
 * ```yaml
 * online: { type: dynamodb, table: fenestra_online, region: us-east-1, endpoint: "http://127.0.0.1:8000", createTable: true }
 * ```
 */
import { definePlugin, type OnlineStorePluginDefinition, type PLUGIN_BRAND } from '../../../core/contracts/plugin.js';
import { ENGINE_VERSION_RANGE } from '../shared/engine-range.js';
import { dynamoDbConfigSchema, type DynamoDbOnlineConfig } from './config.js';
import { DynamoDbOnlineStore } from './store.js';

const dynamoDbPlugin: OnlineStorePluginDefinition<DynamoDbOnlineConfig> & { readonly [PLUGIN_BRAND]: true } = definePlugin({
  name: 'dynamodb',
  kind: 'online-store',
  engine: ENGINE_VERSION_RANGE,
  description: 'Amazon DynamoDB online store: conditional puts on the version, BatchGetItem reads, TTL, table creation.',
  configSchema: dynamoDbConfigSchema,
  create: (config, ctx) => new DynamoDbOnlineStore(config, ctx.logger, ctx.groups ?? []),
});
export default dynamoDbPlugin;

export { DynamoDbOnlineStore } from './store.js';
export type { DynamoDbOnlineConfig } from './config.js';
