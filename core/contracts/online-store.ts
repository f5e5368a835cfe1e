import type { Logger } from './logger.js';

/**
 * One entity's online record. `value` is opaque to the store: the engine's encoded partial
 * aggregates (tiles and recent events) for aggregated groups, or the record's values for stored
 * groups; the engine finalizes windows at read time, so a store never computes features.
 */
export interface OnlineRecord {
  readonly group: string;
  readonly key: string;
  /**
   * Monotonic per (group, key): the entity's applied-event sequence for aggregated groups, the
   * record's event time for stored groups. A write is applied only if its version is strictly
   * greater than the stored one; equal or older versions are ignored (replays converge).
   */
  readonly version: number;
  readonly value: Uint8Array;
  /** Epoch ms after which the record reads as missing, even if the backend still holds it. */
  readonly expiresAt?: number;
}

export interface OnlineWriteResult {
  /** Records written (their version was newer). */
  readonly applied: number;
  /** Records ignored because the store held an equal or newer version. */
  readonly skipped: number;
}

/**
 * An online store adapter.
 *
 * Idempotency and ordering: `write` is a *conditional* write per record — it takes effect only
 * when the record's version is newer than what the store holds (Redis: Lua compare-and-set;
 * DynamoDB: ConditionExpression). So batches may be retried, replayed after a crash, or delivered
 * out of order, and readers never see a version go backwards. A batch need not be atomic across
 * keys, but each key is all-or-nothing. `write` rejects (throws) only when the store is
 * unreachable or refuses the batch as a whole; the runtime then keeps the keys dirty and retries
 * with backoff — so a rejected batch may have been partly applied, which the version guard makes safe.
 *
 * Reads: `read` returns exactly one entry per requested key, in request order, `null` for a miss or
 * an expired record (expiry is checked on read with `now`, whatever the backend's own TTL does).
 *
 * Threading: the runtime may call `read` concurrently with itself and with one in-flight `write`;
 * it never issues two `write` calls at once.
 */
export interface OnlineStore {
  /** Connect, create tables/prefixes if configured to. Called once before any other call. */
  open(): Promise<void>;
  write(records: readonly OnlineRecord[]): Promise<OnlineWriteResult>;
  read(group: string, keys: readonly string[], now: number): Promise<ReadonlyArray<OnlineRecord | null>>;
  /** Delete a record if the stored version is not newer than `version` (SageMaker DeleteRecord). */
  delete(group: string, key: string, version: number): Promise<void>;
  /** True when the backend answers (for `/readyz`). */
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}

export interface OnlineStoreContext {
  readonly logger: Logger;
  /** Names of the feature groups that will be written (for per-group prefixes or tables). */
  readonly groups: readonly string[];
}
