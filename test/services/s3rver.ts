/**
 * Starts a real S3-compatible server (`s3rver`, pinned 3.7.1 in devDependencies) in-process on a
 * free port on 127.0.0.1, with its own temporary data directory and the given buckets. If it cannot
 * start (package missing, bind failure), this throws an error saying what is missing: tests fail,
 * they never skip.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface S3rverHandle {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly port: number;
  readonly region: 'us-east-1';
  /** s3rver's fixed credentials. */
  readonly accessKeyId: 'S3RVER';
  readonly secretAccessKey: 'S3RVER';
  /** Options for `makeS3Client` / the `parquet` offline store's `s3:` block. */
  readonly s3: { endpoint: string; region: string; forcePathStyle: true; accessKeyId: string; secretAccessKey: string };
  stop(): Promise<void>;
}

interface S3rverInstance {
  run(): Promise<{ port: number; address: string }>;
  close(): Promise<void>;
}

export async function startS3rver(opts: { buckets?: readonly string[] } = {}): Promise<S3rverHandle> {
  let S3rver: new (o: Record<string, unknown>) => S3rverInstance;
  try {
    S3rver = ((await import('s3rver')) as { default: typeof S3rver }).default;
  } catch (e) {
    throw new Error(`s3rver is not installed (npm install --save-dev --save-exact s3rver@3.7.1): ${(e as Error).message}`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'fenestra-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    configureBuckets: (opts.buckets ?? []).map((name) => ({ name, configs: [] })),
  });
  let port: number;
  try {
    ({ port } = await server.run());
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`s3rver failed to start on 127.0.0.1: ${(e as Error).message}`);
  }
  if (!port) throw new Error('s3rver started but reported no port');
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    port,
    region: 'us-east-1',
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    s3: { endpoint, region: 'us-east-1', forcePathStyle: true, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    async stop() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
