/**
 * A serving-only Fenestra daemon instance for the shared-store tests and the online bench: the
 * daemon's fastify app (daemon/server.ts) over an engine with no sources, whose feature reads come
 * from a Redis or DynamoDB online store (core/runtime/online-reader.ts). Run as a child process:
 *   node --import tsx serving-instance.ts '<store json: {"type":"redis",...config}>' <state-dir>
 * Prints one JSON line `{"port": N}` once listening on 127.0.0.1; exits on SIGTERM.
 */
import { join } from 'node:path';
import { Engine } from '../../../../core/runtime/engine.js';
import { FileCheckpointStore } from '../../../../core/checkpoint/file-store.js';
import { OnlineFeatureReader, withOnlineReads } from '../../../../core/runtime/online-reader.js';
import { buildServer } from '../../../../daemon/server.js';
import type { OnlineStore } from '../../../../core/contracts/online-store.js';
import { RedisOnlineStore } from '../../../../adapters/online/redis/store.js';
import { DynamoDbOnlineStore } from '../../../../adapters/online/dynamodb/store.js';
import { testLogger } from '../../../../plugins/testkit/logger.js';
import { cardSpec } from './card-spec.js';

const [json, dir] = process.argv.slice(2);
if (json === undefined || dir === undefined) {
  console.error('usage: serving-instance.ts <store-json> <state-dir>');
  process.exit(2);
}
const { type, ...options } = JSON.parse(json) as { type: 'redis' | 'dynamodb' } & Record<string, unknown>;
const spec = cardSpec(dir, { type, options });
const store: OnlineStore = type === 'redis' ? new RedisOnlineStore(options, testLogger()) : new DynamoDbOnlineStore(options, testLogger());
await store.open();
const engine = new Engine(spec, { sources: new Map(), checkpointStore: new FileCheckpointStore({ dir: join(dir, 'checkpoints') }) });
await engine.start();
const app = await buildServer({ engine: withOnlineReads(engine, new OnlineFeatureReader(spec, store)), pushSources: new Map(), processMetrics: false });
await app.listen({ host: '127.0.0.1', port: 0 });
const addr = app.server.address();
console.log(JSON.stringify({ port: typeof addr === 'object' && addr !== null ? addr.port : 0 }));
process.once('SIGTERM', () => {
  void (async () => {
    await app.close();
    await engine.stop();
    await store.close();
    process.exit(0);
  })();
});
