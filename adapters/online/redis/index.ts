/**
 * The built-in `redis` online store (alias `redis` in adapters/registry.ts).
 *
 * ```yaml
 * online: { type: redis, url: redis://127.0.0.1:6379, keyPrefix: "fenestra:" }
 * online: { type: redis, cluster: ["10.0.0.1:7000", "10.0.0.2:7000"] }
 * ```
 */
import { definePlugin, type OnlineStorePluginDefinition, type PLUGIN_BRAND } from '../../../core/contracts/plugin.js';
import { ENGINE_VERSION_RANGE } from '../shared/engine-range.js';
import { redisConfigSchema, type RedisOnlineConfig } from './config.js';
import { RedisOnlineStore } from './store.js';

const redisPlugin: OnlineStorePluginDefinition<RedisOnlineConfig> & { readonly [PLUGIN_BRAND]: true } = definePlugin({
  name: 'redis',
  kind: 'online-store',
  engine: ENGINE_VERSION_RANGE,
  description: 'Redis (single server or Cluster) online store: Lua compare-and-set on the version, pipelined reads, TTL.',
  configSchema: redisConfigSchema,
  create: (config, ctx) => new RedisOnlineStore(config, ctx.logger, ctx.groups ?? []),
});
export default redisPlugin;

export { RedisOnlineStore } from './store.js';
export type { RedisOnlineConfig } from './config.js';
