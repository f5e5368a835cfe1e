/** SQL statements of the store; `t` is an already validated, quoted table identifier. */
export function createTableSql(t: string): string {
  return `CREATE TABLE IF NOT EXISTS ${t} (
    grp text NOT NULL,
    key text NOT NULL,
    version bigint NOT NULL,
    value bytea NOT NULL,
    expires_at bigint,
    PRIMARY KEY (grp, key)
  )`;
}

/**
 * One statement per batch: insert new keys, and update existing ones only when the incoming version
 * is strictly newer (the contract's version guard, checked by the database under the row lock).
 * RETURNING yields one row per record actually written.
 */
export function upsertSql(t: string): string {
  return `INSERT INTO ${t} AS cur (grp, key, version, value, expires_at)
    SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bytea[], $5::bigint[])
    ON CONFLICT (grp, key) DO UPDATE
      SET version = EXCLUDED.version, value = EXCLUDED.value, expires_at = EXCLUDED.expires_at
      WHERE cur.version < EXCLUDED.version
    RETURNING 1`;
}

export function readSql(t: string): string {
  return `SELECT key, version, value, expires_at FROM ${t} WHERE grp = $1 AND key = ANY($2::text[])`;
}

export function deleteSql(t: string): string {
  return `DELETE FROM ${t} WHERE grp = $1 AND key = $2 AND version <= $3`;
}

/** Double-quotes an identifier that the config schema already restricted to [A-Za-z0-9_]. */
export function quoteIdent(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) throw new Error(`invalid SQL identifier ${JSON.stringify(name)}`);
  return `"${name}"`;
}
