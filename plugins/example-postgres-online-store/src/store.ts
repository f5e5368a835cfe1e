import pg from 'pg';
import { FenestraError, type Logger, type OnlineRecord, type OnlineStore, type OnlineWriteResult } from 'fenestra/plugin';
import type { PostgresOnlineStoreConfig } from './config.js';
import { createTableSql, deleteSql, quoteIdent, readSql, upsertSql } from './sql.js';

interface Row {
  key: string;
  version: string;
  value: Buffer;
  expires_at: string | null;
}

/**
 * An online store in one PostgreSQL table keyed by (group, key).
 *
 * Contract (see `OnlineStore` in fenestra/plugin): writes are conditional on version inside one
 * `INSERT ... ON CONFLICT DO UPDATE ... WHERE cur.version < EXCLUDED.version`, so replays and
 * out-of-order batches converge; each key is all-or-nothing and the whole batch is one statement.
 * Reads answer one entry per requested key in request order, null for a miss or a record past its
 * `expiresAt` (checked with the caller's `now`). Reads may run concurrently with a write: they use
 * other pooled connections and see each row either before or after the write.
 */
export class PostgresOnlineStore implements OnlineStore {
  private readonly pool: pg.Pool;
  private readonly table: string;

  constructor(private readonly config: PostgresOnlineStoreConfig, private readonly logger: Logger) {
    this.table = quoteIdent(config.table ?? 'fenestra_online');
    this.pool = new pg.Pool({ connectionString: config.url, max: config.poolSize ?? 4 });
    this.pool.on('error', (e) => this.logger.warn({ err: e.message }, 'postgres pool: idle connection error'));
  }

  async open(): Promise<void> {
    try {
      await this.pool.query('SELECT 1');
      if (this.config.createTable !== false) await this.pool.query(createTableSql(this.table));
    } catch (e) {
      throw unavailable(`cannot open PostgreSQL online store at ${redact(this.config.url)}`, e);
    }
  }

  async write(records: readonly OnlineRecord[]): Promise<OnlineWriteResult> {
    if (records.length === 0) return { applied: 0, skipped: 0 };
    // One row per key per statement (Postgres refuses to update a row twice): keep the newest.
    const newest = new Map<string, OnlineRecord>();
    for (const r of records) {
      const id = `${r.group}\u0000${r.key}`;
      const held = newest.get(id);
      if (held === undefined || r.version > held.version) newest.set(id, r);
    }
    const rows = [...newest.values()];
    try {
      const res = await this.pool.query(upsertSql(this.table), [
        rows.map((r) => r.group),
        rows.map((r) => r.key),
        rows.map((r) => r.version),
        rows.map((r) => Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength)),
        rows.map((r) => r.expiresAt ?? null),
      ]);
      const applied = res.rowCount ?? 0;
      return { applied, skipped: records.length - applied };
    } catch (e) {
      throw unavailable('PostgreSQL online store: write failed', e);
    }
  }

  async read(group: string, keys: readonly string[], now: number): Promise<ReadonlyArray<OnlineRecord | null>> {
    if (keys.length === 0) return [];
    let rows: Row[];
    try {
      rows = (await this.pool.query<Row>(readSql(this.table), [group, [...new Set(keys)]])).rows;
    } catch (e) {
      throw unavailable('PostgreSQL online store: read failed', e);
    }
    const byKey = new Map<string, OnlineRecord>();
    for (const row of rows) {
      const expiresAt = row.expires_at === null ? undefined : Number(row.expires_at);
      const value = new Uint8Array(row.value.buffer, row.value.byteOffset, row.value.byteLength);
      byKey.set(row.key, expiresAt === undefined
        ? { group, key: row.key, version: Number(row.version), value }
        : { group, key: row.key, version: Number(row.version), value, expiresAt });
    }
    return keys.map((k) => {
      const r = byKey.get(k);
      if (r === undefined) return null;
      return r.expiresAt !== undefined && now > r.expiresAt ? null : r;
    });
  }

  async delete(group: string, key: string, version: number): Promise<void> {
    try {
      await this.pool.query(deleteSql(this.table), [group, key, version]);
    } catch (e) {
      throw unavailable('PostgreSQL online store: delete failed', e);
    }
  }

  async healthy(): Promise<boolean> {
    try {
      await this.pool.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

function unavailable(message: string, cause: unknown): FenestraError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new FenestraError('STORE_UNAVAILABLE', `${message}: ${why}`, { cause });
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]+):[^@]*@/, '$1:***@');
}
