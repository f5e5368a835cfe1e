import { FenestraError } from '../errors.js';
import type { StoredRecord } from './record.js';

/** Format version byte of an encoded stored record. */
const FORMAT = 1;
const TOMBSTONE = 2;

/**
 * Encodes a stored record (or a tombstone: `strings === null`) for checkpoints and online stores:
 * one format byte, then JSON `[eventTime, expiresAt, strings]`.
 */
export function encodeStored(eventTime: number, expiresAt: number, strings: Readonly<Record<string, string>> | null): Uint8Array {
  const body = Buffer.from(JSON.stringify(strings === null ? [eventTime] : [eventTime, expiresAt, strings]), 'utf8');
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = strings === null ? TOMBSTONE : FORMAT;
  body.copy(out, 1);
  return out;
}

export type DecodedStored = { readonly tombstone: true; readonly eventTime: number } | ({ readonly tombstone: false } & StoredRecord);

export function decodeStored(bytes: Uint8Array): DecodedStored {
  const kind = bytes[0];
  const text = Buffer.from(bytes.buffer, bytes.byteOffset + 1, bytes.byteLength - 1).toString('utf8');
  let arr: unknown;
  try {
    arr = JSON.parse(text);
  } catch {
    throw new FenestraError('CHECKPOINT_CORRUPT', 'stored record is not decodable');
  }
  if (!Array.isArray(arr) || typeof arr[0] !== 'number') throw new FenestraError('CHECKPOINT_CORRUPT', 'stored record has a bad shape');
  if (kind === TOMBSTONE) return { tombstone: true, eventTime: arr[0] };
  if (kind !== FORMAT) throw new FenestraError('CHECKPOINT_VERSION', `stored record format ${String(kind)} is unknown`);
  return { tombstone: false, eventTime: arr[0], expiresAt: arr[1] as number, strings: arr[2] as Record<string, string> };
}
