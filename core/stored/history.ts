/**
 * The offline history of a stored feature group: the table `stored/<group>`, one row per accepted
 * write (PutRecord, BatchWriteRecord entry, DeleteRecord), the layout shared by its writer
 * (core/offline's history hook) and its readers (training sets, DuckDB, Athena).
 *
 * Columns, in order: the entity's key field (string), `event_time` (the record's event time, the
 * version), `expires_at` (null: never), the group's fields typed as in its schema (null when the
 * record leaves them out, and for deletes), `deleted` (true for a DeleteRecord), `write_time` (wall
 * clock when the write was applied). A schema field named like the key field or `event_time` is not
 * repeated (its value is in those columns; an `event_time` field must then be a timestamp).
 */
import type { OfflineColumn } from '../contracts/offline-store.js';
import { FenestraError } from '../errors.js';
import type { EngineSpec, FieldSpec, StoredGroupSpec } from '../model.js';
import type { StoredWrite } from './record.js';
import { typedValues } from './values.js';

export const STORED_EVENT_TIME = 'event_time';
export const STORED_EXPIRES_AT = 'expires_at';
export const STORED_DELETED = 'deleted';
export const STORED_WRITE_TIME = 'write_time';

/**
 * Where accepted stored writes go for the offline history (the engine's offline hook).
 *
 * Ordering: called synchronously, in apply order, as each write is applied to the group's state and
 * before the checkpoint that makes it durable starts, so the write's row is in that checkpoint's cut
 * (exactly-once with checkpoints, like raw events). Threading: the one event loop.
 */
export interface StoredHistory {
  onStored(group: string, write: StoredWrite): void;
}

/** The table of a stored group's history. */
export function storedTableName(group: string): string {
  return `stored/${group}`;
}

/** The record identifier of a stored group (of any group): its entity's key field. */
export function storedKeyField(spec: EngineSpec, g: Pick<StoredGroupSpec, 'entity'>): string {
  return spec.entities.get(g.entity)?.key ?? g.entity;
}

export interface StoredHistoryLayout {
  readonly table: string;
  readonly keyField: string;
  readonly columns: readonly OfflineColumn[];
  /** The group's fields that have a column of their own (in column order, after `expires_at`). */
  readonly fields: readonly FieldSpec[];
}

/**
 * The columns of `stored/<group>`. Throws CONFIG_INVALID when a schema field is named like a
 * column the history needs for itself (`expires_at`, `deleted`, `write_time`, or `event_time` when
 * it is not a timestamp).
 */
export function storedHistoryLayout(spec: EngineSpec, g: StoredGroupSpec): StoredHistoryLayout {
  const keyField = storedKeyField(spec, g);
  const fields = g.fields.filter((f) => f.name !== keyField && f.name !== STORED_EVENT_TIME);
  const clash = (f: FieldSpec, why: string): FenestraError =>
    new FenestraError('CONFIG_INVALID', `stored group "${g.name}": field "${f.name}" ${why} (offline history ${storedTableName(g.name)}); rename it`, {
      path: `featureGroups.${g.name}.stored.schema.${f.name}`,
    });
  const asTime = g.fields.find((f) => f.name === STORED_EVENT_TIME);
  if (asTime !== undefined && asTime.type !== 'timestamp') throw clash(asTime, `is a ${asTime.type}, but the history's "${STORED_EVENT_TIME}" column is the record's event time`);
  for (const f of fields) {
    if (f.name === STORED_EXPIRES_AT || f.name === STORED_DELETED || f.name === STORED_WRITE_TIME) {
      throw clash(f, 'clashes with a column the history needs for itself');
    }
  }
  const columns: OfflineColumn[] = [
    { name: keyField, type: 'string' },
    { name: STORED_EVENT_TIME, type: 'timestamp' },
    { name: STORED_EXPIRES_AT, type: 'timestamp' },
    ...fields.map((f) => ({ name: f.name, type: f.type })),
    { name: STORED_DELETED, type: 'boolean' },
    { name: STORED_WRITE_TIME, type: 'timestamp' },
  ];
  return { table: storedTableName(g.name), keyField, columns, fields };
}

/** One history row of a write, in `layout.columns` order. */
export function storedHistoryRow(layout: StoredHistoryLayout, g: StoredGroupSpec, w: StoredWrite, writeTime: number): unknown[] {
  const row: unknown[] = [w.key, w.eventTime];
  if (w.op === 'delete') {
    row.push(null);
    for (let i = 0; i < layout.fields.length; i++) row.push(null);
    row.push(true);
  } else {
    row.push(w.expiresAt === 0 ? null : w.expiresAt);
    const values = typedValues(g, w.strings);
    for (const f of layout.fields) row.push(values[f.name] ?? null);
    row.push(false);
  }
  row.push(writeTime);
  return row;
}
