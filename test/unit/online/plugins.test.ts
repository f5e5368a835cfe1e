/**
 * The redis and dynamodb online-store plugins as the loader sees them: registered aliases, branded
 * definitions, config schemas that accept the documented shapes and refuse bad ones with the field
 * path, and the client construction path (single server, TLS, cluster) — without connecting.
 */
import { describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import { Cluster, Redis } from 'ioredis';
import { isPlugin } from '../../../core/contracts/plugin.js';
import { BUILTIN_ADAPTERS } from '../../../adapters/registry.js';
import { RedisOnlineStore, createRedisClient, redisClientOptions, redisClusterOptions } from '../../../adapters/online/redis/store.js';
import { parseClusterNode } from '../../../adapters/online/redis/config.js';
import { DynamoDbOnlineStore } from '../../../adapters/online/dynamodb/store.js';
import { testLogger } from '../../../plugins/testkit/logger.js';

const ctx = { logger: testLogger(), baseDir: '.', engineVersion: '0.1.0', groups: ['cc_agg'] };

async function plugin(alias: string) {
  const mod = (await BUILTIN_ADAPTERS[alias]!()) as { default: unknown };
  expect(isPlugin(mod.default)).toBe(true);
  return mod.default as { kind: string; name: string; configSchema: object; create(c: unknown, x: typeof ctx): unknown };
}

function validator(schema: object) {
  const v = new Ajv({ allErrors: true }).compile(schema);
  return (c: unknown) => (v(c) ? [] : (v.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));
}

describe('redis plugin', () => {
  it('is registered as `redis`, validates its config and builds a store', async () => {
    const p = await plugin('redis');
    expect(p.kind).toBe('online-store');
    const check = validator(p.configSchema);
    expect(check({ url: 'redis://127.0.0.1:6379', keyPrefix: 'f:', groupPrefixes: { cc_agg: 'cards:' } })).toEqual([]);
    expect(check({ cluster: ['10.0.0.1:7000', { host: '10.0.0.2', port: 7001 }], tls: { rejectUnauthorized: false } })).toEqual([]);
    expect(check({ url: 'http://x' })).toEqual(['/url must match pattern "^rediss?://"']);
    expect(check({ cluster: ['nohost'] }).some((e) => e.startsWith('/cluster/0'))).toBe(true);
    expect(check({ commandTimeoutMs: 0 })).toEqual(['/commandTimeoutMs must be >= 1']);
    expect(check({ urll: 'redis://x' })).toEqual([' must NOT have additional properties']);
    const store = p.create({ url: 'redis://127.0.0.1:6390' }, ctx);
    expect(store).toBeInstanceOf(RedisOnlineStore);
    expect((store as RedisOnlineStore).keyOf('cc_agg', '4111')).toBe('fenestra:cc_agg:4111');
    (store as RedisOnlineStore).client.disconnect();
  });

  it('builds a single-server client that fails fast while disconnected, with TLS when asked', () => {
    const o = redisClientOptions({ tls: { servername: 'cache.internal' }, password: 'pw', commandTimeoutMs: 250 });
    expect(o).toMatchObject({ lazyConnect: true, enableOfflineQueue: false, commandTimeout: 250, password: 'pw', tls: { servername: 'cache.internal' } });
    expect(redisClientOptions({}).tls).toBeUndefined();
    const c = createRedisClient({ url: 'rediss://u:p@cache.example:6380/2' });
    expect(c).toBeInstanceOf(Redis);
    expect((c as Redis).options).toMatchObject({ host: 'cache.example', port: 6380, db: 2, username: 'u', password: 'p' });
    expect((c as Redis).options.tls).toBeDefined();
    c.disconnect();
  });

  it('builds an ioredis cluster client from `cluster` seed nodes', () => {
    expect(parseClusterNode('10.0.0.1:7000')).toEqual({ host: '10.0.0.1', port: 7000 });
    expect(parseClusterNode({ host: 'h', port: 1 })).toEqual({ host: 'h', port: 1 });
    const cfg = { cluster: ['10.0.0.1:7000', { host: '10.0.0.2', port: 7001 }], password: 'pw', tls: true } as const;
    const c = createRedisClient(cfg);
    expect(c).toBeInstanceOf(Cluster);
    const o = redisClusterOptions(cfg);
    expect(o.redisOptions).toMatchObject({ password: 'pw', tls: {} });
    expect(o.redisOptions).not.toHaveProperty('lazyConnect');
    expect(o.autoPipeliningIgnoredCommands).toContain('evalsha');
    expect((c as unknown as { startupNodes: unknown }).startupNodes).toEqual([{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7001 }]);
    c.disconnect();
    const store = new RedisOnlineStore(cfg, testLogger(), []);
    expect(store.client).toBeInstanceOf(Cluster);
    store.client.disconnect();
  });
});

describe('dynamodb plugin', () => {
  it('is registered as `dynamodb`, validates its config and builds a store', async () => {
    const p = await plugin('dynamodb');
    expect(p.kind).toBe('online-store');
    const check = validator(p.configSchema);
    expect(check({ table: 'fenestra_online', region: 'eu-west-1', endpoint: 'http://127.0.0.1:8000', createTable: true, writeMode: 'transact' })).toEqual([]);
    expect(check({ table: 'x' })).toEqual(['/table must match pattern "^[A-Za-z0-9_.-]{3,255}$"']);
    expect(check({ writeMode: 'batch' })).toEqual(['/writeMode must be equal to one of the allowed values']);
    expect(check({ credentials: { accessKeyId: 'a' } })).toEqual(["/credentials must have required property 'secretAccessKey'"]);
    const store = p.create({ table: 'tbl', tables: { cc_agg: 'cards' } }, ctx) as DynamoDbOnlineStore;
    expect(store).toBeInstanceOf(DynamoDbOnlineStore);
    expect(store.tableOf('cc_agg')).toBe('cards');
    expect(store.tableOf('other')).toBe('tbl');
    expect(store.tables()).toEqual(['cards']);
    await store.close();
    expect(() => p.create({ tables: { nope: 'x_tbl' } }, ctx)).toThrow(/online\.tables\.nope: unknown feature group/);
  });
});
