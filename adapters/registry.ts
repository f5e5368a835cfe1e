/**
 * Built-in adapters by the alias a config names in `type:`. Each entry loads its module lazily, so
 * a config that uses only `http` never loads kafkajs or the AWS SDK. The module's default export
 * must be a plugin made with `definePlugin` (core/contracts/plugin.ts); `config/plugins.ts` checks it.
 *
 * Registration point: one line per alias, `alias: () => import('./<kind>/<name>/index.js'),`.
 */
export const BUILTIN_ADAPTERS: Readonly<Record<string, () => Promise<unknown>>> = {
  // --- sources ---
  http: () => import('./sources/push/http.js'),
  websocket: () => import('./sources/push/websocket.js'),
  file: () => import('./sources/file/index.js'),
  kafka: () => import('./sources/kafka/index.js'),
  kinesis: () => import('./sources/kinesis/index.js'),
  // --- online stores ---
  redis: () => import('./online/redis/index.js'),
  dynamodb: () => import('./online/dynamodb/index.js'),
  memory: () => import('./online/memory/index.js'),
  embedded: () => import('./online/embedded/index.js'),
  // --- offline stores ---
  parquet: () => import('./offline/parquet/index.js'),
};

/**
 * Every alias Fenestra ships or will ship. An alias listed here but absent from
 * `BUILTIN_ADAPTERS` is reported as "not available in this build" instead of being looked up as
 * an npm package of the same name.
 */
export const KNOWN_ALIASES: readonly string[] = [
  'http', 'websocket', 'file', 'kafka', 'kinesis', 'embedded', 'redis', 'dynamodb', 'parquet',
];
