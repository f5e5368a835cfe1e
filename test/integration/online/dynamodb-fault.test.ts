/**
 * Fault test: DynamoDB Local (tables on disk) is SIGKILLed mid-stream under the real engine and
 * started again on the same port; the final features in DynamoDB equal the oracle
 * (support/crash-scenario.ts).
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDbOnlineStore } from '../../../adapters/online/dynamodb/store.js';
import { testLogger } from '../../../plugins/testkit/logger.js';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../services/dynamodb-local.js';
import { runCrashScenario } from './support/crash-scenario.js';

let ddb: DynamoDbLocal;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fenestra-ddb-fault-'));
  mkdirSync(join(dir, 'db'));
  ddb = await startDynamoDbLocal({ dbPath: join(dir, 'db') });
});
afterAll(async () => {
  await ddb?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('dynamodb online store under a server crash', () => {
  it('loses and double-counts nothing when DynamoDB Local is killed mid-stream and restarted', async () => {
    await runCrashScenario({
      dir: join(dir, 'engine'),
      events: 3000,
      makeStore: () =>
        new DynamoDbOnlineStore(
          { endpoint: ddb.endpoint, region: ddb.region, credentials: ddb.credentials, table: 'fault', createTable: true, maxAttempts: 1, requestTimeoutMs: 2000 },
          testLogger(),
        ),
      kill: () => ddb.kill(),
      restart: () => ddb.restart(),
    });
  });
});
