import type { OnlineRecord } from '../../../core/contracts/online-store.js';

/**
 * How one record is stored in Redis: a single string `<version>:<expiresAt>:<value bytes>`, version
 * and expiresAt (epoch ms, empty when the record never expires) in decimal ASCII. One GET reads it;
 * the scripts compare versions from the header alone.
 */
export function packRecord(r: OnlineRecord): Buffer {
  const head = Buffer.from(`${r.version}:${r.expiresAt === undefined ? '' : Math.floor(r.expiresAt)}:`, 'latin1');
  const out = Buffer.allocUnsafe(head.length + r.value.length);
  head.copy(out, 0);
  out.set(r.value, head.length);
  return out;
}

const COLON = 0x3a;

/** The record stored as `buf` (under the caller's group and key), or null when `buf` is not one. */
export function unpackRecord(group: string, key: string, buf: Buffer): OnlineRecord | null {
  const a = buf.indexOf(COLON);
  if (a <= 0) return null;
  const b = buf.indexOf(COLON, a + 1);
  if (b < 0) return null;
  const version = Number(buf.toString('latin1', 0, a));
  if (!Number.isFinite(version)) return null;
  const value = buf.subarray(b + 1);
  if (b === a + 1) return { group, key, version, value };
  return { group, key, version, value, expiresAt: Number(buf.toString('latin1', a + 1, b)) };
}
