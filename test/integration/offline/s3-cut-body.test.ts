/**
 * A GET whose body is cut after the headers (a connection reset mid-answer: the AWS SDK does not
 * retry those) is read again whole, by both S3 readers: the checkpoint/lease prefix and the Parquet
 * blob store. Real s3rver behind a proxy that cuts answers (test/services/s3-body-cutter.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GET_ATTEMPTS, makeS3Client } from '../../../adapters/s3/client.js';
import { S3Prefix } from '../../../adapters/s3/prefix.js';
import { S3BlobStore } from '../../../adapters/offline/parquet/blob-store.js';
import { startS3rver, type S3rverHandle } from '../../services/s3rver.js';
import { startS3BodyCutter, type S3BodyCutter } from '../../services/s3-body-cutter.js';

const BUCKET = 'cut-body';
let server: S3rverHandle;
let cutter: S3BodyCutter;
let client: ReturnType<typeof makeS3Client>;

beforeAll(async () => {
  server = await startS3rver({ buckets: [BUCKET] });
  cutter = await startS3BodyCutter(server.endpoint);
  client = makeS3Client({ ...server.s3, endpoint: cutter.endpoint });
});

afterAll(async () => {
  client?.destroy();
  await cutter?.stop();
  await server?.stop();
});

const payload = Buffer.from(Array.from({ length: 64 * 1024 }, (_, i) => i % 251));

describe('S3 GET with a body cut in flight', () => {
  it('S3Prefix.get reads the object again, whole, and a missing object is still null', async () => {
    const p = new S3Prefix(client, BUCKET, 'prefix');
    await p.put('obj', payload);
    cutter.cutGets = GET_ATTEMPTS - 1;
    const before = cutter.stats.cut;
    expect((await p.get('obj'))!.equals(payload)).toBe(true);
    expect(cutter.stats.cut - before).toBe(GET_ATTEMPTS - 1);
    expect(await p.get('missing')).toBeNull();
  });

  it('the Parquet blob store reads the object again, whole', async () => {
    const store = new S3BlobStore(`s3://${BUCKET}/blobs`, client);
    await store.put('part-0.parquet', payload);
    cutter.cutGets = 2;
    expect(Buffer.from(await store.get('part-0.parquet')).equals(payload)).toBe(true);
    expect(cutter.cutGets).toBe(0);
  });

  it('gives up after GET_ATTEMPTS cut answers with the connection error', async () => {
    const p = new S3Prefix(client, BUCKET, 'prefix');
    cutter.cutGets = GET_ATTEMPTS;
    await expect(p.get('obj')).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(cutter.cutGets).toBe(0);
  });
});
