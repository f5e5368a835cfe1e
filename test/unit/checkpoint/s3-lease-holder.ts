/**
 * Child process of the S3 lease test: opens the checkpoint store under `s3://BUCKET/PREFIX` on the
 * given endpoint (s3rver), recovers (taking the lease), commits checkpoint 1, prints READY and keeps
 * the lease (heartbeating) until killed.
 *
 *   node --import tsx test/unit/checkpoint/s3-lease-holder.ts ENDPOINT BUCKET PREFIX
 */
import { makeS3Client } from '../../../adapters/s3/client.js';
import { S3Prefix } from '../../../adapters/s3/prefix.js';
import { S3CheckpointStorage } from '../../../adapters/shared-state/s3-checkpoint-storage.js';
import { ManifestCheckpointStore } from '../../../core/checkpoint/manifest-store.js';

const [endpoint, bucket, prefix] = process.argv.slice(2);
if (!endpoint || !bucket || !prefix) {
  process.stderr.write('usage: s3-lease-holder.ts ENDPOINT BUCKET PREFIX\n');
  process.exit(2);
}
const client = makeS3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });
const store = new ManifestCheckpointStore(new S3CheckpointStorage(new S3Prefix(client, bucket, prefix), { ttlMs: 3000, heartbeatMs: 100 }));
await store.recover();
await store.commit({ id: 1, createdAt: 1, positions: { tx: { '0': 7 } }, entries: [{ group: 'g', key: 'child', value: new TextEncoder().encode('v') }], offlineFiles: [], meta: {} });
process.stdout.write(`READY ${process.pid}\n`);
setInterval(() => undefined, 1 << 30);
