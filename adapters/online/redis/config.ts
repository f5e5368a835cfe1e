/**
 * The `online:` block for `type: redis` (the engine-owned `type` key removed). Either `url` (one
 * server, `redis://` or `rediss://` for TLS) or `cluster` (seed nodes of a Redis Cluster, used through
 * ioredis's cluster client).
 */
export interface RedisTlsConfig {
  /** Verify the server certificate (default true). */
  readonly rejectUnauthorized?: boolean;
  /** PEM CA bundle to trust (in addition to the system's). */
  readonly ca?: string;
  readonly servername?: string;
}

export interface RedisClusterNode {
  readonly host: string;
  readonly port: number;
}

export interface RedisOnlineConfig {
  /** `redis://[user:pass@]host:port[/db]` (default `redis://127.0.0.1:6379`); ignored when `cluster` is set. */
  readonly url?: string;
  /** Seed nodes of a Redis Cluster: `["10.0.0.1:7000", ...]` or `[{ host, port }]`. */
  readonly cluster?: ReadonlyArray<string | RedisClusterNode>;
  /** Prefix of every key (default `fenestra:`). A record's key is `<keyPrefix><group prefix><entity key>`. */
  readonly keyPrefix?: string;
  /** Per-group prefix after `keyPrefix` (default `<group>:`). */
  readonly groupPrefixes?: Readonly<Record<string, string>>;
  readonly username?: string;
  readonly password?: string;
  /** `true` or TLS options (a `rediss://` url turns TLS on too). */
  readonly tls?: boolean | RedisTlsConfig;
  /** A command not answered within this many ms fails (default 5000): `write` then rejects and the engine retries. */
  readonly commandTimeoutMs?: number;
  /** Connection attempt timeout in ms (default 5000). */
  readonly connectTimeoutMs?: number;
  /** Records per compare-and-set script call on a single server (default 128; cluster: 1 per key). */
  readonly writeChunkSize?: number;
}

export const redisConfigSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    url: { type: 'string', pattern: '^rediss?://' },
    cluster: {
      type: 'array',
      minItems: 1,
      items: {
        oneOf: [
          { type: 'string', pattern: '^[^:\\s]+:[0-9]{1,5}$' },
          {
            type: 'object',
            additionalProperties: false,
            required: ['host', 'port'],
            properties: { host: { type: 'string', minLength: 1 }, port: { type: 'integer', minimum: 1, maximum: 65535 } },
          },
        ],
      },
    },
    keyPrefix: { type: 'string' },
    groupPrefixes: { type: 'object', additionalProperties: { type: 'string' } },
    username: { type: 'string' },
    password: { type: 'string' },
    tls: {
      oneOf: [
        { type: 'boolean' },
        {
          type: 'object',
          additionalProperties: false,
          properties: {
            rejectUnauthorized: { type: 'boolean' },
            ca: { type: 'string' },
            servername: { type: 'string' },
          },
        },
      ],
    },
    commandTimeoutMs: { type: 'integer', minimum: 1 },
    connectTimeoutMs: { type: 'integer', minimum: 1 },
    writeChunkSize: { type: 'integer', minimum: 1, maximum: 10000 },
  },
} as const;

/** `"host:port"` or `{ host, port }` → `{ host, port }`. */
export function parseClusterNode(n: string | RedisClusterNode): RedisClusterNode {
  if (typeof n !== 'string') return { host: n.host, port: n.port };
  const i = n.lastIndexOf(':');
  return { host: n.slice(0, i), port: Number(n.slice(i + 1)) };
}
