/**
 * A fault-injecting HTTP proxy in front of a real DynamoDB (Local): requests are forwarded unchanged
 * and the real answers are then degraded the way a throttled table degrades them, which DynamoDB
 * Local never does on its own:
 * - `deferRatio` of the items of every BatchGetItem answer are taken out of `Responses` and listed
 *   in `UnprocessedKeys` instead (what DynamoDB does when a batch exceeds capacity);
 * - while `throttleWrites` is on, PutItem / TransactWriteItems / DeleteItem / BatchWriteItem get a
 *   400 ProvisionedThroughputExceededException without reaching the backend.
 * Listens on a free port on 127.0.0.1.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { readBody } from './http-body.js';

export interface DynamoDbThrottler {
  readonly endpoint: string;
  /** Fraction (0..1) of each BatchGetItem answer's items deferred to UnprocessedKeys. */
  deferRatio: number;
  throttleWrites: boolean;
  /** Counters: BatchGetItem calls seen, items deferred, writes refused. */
  readonly stats: { batchGets: number; deferred: number; throttledWrites: number };
  stop(): Promise<void>;
}

const WRITE_TARGETS = new Set(['PutItem', 'TransactWriteItems', 'DeleteItem', 'BatchWriteItem', 'UpdateItem']);


type Item = Record<string, unknown>;
interface BatchGetAnswer {
  Responses?: Record<string, Item[]>;
  UnprocessedKeys?: Record<string, { Keys: Item[]; [k: string]: unknown }>;
  [k: string]: unknown;
}
interface BatchGetRequest {
  RequestItems: Record<string, { Keys: Item[]; [k: string]: unknown }>;
}

export async function startDynamoDbThrottler(target: string): Promise<DynamoDbThrottler> {
  const up = new URL(target);
  const state: DynamoDbThrottler = {
    endpoint: '',
    deferRatio: 0,
    throttleWrites: false,
    stats: { batchGets: 0, deferred: 0, throttledWrites: 0 },
    stop: async () => undefined,
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const op = String(req.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
    if (state.throttleWrites && WRITE_TARGETS.has(op)) {
      state.stats.throttledWrites++;
      const msg = JSON.stringify({
        __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
        message: 'The level of configured provisioned throughput for the table was exceeded (injected by the test throttler)',
      });
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(msg) });
      res.end(msg);
      return;
    }
    const upstream = await new Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }>((resolve, reject) => {
      const headers = { ...req.headers, host: up.host };
      const r = request({ host: up.hostname, port: up.port, path: req.url, method: req.method, headers }, (ans) => {
        void readBody(ans).then((b) => resolve({ status: ans.statusCode ?? 500, headers: ans.headers, body: b }), reject);
      });
      r.on('error', reject);
      r.end(body);
    });
    let out = upstream.body;
    if (op === 'BatchGetItem' && upstream.status === 200) {
      state.stats.batchGets++;
      const ans = JSON.parse(out.toString('utf8')) as BatchGetAnswer;
      const asked = JSON.parse(body.toString('utf8')) as BatchGetRequest;
      for (const [table, items] of Object.entries(ans.Responses ?? {})) {
        const n = Math.floor(items.length * state.deferRatio);
        if (n === 0) continue;
        const deferred = items.splice(0, n);
        state.stats.deferred += n;
        const keyNames = Object.keys(asked.RequestItems[table]?.Keys[0] ?? { pk: 1 });
        const { Keys: _k, ...opts } = asked.RequestItems[table] ?? { Keys: [] };
        ans.UnprocessedKeys ??= {};
        const prev = ans.UnprocessedKeys[table]?.Keys ?? [];
        ans.UnprocessedKeys[table] = {
          ...opts,
          Keys: [...prev, ...deferred.map((it) => Object.fromEntries(keyNames.map((k) => [k, it[k]])))],
        };
      }
      out = Buffer.from(JSON.stringify(ans));
    }
    const headers: Record<string, string | string[] | undefined> = { ...upstream.headers, 'content-length': String(out.length) };
    delete headers['x-amz-crc32']; // the body changed
    res.writeHead(upstream.status, headers);
    res.end(out);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`throttler: ${(e as Error).message}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return Object.assign(state, {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
