/**
 * Stored groups in training sets: reading a stored group's committed history (`stored/<group>` of
 * the offline store) into the typed columns the as-of join (core/training/stored-join.ts) reads.
 * Files are read in name order (Hive partitions, then `part-<checkpointId>-<seq>`), which is the
 * write order the join needs for records with equal event times (they share an hour partition).
 * A group with no committed history yet reads as empty (every label null).
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { FenestraError } from '../../core/errors.js';
import type { EngineSpec } from '../../core/model.js';
import { parseStoredValue } from '../../core/stored/values.js';
import { STORED_DELETED, STORED_EVENT_TIME, STORED_EXPIRES_AT, storedTableName } from '../../core/stored/history.js';
import { toFieldValues, toKeys, toTimes } from '../../core/training/columns.js';
import type { PlannedStoredGroup } from '../../core/training/plan.js';
import type { StoredHistoryColumns } from '../../core/training/stored-join.js';
import type { S3Options } from '../../adapters/offline/parquet/blob-store.js';
import { readTable, resolveInputs } from '../../adapters/offline/parquet/table-reader.js';

/** A table of the parquet offline store (`raw/<source>`, `stored/<group>`, ...) as a readable location. */
export function offlineTableLocation(spec: EngineSpec, table: string): { location: string; s3: S3Options } {
  if (spec.offline.type !== 'parquet') {
    throw new FenestraError('BAD_REQUEST', `the offline store is "${spec.offline.type}", not parquet: pass --input`, { path: 'offline.type' });
  }
  const o = spec.offline.options as { path?: string; s3?: S3Options };
  const path = o.path ?? './.fenestra/offline';
  const root = path.startsWith('s3://') ? path.replace(/\/+$/, '') : isAbsolute(path) ? path : resolve(spec.baseDir, path);
  return { location: `${root}/${table}`, s3: o.s3 ?? {} };
}

/** Whether any committed table file exists at a location (a missing directory or prefix: none). */
async function hasFiles(location: string, s3: S3Options): Promise<boolean> {
  if (!location.startsWith('s3://') && !existsSync(location)) return false;
  const { files, close } = await resolveInputs([location], { s3 });
  await close();
  return files.length > 0;
}

/** Reads the committed history of a planned stored group (only the columns the join needs). */
export async function readStoredHistory(spec: EngineSpec, plan: PlannedStoredGroup, opts: { threads?: number; onProgress?: (rows: number) => void } = {}): Promise<StoredHistoryColumns> {
  const { location, s3 } = offlineTableLocation(spec, storedTableName(plan.spec.name));
  const fieldsRead = plan.fieldsRead.filter((f) => f !== plan.keyField && f !== STORED_EVENT_TIME);
  if (!(await hasFiles(location, s3))) {
    return { rows: 0, keys: [], eventTimes: [], expiresAt: [], deleted: [], fields: new Map() };
  }
  const columns = [plan.keyField, STORED_EVENT_TIME, STORED_EXPIRES_AT, STORED_DELETED, ...fieldsRead];
  const t = await readTable([location], { s3, columns, ...(opts.threads ? { threads: opts.threads } : {}), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
  const eventTimes = toTimes(t.columns.get(STORED_EVENT_TIME)!, STORED_EVENT_TIME);
  const exp = t.columns.get(STORED_EXPIRES_AT)!;
  const expiresAt = new Float64Array(t.rows);
  for (let i = 0; i < t.rows; i++) {
    const v = exp[i];
    expiresAt[i] = typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : v instanceof Date ? v.getTime() : 0;
  }
  const del = t.columns.get(STORED_DELETED)!;
  const deleted = Array.from({ length: t.rows }, (_, i) => del[i] === true);
  const specs = new Map(plan.spec.fields.map((f) => [f.name, f]));
  const fields = new Map<string, ArrayLike<unknown>>(fieldsRead.map((f) => [f, toFieldValues(t.columns.get(f)!, specs.get(f))] as const));
  // A field named like the key field or `event_time` has no column of its own: its value is there.
  const keys = toKeys(t.columns.get(plan.keyField)!, plan.keyField);
  for (const f of plan.fieldsRead) {
    if (f === plan.keyField) {
      const type = specs.get(f)!.type;
      fields.set(f, Array.from({ length: t.rows }, (_, i) => parseStoredValue(type, keys[i]!) ?? null));
    } else if (f === STORED_EVENT_TIME) fields.set(f, eventTimes); // a timestamp (storedHistoryLayout)
  }
  return { rows: t.rows, keys, eventTimes, expiresAt, deleted, fields };
}
