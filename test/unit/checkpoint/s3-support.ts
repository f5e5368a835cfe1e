/**
 * Shared by the S3 checkpoint tests: a real s3rver (test/services/s3rver.ts) with one bucket, a fresh
 * prefix per test, and checkpoint data helpers.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { makeS3Client } from '../../../adapters/s3/client.js';
import { S3Prefix } from '../../../adapters/s3/prefix.js';
import { startS3rver, type S3rverHandle } from '../../services/s3rver.js';

export const BUCKET = 'fenestra-state';

export interface S3Fixture {
  readonly server: S3rverHandle;
  readonly client: S3Client;
  /** A prefix no other test uses. */
  fresh(label: string): S3Prefix;
  stop(): Promise<void>;
}

export async function startS3Fixture(): Promise<S3Fixture> {
  const server = await startS3rver({ buckets: [BUCKET] });
  const client = makeS3Client(server.s3);
  let n = 0;
  return {
    server,
    client,
    fresh: (label) => new S3Prefix(client, BUCKET, `t${++n}-${label}`),
    async stop() {
      client.destroy();
      await server.stop();
    },
  };
}

export { bytes, data, expectCode, stateOf } from './store-cases.js';
