/**
 * The `online:` block for `type: dynamodb` (the engine-owned `type` key removed).
 *
 * ```yaml
 * online: { type: dynamodb, table: fenestra_online, region: us-east-1, endpoint: "http://127.0.0.1:8000", createTable: true }
 * ```
 */
export interface DynamoDbOnlineConfig {
  /** Table holding every group without an entry in `tables` (default `fenestra_online`). */
  readonly table?: string;
  /** Per-group tables: `{ cc_agg: fenestra_cc_agg }`. */
  readonly tables?: Readonly<Record<string, string>>;
  /** AWS region (default `AWS_REGION`, else `us-east-1`). */
  readonly region?: string;
  /** Endpoint override (DynamoDB Local, a VPC endpoint). */
  readonly endpoint?: string;
  /** Static credentials (default: the SDK's provider chain). */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
  /** Create missing tables on open (on-demand billing, partition key `pk`) and enable TTL on `ttl`. */
  readonly createTable?: boolean;
  /** Conditional writes in flight at once (default 32). */
  readonly writeConcurrency?: number;
  /**
   * `put` (default): one conditional PutItem per record, `writeConcurrency` at a time.
   * `transact`: TransactWriteItems of up to 100 conditional puts, the failed conditions removed and the rest resent.
   */
  readonly writeMode?: 'put' | 'transact';
  /** Strongly consistent reads (default true: a read after a flush sees it). */
  readonly consistentRead?: boolean;
  /** SDK attempts per request, retries of throttling included (default 3); then `write` rejects and the engine retries. */
  readonly maxAttempts?: number;
  /** Per-request timeout in ms (default 5000). */
  readonly requestTimeoutMs?: number;
  /** Rounds of BatchGetItem UnprocessedKeys retries with exponential backoff before a read fails (default 8). */
  readonly unprocessedRetries?: number;
}

const tableName = { type: 'string', pattern: '^[A-Za-z0-9_.-]{3,255}$' } as const;

export const dynamoDbConfigSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    table: tableName,
    tables: { type: 'object', additionalProperties: tableName },
    region: { type: 'string', minLength: 1 },
    endpoint: { type: 'string', pattern: '^https?://' },
    credentials: {
      type: 'object',
      additionalProperties: false,
      required: ['accessKeyId', 'secretAccessKey'],
      properties: {
        accessKeyId: { type: 'string', minLength: 1 },
        secretAccessKey: { type: 'string', minLength: 1 },
        sessionToken: { type: 'string' },
      },
    },
    createTable: { type: 'boolean' },
    writeConcurrency: { type: 'integer', minimum: 1, maximum: 1024 },
    writeMode: { enum: ['put', 'transact'] },
    consistentRead: { type: 'boolean' },
    maxAttempts: { type: 'integer', minimum: 1, maximum: 20 },
    requestTimeoutMs: { type: 'integer', minimum: 1 },
    unprocessedRetries: { type: 'integer', minimum: 0, maximum: 30 },
  },
} as const;
