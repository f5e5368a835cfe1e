/**
 * The built-in `parquet` offline store on S3 (a real S3-compatible server, s3rver, started here)
 * passes the offline-store kit. Objects are checked with the AWS SDK directly (HeadObject), not
 * through the store under test.
 */
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { describeOfflineStoreConformance, testLogger } from '../../plugins/testkit/index.js';
import parquetPlugin from '../../adapters/offline/parquet/index.js';
import { startS3rver, type S3rverHandle } from '../services/s3rver.js';

const BUCKET = 'kit-offline';
let s3: S3rverHandle | undefined;
let client: S3Client | undefined;

describeOfflineStoreConformance('parquet (built-in, S3)', {
  async setup() {
    s3 = await startS3rver({ buckets: [BUCKET] });
    client = new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
  },
  async teardown() {
    client?.destroy();
    await s3?.stop();
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
});
