import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { CreateStreamCommand, DescribeStreamSummaryCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** kinesalite (a Kinesis implementation on an in-memory LevelDB) running inside the test process. */
export interface KinesaliteService {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly region: string;
  /** A client for this endpoint (HTTP/1.1 handler; dummy credentials). Destroy it when done. */
  client(): KinesisClient;
  /** Creates a stream and waits until it is ACTIVE. */
  createStream(name: string, shards: number): Promise<void>;
  stop(): Promise<void>;
}

type KinesaliteFactory = (opts: Record<string, unknown>) => Server;

/** Client options that make the AWS SDK talk to a local kinesalite. */
export function localKinesisConfig(endpoint: string, region = 'us-east-1') {
  return {
    endpoint,
    region,
    credentials: { accessKeyId: 'fenestra', secretAccessKey: 'fenestra' },
    requestHandler: new NodeHttpHandler(),
    maxAttempts: 3,
  };
}

export async function startKinesalite(opts: { shardLimit?: number } = {}): Promise<KinesaliteService> {
  let factory: KinesaliteFactory;
  try {
    factory = createRequire(import.meta.url)('kinesalite') as KinesaliteFactory;
  } catch (e) {
    throw new Error(`kinesalite service: the npm package \`kinesalite\` cannot be loaded (run npm ci): ${(e as Error).message}`);
  }
  // Stream state changes (create, split, merge) are immediate so tests need not wait on timers.
  const server = factory({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: opts.shardLimit ?? 50 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new Error(`kinesalite service: cannot listen on 127.0.0.1: ${e.message}`)));
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const region = 'us-east-1';
  const clients: KinesisClient[] = [];
  const client = () => {
    const c = new KinesisClient(localKinesisConfig(endpoint, region));
    clients.push(c);
    return c;
  };
  const admin = client();
  return {
    endpoint,
    region,
    client,
    async createStream(name: string, shards: number) {
      await admin.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
      for (let i = 0; i < 200; i++) {
        const s = await admin.send(new DescribeStreamSummaryCommand({ StreamName: name }));
        if (s.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`kinesalite service: stream ${name} did not become ACTIVE`);
    },
    async stop() {
      for (const c of clients) c.destroy();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
