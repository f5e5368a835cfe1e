import { definePlugin } from 'fenestra/plugin';
import { postgresConfigSchema, type PostgresOnlineStoreConfig } from './config.js';
import { PostgresOnlineStore } from './store.js';

/**
 * A PostgreSQL online store for Fenestra. Use it with one line of config:
 *
 * ```yaml
 * online: { type: fenestra-example-postgres-online-store, url: "postgres://fenestra@127.0.0.1:5432/fenestra" }
 * ```
 */
const plugin = definePlugin({
  name: 'fenestra-example-postgres-online-store',
  kind: 'online-store',
  engine: '^0.1.0',
  description: 'Online store in a PostgreSQL table, version-guarded with INSERT ... ON CONFLICT DO UPDATE WHERE',
  configSchema: postgresConfigSchema,
  create: (config: PostgresOnlineStoreConfig, ctx) => new PostgresOnlineStore(config, ctx.logger.child({ plugin: 'postgres-online-store' })),
});

export default plugin;
export { PostgresOnlineStore };
export type { PostgresOnlineStoreConfig };
