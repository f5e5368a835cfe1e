import { createHash } from 'node:crypto';
import type { StoredGroupSpec } from '../model.js';
import type { FeatureValue } from '../runtime/api.js';
import type { GroupRead, StateGroup } from '../runtime/state-group.js';
import type { StoredRecord, StoredWrite } from './record.js';
import { decodeStored, encodeStored } from './codec.js';
import { parseStoredValue, typedValues } from './values.js';

interface Slot {
  eventTime: number;
  expiresAt: number;
  /** null = tombstone (deleted at `eventTime`). */
  strings: Readonly<Record<string, string>> | null;
}

/** A stored group's read of one key. */
export interface StoredRead {
  readonly found: boolean;
  /** Record event time (the version); 0 when not found. */
  readonly version: number;
  readonly expiresAt: number;
  readonly strings: Readonly<Record<string, string>> | null;
  readonly values: Record<string, FeatureValue>;
}

/**
 * The in-memory state of one stored feature group: per key, the newest record by event time.
 *
 * Ordering and idempotency: `apply` is a per-key last-writer-wins by event time — a put with an
 * older event time than the stored record (or tombstone) is ignored, an equal one replaces it (the
 * later write of the log wins, deterministic under replay). Replaying the same writes therefore
 * converges to the same state. Expired records read as missing. Threading: engine loop only.
 * Checkpoints use the window state's shape: `drainDirty` / `encode` / `restore`.
 */
export class StoredGroupState implements StateGroup {
  private readonly slots = new Map<string, Slot>();
  private dirty = new Set<string>();
  readonly name: string;
  readonly layoutHash: string;

  constructor(readonly spec: StoredGroupSpec) {
    this.name = spec.name;
    this.layoutHash = storedLayoutHash(spec);
  }

  /** True when the key holds a live (not deleted) record, expired or not. */
  has(key: string): boolean {
    const s = this.slots.get(key);
    return s !== undefined && s.strings !== null;
  }

  /** Applies one write; returns true when the state changed. */
  apply(w: StoredWrite): boolean {
    const cur = this.slots.get(w.key);
    if (cur !== undefined && w.eventTime < cur.eventTime) return false;
    if (w.op === 'delete') {
      if (cur === undefined) {
        this.slots.set(w.key, { eventTime: w.eventTime, expiresAt: 0, strings: null });
      } else {
        cur.eventTime = w.eventTime;
        cur.expiresAt = 0;
        cur.strings = null;
      }
    } else {
      const expiresAt = w.expiresAt;
      if (cur === undefined) this.slots.set(w.key, { eventTime: w.eventTime, expiresAt, strings: w.strings });
      else {
        cur.eventTime = w.eventTime;
        cur.expiresAt = expiresAt;
        cur.strings = w.strings;
      }
    }
    this.dirty.add(w.key);
    return true;
  }

  /**
   * True when the key's current record is exactly this write (same event time, and the same texts and
   * expiry, or a tombstone for a delete): a client's retry of the last write, which changes nothing.
   */
  holds(w: StoredWrite): boolean {
    const s = this.slots.get(w.key);
    if (s === undefined || s.eventTime !== w.eventTime) return false;
    if (w.op === 'delete') return s.strings === null;
    return s.strings !== null && s.expiresAt === w.expiresAt && sameStrings(s.strings, w.strings);
  }

  /** The live record of a key as of `asOf` (missing if absent, deleted, expired, or newer than `asOf`). */
  get(key: string, asOf: number): StoredRecord | null {
    const s = this.slots.get(key);
    if (s === undefined || s.strings === null) return null;
    if (s.expiresAt !== 0 && s.expiresAt <= asOf) return null;
    if (s.eventTime > asOf) return null;
    return { strings: s.strings, eventTime: s.eventTime, expiresAt: s.expiresAt };
  }

  /** The engine's read (typed values; booleans included although GroupRead names numbers and strings). */
  read(key: string, asOf: number): GroupRead {
    const r = this.readRecord(key, asOf);
    return { found: r.found, version: r.version, values: r.values as GroupRead['values'] };
  }

  /** `read`'s values written into `out` in the order of the group's fields, without objects; returns `found`. */
  readInto(key: string, asOf: number, out: FeatureValue[]): boolean {
    const r = this.get(key, asOf);
    const fields = this.spec.fields;
    if (r === null) {
      for (let i = 0; i < fields.length; i++) out[i] = null;
      return false;
    }
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      const s = r.strings[f.name];
      out[i] = s === undefined ? null : (parseStoredValue(f.type, s) ?? null);
    }
    return true;
  }

  /** The record with its original texts (GetRecord) and expiry. */
  readRecord(key: string, asOf: number): StoredRead {
    const r = this.get(key, asOf);
    if (r === null) return { found: false, version: 0, expiresAt: 0, strings: null, values: nullValues(this.spec) };
    return { found: true, version: r.eventTime, expiresAt: r.expiresAt, strings: r.strings, values: typedValues(this.spec, r.strings) };
  }

  /** Epoch ms at which a key's live record expires; undefined when it never does, or for tombstones and unknown keys. */
  expiresAt(key: string): number | undefined {
    const s = this.slots.get(key);
    return s === undefined || s.strings === null || s.expiresAt === 0 ? undefined : s.expiresAt;
  }

  /** Version (event time) held for a key, tombstones included; 0 if none. */
  version(key: string): number {
    return this.slots.get(key)?.eventTime ?? 0;
  }

  get size(): number {
    return this.slots.size;
  }

  /** Keys changed since the last call. */
  drainDirty(): string[] {
    const out = [...this.dirty];
    this.dirty = new Set();
    return out;
  }

  /** Encoded state of a key (tombstones included, so deletes survive restore); null if the key is unknown. */
  encode(key: string): Uint8Array | null {
    const s = this.slots.get(key);
    if (s === undefined) return null;
    return encodeStored(s.eventTime, s.expiresAt, s.strings);
  }

  restore(key: string, bytes: Uint8Array): void {
    const d = decodeStored(bytes);
    this.slots.set(key, d.tombstone ? { eventTime: d.eventTime, expiresAt: 0, strings: null } : { eventTime: d.eventTime, expiresAt: d.expiresAt, strings: d.strings });
  }

  /** Drops expired records and tombstones older than `before` (call between checkpoints; marks them dirty). */
  sweep(now: number, tombstonesBefore: number): number {
    let n = 0;
    for (const [k, s] of this.slots) {
      if ((s.strings !== null && s.expiresAt !== 0 && s.expiresAt <= now) || (s.strings === null && s.eventTime < tombstonesBefore)) {
        this.slots.delete(k);
        this.dirty.add(k);
        n++;
      }
    }
    return n;
  }

  keys(): IterableIterator<string> {
    return this.slots.keys();
  }
}

function sameStrings(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a[k] !== b[k]) return false;
  return true;
}

export function nullValues(spec: StoredGroupSpec): Record<string, FeatureValue> {
  const out: Record<string, FeatureValue> = {};
  for (const f of spec.fields) out[f.name] = null;
  return out;
}

/** Hash of what the encoded records depend on: the group's fields, types and event-time field. */
export function storedLayoutHash(spec: StoredGroupSpec): string {
  const desc = JSON.stringify(['stored/1', spec.eventTimeField, spec.fields.map((f) => [f.name, f.type])]);
  return createHash('sha256').update(desc).digest('hex').slice(0, 16);
}
