import type { Rejection } from '../../../core/runtime/api.js';

/** One stored event of a push log: the client's event (without `producerId`/`seq`) and its dedupe tags. */
export interface LoggedEvent {
  readonly v: unknown;
  /** Producer id, when the client sent one. */
  readonly p?: string;
  /** The producer's sequence number for this event. */
  readonly q?: number;
}

/**
 * One write-ahead-log record: one accepted ingest batch. Its events get the positions
 * `s, s+1, ...`; a batch whose events were all rejected or duplicates is still logged when it
 * carries an idempotency key, so a retry gets the same answer after a restart.
 */
export interface LogEntry {
  /** Position of the first event. */
  readonly s: number;
  /** Accepted-at (epoch ms). */
  readonly t: number;
  readonly e: readonly LoggedEvent[];
  /** Idempotency key of the batch. */
  readonly k?: string;
  /** Rejections of the batch (kept for idempotent replies). */
  readonly r?: readonly Rejection[];
  /** Events acknowledged as producer-sequence duplicates. */
  readonly d?: number;
}

export function encodeEntry(entry: LogEntry): Buffer {
  return Buffer.from(JSON.stringify(entry), 'utf8');
}

export function decodeEntry(payload: Buffer): LogEntry {
  const e = JSON.parse(payload.toString('utf8')) as LogEntry;
  if (typeof e.s !== 'number' || !Array.isArray(e.e) || typeof e.t !== 'number') {
    throw new Error('log entry lacks s/t/e');
  }
  return e;
}

/** End position of an entry (the position after its last event). */
export const entryEnd = (e: LogEntry): number => e.s + e.e.length;
