/**
 * The Redis online store against a real redis-server (started by test/services/redis.ts): the
 * contract cases, plus what is Redis-specific (the key layout and TTL, NOSCRIPT after a restart,
 * failing fast while the server is down).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../../services/redis.js';
import { RedisOnlineStore } from '../../../adapters/online/redis/store.js';
import { testLogger } from '../../../plugins/testkit/logger.js';
import { freshGroup, onlineStoreCases } from './online-store-cases.js';

let server: RedisServer;
let store: RedisOnlineStore;
let raw: Redis;

beforeAll(async () => {
  server = await startRedis({ persistence: 'aof' });
  store = new RedisOnlineStore({ url: server.url, keyPrefix: 'it:' }, testLogger());
  await store.open();
  raw = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await raw.connect();
});

afterAll(async () => {
  await store?.close();
  raw?.disconnect();
  await server?.stop();
});

describe('redis online store: contract cases', () => {
  onlineStoreCases(() => store);
});

describe('redis online store: specifics', () => {
  it('stores one packed string per record under <keyPrefix><group>:<key> with a Redis TTL at expiresAt', async () => {
    const g = freshGroup('layout');
    const exp = Date.now() + 3_600_000;
    await store.write([{ group: g, key: 'k1', version: 42, value: Buffer.from('abc'), expiresAt: exp }]);
    expect(await raw.get(`it:${g}:k1`)).toBe(`42:${exp}:abc`);
    expect(await raw.pexpiretime(`it:${g}:k1`)).toBe(exp);
    await store.write([{ group: g, key: 'k1', version: 43, value: Buffer.from('d:e:f') }]);
    expect(await raw.get(`it:${g}:k1`)).toBe('43::d:e:f');
    expect(await raw.pttl(`it:${g}:k1`)).toBe(-1);
    // A record already past its expiry is not kept by Redis at all.
    await store.write([{ group: g, key: 'k2', version: 1, value: Buffer.from('x'), expiresAt: Date.now() - 1000 }]);
    expect(await raw.exists(`it:${g}:k2`)).toBe(0);
    // Versions compare as numbers, not as text.
    await store.write([{ group: g, key: 'k3', version: 9, value: Buffer.from('9') }]);
    expect(await store.write([{ group: g, key: 'k3', version: 10, value: Buffer.from('10') }])).toEqual({ applied: 1, skipped: 0 });
    expect(await store.write([{ group: g, key: 'k3', version: 1_700_000_000_000, value: Buffer.from('big') }])).toEqual({ applied: 1, skipped: 0 });
    expect(await store.write([{ group: g, key: 'k3', version: 999_999_999_999, value: Buffer.from('less') }])).toEqual({ applied: 0, skipped: 1 });
  });

  it('honours per-group prefixes', async () => {
    const g = freshGroup('pfx');
    const s2 = new RedisOnlineStore({ url: server.url, keyPrefix: 'app/', groupPrefixes: { [g]: 'cards/' } }, testLogger(), [g]);
    await s2.open();
    try {
      await s2.write([{ group: g, key: '4111', version: 1, value: Buffer.from('x') }]);
      expect(await raw.get('app/cards/4111')).toBe('1::x');
      expect((await s2.read(g, ['4111'], Date.now()))[0]?.version).toBe(1);
    } finally {
      await s2.close();
    }
  });

  it('reloads its scripts after SCRIPT FLUSH (a restarted server has none)', async () => {
    await raw.script('FLUSH');
    const g = freshGroup('noscript');
    expect(await store.write([{ group: g, key: 'a', version: 1, value: Buffer.from('1') }])).toEqual({ applied: 1, skipped: 0 });
    await raw.script('FLUSH');
    await store.delete(g, 'a', 1);
    expect(await store.read(g, ['a'], Date.now())).toEqual([null]);
  });

  it('reports health, rejects writes while the server is down, and works again after a restart (AOF kept the data)', async () => {
    const g = freshGroup('down');
    await store.write([{ group: g, key: 'kept', version: 3, value: Buffer.from('K') }]);
    expect(await store.healthy()).toBe(true);
    await server.kill();
    await expect(store.write([{ group: g, key: 'x', version: 1, value: Buffer.from('x') }])).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await expect(store.read(g, ['kept'], Date.now())).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(await store.healthy()).toBe(false);
    await server.restart();
    const deadline = Date.now() + 30_000;
    while (!(await store.healthy())) {
      if (Date.now() > deadline) throw new Error('the store did not reconnect within 30 s of the restart');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await store.read(g, ['kept'], Date.now()))[0]?.version).toBe(3);
    expect(await store.write([{ group: g, key: 'x', version: 1, value: Buffer.from('x') }])).toEqual({ applied: 1, skipped: 0 });
  });

  it('refuses a per-group prefix for a group the config does not have', () => {
    expect(() => new RedisOnlineStore({ url: server.url, groupPrefixes: { nope: 'x/' } }, testLogger(), ['cards'])).toThrow(
      /online\.groupPrefixes\.nope: unknown feature group/,
    );
  });

  it('fails open() with STORE_UNAVAILABLE when nothing listens', async () => {
    const s = new RedisOnlineStore({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 500 }, testLogger());
    await expect(s.open()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    s.client.disconnect();
  });
});

describe('redis online store over TLS', () => {
  let tlsServer: RedisServer | undefined;
  afterAll(async () => {
    await tlsServer?.stop();
  });

  it('connects with rediss:// and a trusted CA, and refuses a server it cannot verify', async () => {
    tlsServer = await startRedis({ tls: true });
    expect(tlsServer.url.startsWith('rediss://')).toBe(true);
    const s = new RedisOnlineStore({ url: tlsServer.url, tls: { ca: tlsServer.caPem! } }, testLogger());
    await s.open();
    try {
      const g = freshGroup('tls');
      expect(await s.write([{ group: g, key: 'k', version: 1, value: Buffer.from('secret') }])).toEqual({ applied: 1, skipped: 0 });
      expect(Buffer.from((await s.read(g, ['k'], Date.now()))[0]!.value).toString()).toBe('secret');
    } finally {
      await s.close();
    }
    const untrusting = new RedisOnlineStore({ url: tlsServer.url, connectTimeoutMs: 2000 }, testLogger());
    await expect(untrusting.open()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', message: expect.stringMatching(/certificate/i) });
    untrusting.client.disconnect();
  });
});
