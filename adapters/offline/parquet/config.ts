/**
 * Config of the `parquet` offline store (DESIGN §5):
 *
 * ```yaml
 * offline: { type: parquet, path: ./.fenestra/offline }
 * offline:
 *   type: parquet
 *   path: s3://features/fenestra/
 *   s3: { endpoint: "http://127.0.0.1:4569", region: us-east-1, forcePathStyle: true }
 * ```
 */
export interface ParquetOfflineConfig {
  /** A local directory (relative to the config file) or `s3://bucket/prefix`. */
  readonly path?: string;
  readonly s3?: {
    readonly endpoint?: string;
    readonly region?: string;
    readonly forcePathStyle?: boolean;
    readonly accessKeyId?: string;
    readonly secretAccessKey?: string;
  };
  /** Page compression: `snappy` (default) or `none`. */
  readonly compression?: 'snappy' | 'none';
  /** Rows per Parquet row group (default 131072). */
  readonly rowGroupSize?: number;
}

export const DEFAULT_OFFLINE_PATH = './.fenestra/offline';

export const parquetConfigSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    path: { type: 'string', minLength: 1, description: 'Local directory or s3://bucket/prefix' },
    s3: {
      type: 'object',
      additionalProperties: false,
      properties: {
        endpoint: { type: 'string', minLength: 1 },
        region: { type: 'string', minLength: 1 },
        forcePathStyle: { type: 'boolean' },
        accessKeyId: { type: 'string' },
        secretAccessKey: { type: 'string' },
      },
    },
    compression: { enum: ['snappy', 'none'] },
    rowGroupSize: { type: 'integer', minimum: 1024 },
  },
} as const;
