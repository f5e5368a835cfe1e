/**
 * A stored feature group's record as written (SageMaker PutRecord): the features' values as text,
 * keyed by feature name, plus the record's event time (its version) and expiry.
 */
export interface StoredRecord {
  /** Feature name → value as string, as the client wrote it (record identifier and event time included). */
  readonly strings: Readonly<Record<string, string>>;
  /** Event time in epoch ms; the record's version. */
  readonly eventTime: number;
  /** Epoch ms after which the record reads as missing; 0 = never. */
  readonly expiresAt: number;
}

/**
 * One write to a stored group, as it travels through the group's write-ahead log and replays.
 * `put` replaces the record when its event time is not older than the stored one;
 * `delete` removes it when the stored event time is not newer than the delete's (and leaves a
 * tombstone so that an older put replayed later cannot resurrect it).
 */
export type StoredWrite =
  | {
      readonly op: 'put';
      readonly key: string;
      readonly eventTime: number;
      readonly strings: Readonly<Record<string, string>>;
      readonly expiresAt: number;
    }
  | { readonly op: 'delete'; readonly key: string; readonly eventTime: number };

export function isStoredWrite(v: unknown): v is StoredWrite {
  if (typeof v !== 'object' || v === null) return false;
  const w = v as Record<string, unknown>;
  if (typeof w['key'] !== 'string' || typeof w['eventTime'] !== 'number') return false;
  if (w['op'] === 'delete') return true;
  return w['op'] === 'put' && typeof w['strings'] === 'object' && w['strings'] !== null && typeof w['expiresAt'] === 'number';
}
