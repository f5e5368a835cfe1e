/** The plugin's config block (after `type:`), as validated by `configSchema`. */
export interface PostgresOnlineStoreConfig {
  /** libpq connection string, e.g. `postgres://user@127.0.0.1:5432/db`. */
  readonly url: string;
  /** Table holding the records (default `fenestra_online`). */
  readonly table?: string;
  /** Create the table on open if it does not exist (default true). */
  readonly createTable?: boolean;
  /** Connection pool size (default 4). */
  readonly poolSize?: number;
}

/** JSON Schema of the config block; Fenestra reports its errors with their full config path. */
export const postgresConfigSchema = {
  type: 'object',
  required: ['url'],
  additionalProperties: false,
  properties: {
    url: { type: 'string', pattern: '^postgres(ql)?://', description: 'libpq connection URL' },
    table: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]{0,62}$', description: 'table name (an SQL identifier)' },
    createTable: { type: 'boolean' },
    poolSize: { type: 'integer', minimum: 1, maximum: 64 },
  },
} as const;
