import type { StagedFile } from '../contracts/offline-store.js';
import type { PositionMap } from '../contracts/position.js';
import { corruptError } from './frame.js';

/**
 * Payload of a state file (snapshot or delta), inside the frame:
 *
 * ```
 * u32 LE  header length h
 * h       header JSON (StateFileHeader: id, positions, offline files, meta, group names, entry count)
 * then `count` entries:
 *   u16 LE  group index (into header.groups)
 *   u32 LE  key length k,   k bytes key (UTF-8)
 *   u32 LE  value length v (0xFFFFFFFF = deletion),  v bytes value (the group's encoded entity state)
 * ```
 */
export interface StateFileHeader {
  readonly type: 'snapshot' | 'delta';
  readonly id: number;
  readonly createdAt: number;
  readonly positions: PositionMap;
  readonly offlineFiles: readonly StagedFile[];
  readonly meta: Readonly<Record<string, unknown>>;
  readonly groups: readonly string[];
  readonly count: number;
}

/** Value length that marks a deletion (fold.ts reads it). */
export const DELETED = 0xffffffff;
const CHUNK_BYTES = 1 << 20;

/** Serializes a header + entries into payload chunks (~1 MiB each). */
export class StateFileWriter {
  private readonly chunks: Buffer[] = [];
  private buf = Buffer.allocUnsafe(CHUNK_BYTES);
  private at = 0;
  private readonly groupIndex = new Map<string, number>();
  private readonly groups: string[] = [];
  private count = 0;

  groupId(group: string): number {
    let i = this.groupIndex.get(group);
    if (i === undefined) {
      i = this.groups.length;
      if (i > 0xffff) throw new Error('too many feature groups in one checkpoint');
      this.groups.push(group);
      this.groupIndex.set(group, i);
    }
    return i;
  }

  private ensure(n: number): void {
    if (this.at + n <= this.buf.byteLength) return;
    if (this.at > 0) this.chunks.push(this.buf.subarray(0, this.at));
    this.buf = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, n));
    this.at = 0;
  }

  add(group: string, key: string, value: Uint8Array | null): void {
    this.addEncodedKey(group, key, 'utf8', value);
  }

  /** As `add`, with the key given as a latin1 string of its UTF-8 bytes (as FoldIndex holds keys). */
  addLatin1Key(group: string, keyLatin1: string, value: Uint8Array | null): void {
    this.addEncodedKey(group, keyLatin1, 'latin1', value);
  }

  private addEncodedKey(group: string, key: string, encoding: 'utf8' | 'latin1', value: Uint8Array | null): void {
    const g = this.groupId(group);
    const keyLen = encoding === 'latin1' ? key.length : Buffer.byteLength(key, 'utf8');
    const valueLen = value === null ? 0 : value.byteLength;
    this.ensure(10 + keyLen + valueLen);
    const b = this.buf;
    b.writeUInt16LE(g, this.at);
    b.writeUInt32LE(keyLen, this.at + 2);
    b.write(key, this.at + 6, keyLen, encoding);
    this.at += 6 + keyLen;
    b.writeUInt32LE(value === null ? DELETED : valueLen, this.at);
    this.at += 4;
    if (value !== null) {
      b.set(value, this.at);
      this.at += valueLen;
    }
    this.count++;
  }

  /** The payload chunks: header length, header JSON, entries. */
  finish(header: Omit<StateFileHeader, 'groups' | 'count'>): Buffer[] {
    if (this.at > 0) this.chunks.push(this.buf.subarray(0, this.at));
    this.at = 0;
    const json = Buffer.from(JSON.stringify({ ...header, groups: this.groups, count: this.count }), 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(json.byteLength, 0);
    return [len, json, ...this.chunks];
  }
}

export interface ParsedStateFile {
  readonly header: StateFileHeader;
  /** Offset of the first entry in the payload (entries are read and verified by fold.ts). */
  readonly entriesAt: number;
}

/**
 * Parses a verified payload's header; structural errors are reported as CHECKPOINT_CORRUPT with the
 * file name. The entries after it are read (and their framing verified) by `FoldIndex` (fold.ts).
 */
export function parseStateFile(payload: Buffer, file: string): ParsedStateFile {
  if (payload.byteLength < 4) throw corruptError(file, 'state payload too short');
  const hlen = payload.readUInt32LE(0);
  if (4 + hlen > payload.byteLength) throw corruptError(file, 'header length beyond payload');
  let header: StateFileHeader;
  try {
    header = JSON.parse(payload.toString('utf8', 4, 4 + hlen)) as StateFileHeader;
  } catch (e) {
    throw corruptError(file, `header is not JSON (${(e as Error).message})`);
  }
  if (typeof header.id !== 'number' || !Array.isArray(header.groups) || typeof header.count !== 'number') {
    throw corruptError(file, 'header lacks id/groups/count');
  }
  return { header, entriesAt: 4 + hlen };
}
