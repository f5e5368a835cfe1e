import { parseDuration } from '../../../core/time/duration.js';
import { FenestraError } from '../../../core/errors.js';

/** Options of the `kinesis` source (its YAML block besides the engine-owned keys), defaults applied. */
export interface KinesisSourceOptions {
  readonly stream: string;
  readonly region: string;
  /** Endpoint override (kinesalite, LocalStack, a VPC endpoint); default: the region's. */
  readonly endpoint: string | undefined;
  /** Static credentials for local endpoints; default: the AWS SDK's default provider chain. */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined;
  readonly format: 'json';
  /** Where a shard with no restored position and no parent starts: TRIM_HORIZON (true, default) or LATEST. */
  readonly fromBeginning: boolean;
  /** Records per GetRecords call (1..10000). */
  readonly recordsPerCall: number;
  /** Records buffered ahead of `poll` over all shards; shard readers wait while it is full. */
  readonly maxBuffered: number;
  /** Wait before asking an idle shard again (Kinesis allows 5 GetRecords per second per shard). */
  readonly idleWaitMs: number;
  /** How often the shard list is refreshed to find new shards (resharding); also right after a shard ends. */
  readonly shardRefreshMs: number;
  /** First and largest backoff after a throttling error (ProvisionedThroughputExceeded, LimitExceeded). */
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
}

const duration = { type: ['string', 'integer'], description: 'A duration (`500ms`, `10s`) or milliseconds.' } as const;

export const KINESIS_OPTIONS_SCHEMA = {
  type: 'object',
  required: ['stream'],
  properties: {
    stream: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[a-zA-Z0-9_.-]+$' },
    region: { type: 'string', minLength: 1, description: 'AWS region (default us-east-1 or AWS_REGION).' },
    endpoint: { type: 'string', pattern: '^https?://', description: 'Endpoint override, e.g. http://127.0.0.1:4567 for kinesalite.' },
    credentials: {
      type: 'object',
      required: ['accessKeyId', 'secretAccessKey'],
      properties: { accessKeyId: { type: 'string' }, secretAccessKey: { type: 'string' } },
      additionalProperties: false,
      description: 'Static credentials (for local endpoints); default: the AWS default provider chain.',
    },
    format: { enum: ['json'] },
    fromBeginning: { type: 'boolean', description: 'Shards without a checkpointed position start at TRIM_HORIZON (default true) or LATEST.' },
    recordsPerCall: { type: 'integer', minimum: 1, maximum: 10000 },
    maxBuffered: { type: 'integer', minimum: 1 },
    idleWait: duration,
    shardRefreshInterval: duration,
    backoffBase: duration,
    backoffMax: duration,
  },
  additionalProperties: false,
} as const;

function durationOpt(raw: Readonly<Record<string, unknown>>, key: string, dflt: number): number {
  const v = raw[key];
  if (v === undefined) return dflt;
  const ms = typeof v === 'string' || typeof v === 'number' ? parseDuration(v) : null;
  if (ms === null) throw new FenestraError('CONFIG_INVALID', `${key}: not a duration: ${JSON.stringify(v)}`, { path: key });
  return ms;
}

export function kinesisOptions(raw: Readonly<Record<string, unknown>>): KinesisSourceOptions {
  const stream = raw['stream'];
  if (typeof stream !== 'string' || !/^[a-zA-Z0-9_.-]{1,128}$/.test(stream)) {
    throw new FenestraError('CONFIG_INVALID', 'stream: expected a Kinesis stream name', { path: 'stream' });
  }
  const format = raw['format'] ?? 'json';
  if (format !== 'json') throw new FenestraError('CONFIG_INVALID', `format: unsupported format ${JSON.stringify(format)} (supported: json)`, { path: 'format' });
  const endpoint = raw['endpoint'];
  if (endpoint !== undefined && (typeof endpoint !== 'string' || !/^https?:\/\//.test(endpoint))) {
    throw new FenestraError('CONFIG_INVALID', 'endpoint: expected an http(s) URL', { path: 'endpoint' });
  }
  const c = raw['credentials'] as Record<string, unknown> | undefined;
  if (c !== undefined && (typeof c !== 'object' || c === null || typeof c['accessKeyId'] !== 'string' || typeof c['secretAccessKey'] !== 'string')) {
    throw new FenestraError('CONFIG_INVALID', 'credentials: expected { accessKeyId, secretAccessKey }', { path: 'credentials' });
  }
  const int = (k: string, d: number): number => (typeof raw[k] === 'number' && Number.isInteger(raw[k]) ? (raw[k] as number) : d);
  const recordsPerCall = int('recordsPerCall', 1000);
  if (recordsPerCall < 1 || recordsPerCall > 10_000) throw new FenestraError('CONFIG_INVALID', 'recordsPerCall: must be 1..10000', { path: 'recordsPerCall' });
  const backoffBaseMs = durationOpt(raw, 'backoffBase', 100);
  const backoffMaxMs = durationOpt(raw, 'backoffMax', 10_000);
  if (backoffMaxMs < backoffBaseMs) throw new FenestraError('CONFIG_INVALID', 'backoffMax: must be at least backoffBase', { path: 'backoffMax' });
  return {
    stream,
    region: typeof raw['region'] === 'string' && raw['region'] !== '' ? raw['region'] : (process.env['AWS_REGION'] ?? 'us-east-1'),
    endpoint: endpoint as string | undefined,
    credentials: c ? { accessKeyId: c['accessKeyId'] as string, secretAccessKey: c['secretAccessKey'] as string } : undefined,
    format: 'json',
    fromBeginning: raw['fromBeginning'] === undefined ? true : raw['fromBeginning'] === true,
    recordsPerCall,
    maxBuffered: int('maxBuffered', 10_000),
    idleWaitMs: durationOpt(raw, 'idleWait', 200),
    shardRefreshMs: durationOpt(raw, 'shardRefreshInterval', 5_000),
    backoffBaseMs,
    backoffMaxMs,
  };
}
