/**
 * Per-entity windowed aggregation state of one aggregated feature group.
 *
 * Threading: single-threaded; every method is synchronous and must be called from one event loop.
 * Ordering: `apply` calls for one key must come in the source split's order (that is what makes
 * versions and lateness decisions deterministic under replay); keys are independent.
 * Idempotency: `apply` is NOT idempotent — replaying an event applies it again; exactly-once comes
 * from restoring a checkpoint (`restore`) and replaying from its positions.
 * Reads (`read`, `readEncoded`) never change state and finalize windows at the read time.
 */
import { FenestraError } from '../errors.js';
import type { AggregatedGroupSpec, SourceSpec } from '../model.js';
import { decodeEntity, encodeEntity, encodeEntityShared } from './codec.js';
import { emptyValues, emptyValuesInto, readEntity, readEntityInto, type AggRead, type AggValue } from './entity-read.js';
import { dirtyEpoch, H_NEWEST, H_VERSION, insertEvent, MAX_EPOCH, newEntity, setDirtyEpoch, type RawValue } from './entity-array.js';
import { compiledFor, type CompiledGroup } from './layout.js';
import { maintain, needsMaintenance } from './maintenance.js';
import type { Cells } from './partial.js';
import { emptyFrom } from './retention.js';

export type { AggRead, AggValue } from './entity-read.js';

/** Version written into an entity array that is no longer the key's (replaced or deleted). */
const STALE = -1;

export type ApplyOutcome = { ok: true; version: number } | { ok: false; code: 'EVENT_LATE'; reason: string };

function iso(t: number): string {
  return Number.isFinite(t) && Math.abs(t) < 8.64e15 ? new Date(t).toISOString() : String(t);
}

function checkAsOf(asOf: number): void {
  if (!Number.isFinite(asOf)) throw new FenestraError('INVALID_AS_OF', `asOf ${String(asOf)} is not a finite epoch-millisecond time`);
}

export class AggregatedGroupState {
  readonly name: string;
  /** Hash of everything `encode()` depends on (fields, aggregations, windows, precisions, lateness). */
  readonly layoutHash: string;
  private readonly g: CompiledGroup;
  /** One flat array per entity (see entity-array.ts). */
  private readonly raws = new Map<string, Cells>();
  /**
   * Keys changed since the last `drainDirty`, each once, in first-change order: a key is listed
   * exactly when its entity's dirty lane holds the current `epoch` (entity-array.ts) or it is in
   * `deleted` (deleted or evicted since the last drain). Keeping the mark in the entity's own array,
   * which `apply` touches anyway, saves a hash-set insert (a cache miss over 100k+ keys) per event,
   * and a drain just moves the epoch on.
   */
  private dirtyKeys: string[] = [];
  /**
   * Beside each listed key, its array when it was listed (undefined when listed by a deletion), so
   * that a checkpoint cut's `encode` calls need no second lookup. An array that `apply`, `restore`
   * or `delete` replaces or drops gets the version STALE, and `encode` then looks the key up.
   */
  private dirtyArrays: Array<Cells | undefined> = [];
  private deleted: Set<string> | null = null;
  private epoch = 1;
  /** What the last `drainDirty` returned, for `encode` (see there); null after any change. */
  private drainedKeys: string[] | null = null;
  private drainedArrays: Array<Cells | undefined> = [];
  private drainedAt = 0;
  private readonly values: RawValue[];

  constructor(spec: AggregatedGroupSpec, source: SourceSpec) {
    this.g = compiledFor(spec, source);
    this.name = spec.name;
    this.layoutHash = this.g.layoutHash;
    this.values = new Array<RawValue>(this.g.fields.length).fill(null);
  }

  /**
   * Applies one event (decoded field values by field name) at event time `ts` (integer epoch ms).
   * Late events (ts < newest event time of the key − allowedLateness) are rejected and change
   * nothing; others are placed by event time (after earlier arrivals with the same time).
   * Throws (changing nothing) EVENT_TIME_INVALID for a non-integer time and EVENT_FIELD_MISSING
   * when a field the schema requires is absent (the decoder should have dead-lettered the event).
   */
  apply(key: string, ts: number, event: Readonly<Record<string, unknown>>): ApplyOutcome {
    if (!Number.isSafeInteger(ts)) {
      throw new FenestraError('EVENT_TIME_INVALID', `event time ${String(ts)} is not an integer number of epoch milliseconds`);
    }
    const g = this.g;
    const fields = g.fields;
    const values = this.values;
    for (let j = 0; j < fields.length; j++) {
      const f = fields[j]!;
      const v = event[f.name];
      const x = f.numeric ? (typeof v === 'number' ? v : typeof v === 'boolean' ? (v ? 1 : 0) : NaN) : typeof v === 'string' ? v : null;
      if (f.required && (x === null || x !== x)) {
        throw new FenestraError('EVENT_FIELD_MISSING', `${f.name}: required by the source schema but missing or not a ${f.numeric ? 'number' : 'string'}`, { path: f.name });
      }
      values[j] = x;
    }
    let raw = this.raws.get(key);
    if (raw === undefined) {
      raw = newEntity(g, 1);
      this.raws.set(key, raw);
      if (this.deleted !== null && this.deleted.has(key)) setDirtyEpoch(g, raw, this.epoch); // listed by the deletion
    }
    const first = raw;
    const newest = raw[H_NEWEST] as number;
    if (ts < newest - g.allowedLateness) {
      return {
        ok: false,
        code: 'EVENT_LATE',
        reason: `event time ${iso(ts)} is older than the newest event of key "${key}" (${iso(newest)}) minus allowedLateness ${g.allowedLateness} ms (${iso(newest - g.allowedLateness)})`,
      };
    }
    const grown = insertEvent(g, raw, ts, values);
    if (grown !== raw) this.raws.set(key, (raw = grown));
    const version = (raw[H_VERSION] as number) + 1;
    raw[H_VERSION] = version;
    if (ts > newest) {
      raw[H_NEWEST] = ts;
      if (needsMaintenance(g, raw, newest)) {
        const after = maintain(g, raw, newest);
        if (after !== raw) this.raws.set(key, (raw = after));
      }
    }
    if (raw !== first) first[H_VERSION] = STALE;
    if (dirtyEpoch(g, raw) !== this.epoch) {
      setDirtyEpoch(g, raw, this.epoch);
      this.dirtyKeys.push(key);
      this.dirtyArrays.push(raw);
    }
    if (this.drainedKeys !== null) this.forgetDrained();
    return { ok: true, version };
  }

  /** Aggregated features of `key` as of `asOf`; unknown key → found:false, counts and sums 0, others null. */
  read(key: string, asOf: number): AggRead {
    checkAsOf(asOf);
    const raw = this.raws.get(key);
    if (raw === undefined) return { found: false, version: 0, values: emptyValues(this.g) };
    return readEntity(this.g, raw, asOf);
  }

  /**
   * `read` into `out`, indexed like the group's features (spec order), without an object per read
   * (a Float64Array, null as NaN, when every feature is numeric: `numericFeatures`)
   * (training-set replays). Returns whether the key has state.
   */
  readInto(key: string, asOf: number, out: AggValue[] | Float64Array): boolean {
    checkAsOf(asOf);
    const raw = this.raws.get(key);
    if (raw === undefined) emptyValuesInto(this.g, out);
    else readEntityInto(this.g, raw, asOf, out);
    return raw !== undefined;
  }

  has(key: string): boolean {
    return this.raws.has(key);
  }

  get size(): number {
    return this.raws.size;
  }

  keys(): IterableIterator<string> {
    return this.raws.keys();
  }

  /**
   * Keys changed (applied, deleted or evicted) since the last call, in first-change order; clears
   * the set. A returned key whose `encode()` is null was deleted or evicted.
   */
  drainDirty(): string[] {
    const keys = this.dirtyKeys;
    this.drainedKeys = keys;
    this.drainedArrays = this.dirtyArrays;
    this.drainedAt = 0;
    this.dirtyKeys = [];
    this.dirtyArrays = [];
    this.deleted = null;
    if (this.epoch === MAX_EPOCH) {
      // Once in 67M drains: clear every lane so that old epochs cannot come round again.
      for (const raw of this.raws.values()) setDirtyEpoch(this.g, raw, 0);
      this.epoch = 1;
    } else this.epoch++;
    return keys.slice();
  }

  private forgetDrained(): void {
    this.drainedKeys = null;
    this.drainedArrays = [];
  }

  /**
   * Compact binary encoding of one entity's state (null for an unknown key); the bytes never change.
   * Calls right after `drainDirty` for its keys in its order, with no change in between (a checkpoint
   * cut encoding what it drained), take the arrays the drain kept (no second lookup) and return
   * views into a shared 1 MiB slab (see `encodeEntityShared`): cheap to make, but each keeps its
   * slab alive, so a caller that keeps such values for long rather than writing them out should copy
   * them. Every other call returns a fresh copy.
   */
  encode(key: string): Uint8Array | null {
    const keys = this.drainedKeys;
    if (keys !== null && keys[this.drainedAt] === key) {
      const i = this.drainedAt++;
      let raw = this.drainedArrays[i];
      if (this.drainedAt === keys.length) this.forgetDrained();
      if (raw === undefined || raw[H_VERSION] === STALE) raw = this.raws.get(key);
      return raw === undefined ? null : encodeEntityShared(this.g, raw);
    }
    const raw = this.raws.get(key);
    return raw === undefined ? null : encodeEntity(this.g, raw);
  }

  /**
   * Replaces the state of `key` with decoded bytes (does not mark it dirty). Throws
   * CHECKPOINT_CORRUPT on malformed bytes (state unchanged) or CHECKPOINT_MISMATCH for bytes
   * written under another feature layout.
   */
  restore(key: string, bytes: Uint8Array): void {
    const g = this.g;
    const raw = decodeEntity(g, bytes);
    const old = this.raws.get(key);
    // Not a change of its own, but a key that was listed stays listed (with its mark).
    if (old !== undefined ? dirtyEpoch(g, old) === this.epoch : this.deleted !== null && this.deleted.has(key)) setDirtyEpoch(g, raw, this.epoch);
    if (old !== undefined) old[H_VERSION] = STALE;
    this.raws.set(key, raw);
    this.forgetDrained();
  }

  /** Forgets `key` (marks it dirty so a checkpoint / online flush sees the deletion). */
  delete(key: string): void {
    const raw = this.raws.get(key);
    if (raw === undefined) return;
    this.raws.delete(key);
    raw[H_VERSION] = STALE;
    this.forgetDrained();
    if (dirtyEpoch(this.g, raw) !== this.epoch) {
      this.dirtyKeys.push(key);
      this.dirtyArrays.push(undefined);
    }
    (this.deleted ??= new Set()).add(key);
  }

  /**
   * Drops entities whose every window is empty as of `now − allowedLateness` and stays empty for
   * any later read (never those with lifetime windows). Evicted keys are returned and marked dirty.
   * An evicted key that sees events again starts over at version 1.
   */
  evictIdle(now: number): string[] {
    const g = this.g;
    if (g.life) return [];
    const t = now - g.allowedLateness;
    const evicted: string[] = [];
    for (const [key, raw] of this.raws) {
      const newest = raw[H_NEWEST] as number;
      let idle = true;
      for (const plan of g.plans) {
        if (emptyFrom(plan, g, newest) > t) {
          idle = false;
          break;
        }
      }
      if (idle) evicted.push(key);
    }
    for (const key of evicted) this.delete(key);
    return evicted;
  }
}

/** Read an encoded entity without a state object (online-store reads by stateless serving instances). */
export function readEncoded(spec: AggregatedGroupSpec, source: SourceSpec, bytes: Uint8Array, asOf: number): AggRead {
  checkAsOf(asOf);
  const g = compiledFor(spec, source);
  return readEntity(g, decodeEntity(g, bytes), asOf);
}
