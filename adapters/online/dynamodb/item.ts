import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { OnlineRecord } from '../../../core/contracts/online-store.js';

/**
 * One record as a DynamoDB item: `pk` = `<group>#<key>` (group names are config identifiers, so the
 * first `#` ends the group), `v` = version (N), `d` = value (B), `e` = expiresAt in epoch ms (N, absent:
 * never), `ttl` = expiresAt in epoch *seconds*, rounded up, for DynamoDB's own TTL deletion.
 */
export function pkOf(group: string, key: string): string {
  return `${group}#${key}`;
}

export function toItem(r: OnlineRecord): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue> = {
    pk: { S: pkOf(r.group, r.key) },
    v: { N: String(r.version) },
    d: { B: r.value },
  };
  if (r.expiresAt !== undefined) {
    item.e = { N: String(Math.floor(r.expiresAt)) };
    item.ttl = { N: String(Math.ceil(r.expiresAt / 1000)) };
  }
  return item;
}

/** The record stored in `item` (read back under the caller's group and key). */
export function fromItem(group: string, key: string, item: Record<string, AttributeValue>): OnlineRecord | null {
  const v = item.v?.N;
  const d = item.d?.B;
  if (v === undefined || d === undefined) return null;
  const e = item.e?.N;
  const rec: OnlineRecord = { group, key, version: Number(v), value: d };
  return e === undefined ? rec : { ...rec, expiresAt: Number(e) };
}

/** The condition of every write: the item is absent or holds an older version. */
export const NEWER_VERSION_CONDITION = 'attribute_not_exists(v) OR v < :v';
/** The condition of a delete: the item holds a version not newer than the delete's. */
export const DELETE_CONDITION = 'attribute_exists(v) AND v <= :v';
