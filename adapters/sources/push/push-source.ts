import { makeDecoder, type Decoder } from '../../../core/event/decode.js';
import { FenestraError } from '../../../core/errors.js';
import type { Rejection } from '../../../core/runtime/api.js';
import type { Source, SourceContext, SourceRecord } from '../../../core/contracts/source.js';
import type { Position } from '../../../core/contracts/position.js';
import type { SourceSpec } from '../../../core/model.js';
import { WriteAheadLog } from './wal.js';
import { DedupeTables, type BatchOutcome } from './dedupe.js';
import { decodeEntry, encodeEntry, entryEnd, type LogEntry, type LoggedEvent } from './log-entry.js';
import type { PushSourceOptions } from './options.js';

/** The one split of a push source: its write-ahead log. */
export const PUSH_SPLIT = 'log';

export interface AppendOptions {
  /** Batch idempotency key (HTTP `Idempotency-Key`): a retried batch is answered again and counted once. */
  readonly idempotencyKey?: string;
  /** Producer id for events that carry a sequence number but no producer id of their own. */
  readonly producerId?: string;
}

/** The answer to an ingest batch, given once the accepted events are durable. */
export interface AppendResult extends BatchOutcome {
  /** True when the whole batch was a retry of an already acknowledged idempotency key. */
  readonly duplicate: boolean;
}

/**
 * A source whose records come from clients (HTTP `POST /v1/ingest/:source`, WebSocket `ingest`).
 *
 * Durability: `append` validates each event against the source schema, writes the accepted ones as
 * one record of a segmented write-ahead log (group commit: one fsync for everything appended in the
 * same tick) and resolves only once they are durable. The log is the source's single split; its
 * position (the number of events ever appended) is what the engine checkpoints, so a restart replays
 * exactly the events after the last checkpoint.
 *
 * Idempotency: a batch with an idempotency key already seen is answered with the first answer
 * (`duplicate: true`) and not appended; an event whose `seq` is at most its producer's highest
 * accepted `seq` is acknowledged as a duplicate and not appended. Both tables are rebuilt from the
 * retained log on open (dedupe therefore survives SIGKILL for the retention period).
 *
 * Ordering and threading: `poll` returns records in log order, only durable ones; it is called from
 * the engine loop only. `append` may be called concurrently from many requests; a call to `poll`
 * means every record returned by earlier polls has been applied, which resolves `waitVisible`.
 */
export class PushSource implements Source {
  private wal: WriteAheadLog | null = null;
  private dedupe: DedupeTables | null = null;
  private decode: Decoder;
  /** Position the next accepted event gets. */
  private next = 0;
  /** Durable records not yet handed out by `poll`. */
  private ready: SourceRecord[] = [];
  private readyHead = 0;
  /** Appended but not yet durable records, in position order. */
  private unsynced: Array<{ readonly end: number; readonly records: SourceRecord[]; readonly producers: LoggedEvent[] }> = [];
  /** Position after the last record handed out by `poll`. */
  private handedOut = 0;
  /** Position up to which records are applied by the engine (the previous poll's hand-out). */
  private applied = 0;
  private wake: (() => void) | null = null;
  private visibleWaiters: Array<{ readonly position: number; readonly resolve: () => void }> = [];
  private opened = false;
  private closed = false;

  constructor(
    readonly spec: SourceSpec,
    private readonly options: PushSourceOptions,
  ) {
    this.decode = makeDecoder(spec);
  }

  get name(): string {
    return this.spec.name;
  }

  isOpen(): boolean {
    return this.opened && !this.closed;
  }

  async open(ctx: SourceContext): Promise<void> {
    const restored = ctx.restored.find((s) => s.id === PUSH_SPLIT);
    const from = restored === undefined ? 0 : Number(restored.position);
    const dedupe = new DedupeTables(ctx.dataDir);
    const keyCutoff = Date.now() - this.options.retentionMs;
    await dedupe.loadSnapshot();
    const scan = new WriteAheadLog({ dir: ctx.dataDir, segmentBytes: this.options.segmentBytes });
    let next = 0;
    await scan.open((payload) => {
      const entry = decodeEntry(payload);
      const end = entryEnd(entry);
      for (let i = 0; i < entry.e.length; i++) {
        const ev = entry.e[i]!;
        if (ev.p !== undefined && ev.q !== undefined) dedupe.raiseDurable(ev.p, ev.q);
        const position = entry.s + i + 1;
        if (position > from) this.ready.push(this.toRecord(ev, position, entry.t));
      }
      if (entry.k !== undefined && entry.t >= keyCutoff) dedupe.rememberKey(entry.k, outcomeOf(entry), entry.t);
      next = Math.max(next, end);
      return { end, at: entry.t };
    });
    this.wal = scan;
    this.dedupe = dedupe;
    this.next = Math.max(next, from);
    this.handedOut = from;
    this.applied = from;
    this.opened = true;
    ctx.logger.info({ from, head: this.next, replay: this.ready.length, keys: dedupe.keyCount }, 'push source log opened');
  }

  /**
   * Validates and durably appends a batch. Resolves once the accepted events are durable (or, for a
   * retry, once the original is). Rejected events are reported by index and never appended.
   */
  async append(events: readonly unknown[], opts: AppendOptions = {}): Promise<AppendResult> {
    const wal = this.wal;
    const dedupe = this.dedupe;
    if (!this.opened || this.closed || wal === null || dedupe === null) {
      throw new FenestraError('NOT_READY', `source "${this.spec.name}" is not open yet`);
    }
    const key = opts.idempotencyKey;
    if (key !== undefined) {
      const seen = dedupe.keyOutcome(key);
      if (seen !== undefined) {
        await wal.sync();
        return { ...seen, duplicate: true };
      }
    }
    const now = Date.now();
    const rejected: Rejection[] = [];
    const logged: LoggedEvent[] = [];
    let duplicates = 0;
    const batchHighs = new Map<string, number>();
    for (let i = 0; i < events.length; i++) {
      const split = this.splitTags(events[i], opts.producerId);
      if ('rejection' in split) {
        rejected.push({ index: i, ...split.rejection });
        continue;
      }
      const d = this.decode(split.value);
      if (!d.ok) {
        rejected.push({ index: i, code: d.code, ...(d.field === undefined ? {} : { field: d.field }), reason: d.reason });
        continue;
      }
      if (split.p !== undefined && split.q !== undefined) {
        const high = Math.max(dedupe.high(split.p), batchHighs.get(split.p) ?? Number.NEGATIVE_INFINITY);
        if (split.q <= high) {
          duplicates++;
          continue;
        }
        batchHighs.set(split.p, split.q);
        logged.push({ v: split.value, p: split.p, q: split.q });
      } else {
        logged.push({ v: split.value });
      }
    }
    const start = this.next;
    const outcome: BatchOutcome = { accepted: logged.length, rejected, duplicates, position: start + logged.length };
    if (logged.length > 0 || key !== undefined) {
      const entry: LogEntry = {
        s: start,
        t: now,
        e: logged,
        ...(key === undefined ? {} : { k: key }),
        ...(rejected.length > 0 ? { r: rejected } : {}),
        ...(duplicates > 0 ? { d: duplicates } : {}),
      };
      this.next = outcome.position;
      for (const [p, q] of batchHighs) dedupe.raise(p, q);
      if (key !== undefined) dedupe.rememberKey(key, outcome, now);
      const records = logged.map((ev, i) => this.toRecord(ev, start + i + 1, now));
      this.unsynced.push({ end: outcome.position, records, producers: logged });
      wal.append(encodeEntry(entry), { end: outcome.position, at: now });
    }
    await wal.sync();
    this.release(outcome.position);
    return { ...outcome, duplicate: false };
  }

  /** Moves durable records (everything up to `durableEnd`) to the poll queue and wakes a waiting poll. */
  private release(durableEnd: number): void {
    let n = 0;
    while (n < this.unsynced.length && this.unsynced[n]!.end <= durableEnd) {
      const u = this.unsynced[n]!;
      for (const r of u.records) this.ready.push(r);
      for (const ev of u.producers) if (ev.p !== undefined && ev.q !== undefined) this.dedupe!.raiseDurable(ev.p, ev.q);
      n++;
    }
    if (n === 0) return;
    this.unsynced.splice(0, n);
    const w = this.wake;
    if (w !== null) {
      this.wake = null;
      w();
    }
  }

  /** Separates the dedupe tags (`producerId`, `seq`) from the event, unless the schema owns those names. */
  private splitTags(
    raw: unknown,
    batchProducer: string | undefined,
  ): { value: unknown; p?: string; q?: number } | { rejection: Omit<Rejection, 'index'> } {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { value: raw };
    const obj = raw as Record<string, unknown>;
    const pf = this.options.producerIdField;
    const sf = this.options.seqField;
    const ownsP = this.spec.fields.some((f) => f.name === pf);
    const ownsQ = this.spec.fields.some((f) => f.name === sf);
    const hasP = !ownsP && obj[pf] !== undefined;
    const hasQ = !ownsQ && obj[sf] !== undefined;
    if (!hasP && !hasQ) return { value: raw };
    const value: Record<string, unknown> = { ...obj };
    if (hasP) delete value[pf];
    if (hasQ) delete value[sf];
    const p = hasP ? obj[pf] : batchProducer;
    if (hasP && (typeof p !== 'string' || p === '')) {
      return { rejection: { code: 'EVENT_FIELD_TYPE', field: pf, reason: `"${pf}" must be a non-empty string` } };
    }
    if (!hasQ) {
      return { rejection: { code: 'EVENT_FIELD_MISSING', field: sf, reason: `"${pf}" was given without "${sf}"` } };
    }
    const q = obj[sf];
    if (typeof q !== 'number' || !Number.isSafeInteger(q) || q < 0) {
      return { rejection: { code: 'EVENT_FIELD_TYPE', field: sf, reason: `"${sf}" must be a non-negative integer` } };
    }
    if (p === undefined) {
      return { rejection: { code: 'EVENT_FIELD_MISSING', field: pf, reason: `"${sf}" was given without "${pf}"` } };
    }
    return { value, p: p as string, q };
  }

  private toRecord(ev: LoggedEvent, position: number, at: number): SourceRecord {
    return { split: PUSH_SPLIT, position, value: ev.v, origin: `${this.spec.name} log position ${position - 1}`, producedAt: at };
  }

  async poll(max: number, waitMs: number): Promise<readonly SourceRecord[]> {
    // Everything handed out before this call has been applied (engine contract).
    this.applied = this.handedOut;
    this.resolveVisible();
    if (this.readyHead >= this.ready.length && waitMs > 0 && !this.closed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.wake = null;
          resolve();
        }, waitMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    const avail = this.ready.length - this.readyHead;
    if (avail <= 0) return [];
    const n = Math.min(max, avail);
    const out = this.ready.slice(this.readyHead, this.readyHead + n);
    this.readyHead += n;
    if (this.readyHead > 4096 && this.readyHead * 2 > this.ready.length) {
      this.ready = this.ready.slice(this.readyHead);
      this.readyHead = 0;
    }
    this.handedOut = out[out.length - 1]!.position as number;
    return out;
  }

  /** Resolves once every event before `position` has been applied by the engine (features reflect them). */
  waitVisible(position: number): Promise<void> {
    if (position <= this.applied) return Promise.resolve();
    return new Promise((resolve) => {
      this.visibleWaiters.push({ position, resolve });
    });
  }

  private resolveVisible(): void {
    if (this.visibleWaiters.length === 0) return;
    const keep: typeof this.visibleWaiters = [];
    for (const w of this.visibleWaiters) {
      if (w.position <= this.applied) w.resolve();
      else keep.push(w);
    }
    this.visibleWaiters = keep;
  }

  finished(): boolean {
    return false;
  }

  /** Deletes log segments that are checkpointed and past the dedupe retention (age or total size). */
  async checkpointed(positions: Readonly<Record<string, Position>>): Promise<void> {
    const p = positions[PUSH_SPLIT];
    if (p === undefined || this.wal === null || this.dedupe === null) return;
    const now = Date.now();
    this.dedupe.expireKeys(now - this.options.retentionMs);
    const wal = this.wal;
    const cutoff = now - this.options.retentionMs;
    const candidates = (s: { lastAt: number }): boolean => s.lastAt < cutoff || wal.totalBytes() > this.options.retentionBytes;
    // Producer highs must outlive the segments that hold them: snapshot first, then delete.
    const dedupe = this.dedupe;
    await wal.truncate(Number(p), candidates, () => dedupe.saveSnapshot());
  }

  lag(): Readonly<Record<string, number>> {
    return { [PUSH_SPLIT]: this.ready.length - this.readyHead + this.unsynced.reduce((n, u) => n + u.records.length, 0) };
  }

  /** Position after the last durable event. */
  head(): number {
    return this.next;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const w = this.wake;
    this.wake = null;
    w?.();
    await this.wal?.close();
  }
}

function outcomeOf(entry: LogEntry): BatchOutcome {
  return { accepted: entry.e.length, rejected: entry.r ?? [], duplicates: entry.d ?? 0, position: entryEnd(entry) };
}
