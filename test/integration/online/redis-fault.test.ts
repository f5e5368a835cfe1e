/**
 * Fault test: redis-server (AOF, fsync always) is SIGKILLed mid-stream under the real engine and
 * started again on the same port; the final features in Redis equal the oracle (support/crash-scenario.ts).
 * Cards seen only before the crash prove the AOF kept what Redis acknowledged.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisOnlineStore } from '../../../adapters/online/redis/store.js';
import { testLogger } from '../../../plugins/testkit/logger.js';
import { startRedis, type RedisServer } from '../../services/redis.js';
import { runCrashScenario } from './support/crash-scenario.js';

let server: RedisServer;
let dir: string;

beforeAll(async () => {
  server = await startRedis({ persistence: 'aof' });
  dir = mkdtempSync(join(tmpdir(), 'fenestra-redis-fault-'));
});
afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('redis online store under a server crash', () => {
  it('loses and double-counts nothing when redis-server is killed mid-stream and restarted (AOF)', async () => {
    await runCrashScenario({
      dir,
      makeStore: () => new RedisOnlineStore({ url: server.url, keyPrefix: 'fault:', commandTimeoutMs: 1000 }, testLogger()),
      kill: () => server.kill(),
      restart: () => server.restart(),
    });
  });
});
