/**
 * The built-in `parquet` offline store (alias `parquet` in adapters/registry.ts): Parquet files
 * on a local directory or S3, Hive-partitioned, committed exactly-once by checkpoints.
 */
import { isAbsolute, resolve } from 'node:path';
import { definePlugin, type OfflineStorePluginDefinition, type PLUGIN_BRAND } from '../../../core/contracts/plugin.js';
import type { Logger } from '../../../core/contracts/logger.js';
import { LocalBlobStore, makeS3Client, S3BlobStore, type BlobStore } from './blob-store.js';
import { DEFAULT_OFFLINE_PATH, parquetConfigSchema, type ParquetOfflineConfig } from './config.js';
import { ParquetOfflineStore } from './parquet-store.js';

/** Opens the blob store behind a path: `s3://…` (with the `s3` options) or a local directory. */
export function blobStoreFor(path: string, baseDir: string, s3: ParquetOfflineConfig['s3'] = {}): BlobStore {
  if (path.startsWith('s3://')) return new S3BlobStore(path, makeS3Client(s3));
  return new LocalBlobStore(isAbsolute(path) ? path : resolve(baseDir, path));
}

export function createParquetStore(config: ParquetOfflineConfig, baseDir: string, logger?: Logger, writer?: string): ParquetOfflineStore {
  const blobs = blobStoreFor(config.path ?? DEFAULT_OFFLINE_PATH, baseDir, config.s3);
  return new ParquetOfflineStore(blobs, logger, {
    compressed: config.compression !== 'none',
    ...(config.rowGroupSize ? { rowGroupSize: config.rowGroupSize } : {}),
    ...(writer !== undefined ? { writer } : {}),
  });
}

const parquetPlugin: OfflineStorePluginDefinition<ParquetOfflineConfig> & { readonly [PLUGIN_BRAND]: true } = definePlugin({
  name: 'parquet',
  kind: 'offline-store',
  engine: '^0.1.0',
  description: 'Parquet history (feature/<group>, raw/<source>) on a local directory or S3, Hive-partitioned by date/hour.',
  configSchema: parquetConfigSchema,
  create: (config, ctx) => createParquetStore(config, ctx.baseDir, ctx.logger, ctx.writerId),
});
export default parquetPlugin;

export { ParquetOfflineStore } from './parquet-store.js';
export type { ParquetOfflineConfig } from './config.js';
