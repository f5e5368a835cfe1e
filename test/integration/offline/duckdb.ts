/** DuckDB (the cross-check reader) for offline tests: one in-memory database per test file. */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

export interface Duck {
  rows(sql: string): Promise<Record<string, unknown>[]>;
  close(): void;
}

export async function openDuck(): Promise<Duck> {
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const con: DuckDBConnection = await db.connect();
  return {
    async rows(sql) {
      const r = await con.runAndReadAll(sql);
      return r.getRowObjectsJS() as Record<string, unknown>[];
    },
    close() {
      con.closeSync();
      db.closeSync();
    },
  };
}

/** Quotes a path for a DuckDB string literal. */
export function lit(path: string): string {
  return `'${path.replace(/'/g, "''")}'`;
}
