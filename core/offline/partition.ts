/**
 * Hive-style partition paths: `<table>/date=YYYY-MM-DD/hour=HH/part-<checkpointId>-<seq>.parquet`
 * (UTC), and the `_staging/` prefix that holds staged files until their checkpoint commits them.
 */
import type { OfflineBatch } from '../contracts/offline-store.js';

export const STAGING_PREFIX = '_staging/';
const HOUR = 3_600_000;

/** The partition directory (`date=2020-01-01/hour=07`) of an epoch-ms time. */
export function partitionOf(ms: number): string {
  const iso = new Date(Math.floor(ms / HOUR) * HOUR).toISOString();
  return `date=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}`;
}

/** `writer`: the instance id when several instances write one store (its files are `part-<writer>-…`). */
export function finalPath(table: string, partition: string, checkpointId: number, seq: number, writer?: string): string {
  const who = writer === undefined ? '' : `${writer}-`;
  return `${table}/${partition}/part-${who}${String(checkpointId).padStart(12, '0')}-${String(seq).padStart(6, '0')}.parquet`;
}

/** Where a file waits until committed; one writer's staged files share the prefix `stagingPrefix(writer)`. */
export function stagedPath(final: string, writer?: string): string {
  return `${stagingPrefix(writer)}${final}`;
}

export function stagingPrefix(writer?: string): string {
  return writer === undefined ? STAGING_PREFIX : `${STAGING_PREFIX}${writer}/`;
}

/** Time values of the batch's time column as epoch ms. */
export function timesOf(batch: OfflineBatch): ArrayLike<unknown> {
  const i = batch.columns.findIndex((c) => c.name === batch.timeColumn);
  if (i < 0) throw new Error(`offline batch for "${batch.table}": time column "${batch.timeColumn}" is not among its columns`);
  return batch.data[i]!;
}

function ms(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v instanceof Date) return v.getTime();
  throw new Error(`offline batch: event time is not epoch milliseconds: ${String(v)}`);
}

/**
 * Splits a batch into one batch per hour partition (rows keep their order within a partition).
 * Stores write one file per partition, so every file sits in the right `date=/hour=` directory.
 */
export function splitByPartition(batch: OfflineBatch): Array<{ partition: string; batch: OfflineBatch }> {
  const times = timesOf(batch);
  const rowsOf = new Map<number, number[]>();
  for (let r = 0; r < times.length; r++) {
    const h = Math.floor(ms(times[r]) / HOUR);
    let rows = rowsOf.get(h);
    if (!rows) rowsOf.set(h, (rows = []));
    rows.push(r);
  }
  const hours = [...rowsOf.keys()].sort((a, b) => a - b);
  if (hours.length === 1) return [{ partition: partitionOf(hours[0]! * HOUR), batch }];
  return hours.map((h) => {
    const rows = rowsOf.get(h)!;
    return {
      partition: partitionOf(h * HOUR),
      batch: { ...batch, data: batch.data.map((col) => rows.map((r) => col[r])) },
    };
  });
}
