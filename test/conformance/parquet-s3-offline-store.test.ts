/**
 * The built-in `parquet` offline store on S3 (a real S3-compatible server, s3rver, started here)
 * passes the offline-store kit. Objects are checked with the AWS SDK directly (HeadObject), not
 * through the store under test; rows of a committed file are counted by DuckDB on the object's bytes
 * (downloaded with GetObject), so a double commit that duplicated rows would show.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { lit, openDuck, type Duck } from '../integration/offline/duckdb.js';
import { describeOfflineStoreConformance, testLogger } from '../../plugins/testkit/index.js';
import parquetPlugin from '../../adapters/offline/parquet/index.js';
import { startS3rver, type S3rverHandle } from '../services/s3rver.js';

const BUCKET = 'kit-offline';
let s3: S3rverHandle | undefined;
let client: S3Client | undefined;
let duck: Duck | undefined;
const downloads = mkdtempSync(join(tmpdir(), 'fenestra-kit-s3-rows-'));
let downloaded = 0;

describeOfflineStoreConformance('parquet (built-in, S3)', {
  async setup() {
    s3 = await startS3rver({ buckets: [BUCKET] });
    client = new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
  },
  async teardown() {
    duck?.close();
    client?.destroy();
    await s3?.stop();
    rmSync(downloads, { recursive: true, force: true });
  },
  createStore: (location) => parquetPlugin.create({ path: `s3://${BUCKET}/${location}/`, s3: s3!.s3 }, { logger: testLogger(), baseDir: process.cwd(), engineVersion: '0.1.0' }),
  async exists(location, path) {
    try {
      await client!.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${location}/${path}` }));
      return true;
    } catch (e) {
      const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 || (e as Error).name === 'NotFound') return false;
      throw e;
    }
  },
  async countRows(location, file) {
    const res = await client!.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${location}/${file}` }));
    const path = join(downloads, `${++downloaded}.parquet`);
    writeFileSync(path, await res.Body!.transformToByteArray());
    duck ??= await openDuck();
    const [row] = await duck.rows(`SELECT count(*)::INTEGER AS n FROM read_parquet(${lit(path)})`);
    return row!['n'] as number;
  },
});
