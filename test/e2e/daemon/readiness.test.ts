import { afterAll, describe, expect, it } from 'vitest';
import { rm } from 'node:fs/promises';
import { loadConfig } from '../../../config/load.js';
import { FileCheckpointStore } from '../../../core/checkpoint/index.js';
import { Engine } from '../../../core/runtime/engine.js';
import { buildServer } from '../../../daemon/server.js';
import { PushSource } from '../../../adapters/sources/push/push-source.js';
import { pushOptions } from '../../../adapters/sources/push/options.js';
import { json, post, tempConfig } from './harness.js';

const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

describe('readiness before recovery', () => {
  it('/readyz is 503 NOT_READY and ingest answers 503 until the engine has recovered and opened its sources', async () => {
    const { dir, config } = await tempConfig();
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const spec = await loadConfig(config);
    const src = new PushSource(spec.sources.get('transactions')!, pushOptions({}));
    const engine = new Engine(spec, { sources: new Map([['transactions', src]]), checkpointStore: new FileCheckpointStore({ dir: `${dir}/ck` }) });
    const app = await buildServer({ engine, pushSources: new Map([['transactions', src]]), processMetrics: false });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    cleanup.push(() => app.close());
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    let res = await fetch(`${url}/readyz`);
    expect(res.status).toBe(503);
    expect((await json(res)).error.code).toBe('NOT_READY');
    res = await post(`${url}/v1/ingest/transactions`, { cc_num: '1', amount: 1, trans_time: 1 });
    expect(res.status).toBe(503);
    expect((await json(res)).error.code).toBe('NOT_READY');
    await engine.start();
    cleanup.push(() => engine.stop());
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    res = await post(`${url}/v1/ingest/transactions`, { cc_num: '1', amount: 1, trans_time: 1 });
    expect(res.status).toBe(200);
  });
});
