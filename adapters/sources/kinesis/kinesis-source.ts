import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  type Shard,
  type ShardIteratorType,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Logger } from '../../../core/contracts/logger.js';
import type { Position } from '../../../core/contracts/position.js';
import type { Source, SourceContext, SourceRecord } from '../../../core/contracts/source.js';
import { FenestraError } from '../../../core/errors.js';
import { backoffMs, isThrottling } from './backoff.js';
import type { KinesisSourceOptions } from './options.js';
import { kinesisRecord } from './record.js';
import { ShardState } from './shard.js';

function sequenceOf(split: string, position: Position): string {
  const s = String(position);
  if (!/^\d{1,128}$/.test(s)) throw new FenestraError('CHECKPOINT_CORRUPT', `kinesis: checkpointed position ${JSON.stringify(position)} of shard ${split} is not a sequence number`);
  return s;
}

/**
 * The Kinesis source: each shard is a split; a position is the sequence number of the last applied
 * record, and a restored shard resumes AFTER_SEQUENCE_NUMBER it. One reader per shard fetches with
 * GetRecords into a bounded buffer that `poll` drains (readers wait while it is full).
 *
 * Resharding: the shard list is refreshed every `shardRefreshInterval` and as soon as a shard ends. A
 * child shard (split or merge) starts only when each of its parents still listed has ended *and* every
 * fetched record of it has been handed to the engine; a child without a restored position starts at
 * TRIM_HORIZON. Throttling (ProvisionedThroughputExceeded, LimitExceeded) is retried with exponential
 * backoff and full jitter; an expired iterator is renewed after the last fetched sequence number.
 * `lag()` reports MillisBehindLatest per shard (milliseconds, not records).
 *
 * One instance reads every shard (no lease table): scale-out over several instances is not offered.
 * Threading: readers and `poll` share the buffers on the one event loop, in synchronous sections.
 */
export class KinesisSource implements Source {
  private logger: Logger;
  private client: KinesisClient | undefined;
  private readonly shards = new Map<string, ShardState>();
  private readonly readers = new Set<Promise<void>>();
  private restored = new Map<string, string>();
  private order: ShardState[] = [];
  private rr = 0;
  private buffered = 0;
  private closed = false;
  private readonly abort = new AbortController();
  private wake: (() => void) | undefined;
  private spaceWaiters: Array<() => void> = [];
  private refreshTimer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private refreshAgain = false;
  /** Throttling errors answered by Kinesis so far (each one backed off). */
  throttles = 0;

  constructor(private readonly opts: KinesisSourceOptions, logger: Logger) {
    this.logger = logger;
  }

  async open(ctx: SourceContext): Promise<void> {
    this.logger = ctx.logger.child({ source: ctx.spec.name, stream: this.opts.stream });
    for (const s of ctx.restored) this.restored.set(s.id, sequenceOf(s.id, s.position));
    const o = this.opts;
    this.client = new KinesisClient({
      region: o.region,
      ...(o.endpoint ? { endpoint: o.endpoint } : {}),
      ...(o.credentials ? { credentials: { ...o.credentials } } : {}),
      requestHandler: new NodeHttpHandler({ connectionTimeout: 3_000, requestTimeout: 15_000 }),
      // Throttling and transient errors are retried here, with backoff, per shard.
      maxAttempts: 1,
    });
    try {
      await this.client.send(new DescribeStreamSummaryCommand({ StreamName: o.stream }));
    } catch (e) {
      this.client.destroy();
      throw new FenestraError('SOURCE_UNAVAILABLE', `kinesis source ${ctx.spec.name}: cannot describe stream "${o.stream}"${o.endpoint ? ` at ${o.endpoint}` : ` in ${o.region}`}: ${(e as Error).message}`, { cause: e });
    }
    await this.refreshShards();
    this.refreshTimer = setInterval(() => void this.refreshShards(), o.shardRefreshMs);
    this.refreshTimer.unref();
  }

  // --- shards --------------------------------------------------------------------------------

  private async listShards(): Promise<Shard[]> {
    const out: Shard[] = [];
    let token: string | undefined;
    for (let attempt = 0; ; ) {
      try {
        const res = await this.client!.send(new ListShardsCommand(token ? { NextToken: token } : { StreamName: this.opts.stream }), { abortSignal: this.abort.signal });
        out.push(...(res.Shards ?? []));
        token = res.NextToken;
        if (!token) return out;
      } catch (e) {
        if (this.closed) return out;
        if (!isThrottling(e) && attempt >= 5) throw e;
        if (isThrottling(e)) this.throttles++;
        await this.sleep(backoffMs(attempt++, this.opts.backoffBaseMs, this.opts.backoffMaxMs));
      }
    }
  }

  /** Learns new shards and starts every shard whose parents are drained (one refresh at a time). */
  private refreshShards(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        try {
          const listed = await this.listShards();
          for (const s of listed) {
            const id = s.ShardId!;
            if (this.shards.has(id)) continue;
            const parents = [s.ParentShardId, s.AdjacentParentShardId].filter((p): p is string => typeof p === 'string' && p !== '');
            this.shards.set(id, new ShardState(id, parents, this.restored.get(id)));
          }
          this.order = [...this.shards.values()];
          this.schedule();
        } catch (e) {
          this.logger.warn({ err: (e as Error).message }, 'kinesis shard list refresh failed');
        }
      } while (this.refreshAgain && !this.closed);
    })().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** Starts the reader of every waiting shard whose listed parents are drained. */
  private schedule(): void {
    if (this.closed) return;
    for (const s of this.shards.values()) {
      if (s.status !== 'waiting') continue;
      const ready = s.parents.every((p) => {
        const parent = this.shards.get(p);
        return parent === undefined || parent.drained; // a parent past retention is no longer listed
      });
      if (!ready) continue;
      s.status = 'reading';
      const reader = this.read(s).catch((e: unknown) => {
        if (!this.closed) this.logger.error({ err: (e as Error).message, shard: s.id }, 'kinesis shard reader stopped');
      });
      this.readers.add(reader);
      void reader.finally(() => this.readers.delete(reader));
    }
  }

  private async iterator(s: ShardState): Promise<string> {
    let type: ShardIteratorType;
    let seq: string | undefined = s.fetchedSeq ?? s.restored;
    if (seq !== undefined) type = 'AFTER_SEQUENCE_NUMBER';
    else {
      // A child of a shard this source read starts at its beginning, whatever the configured start.
      const hasListedParent = s.parents.some((p) => this.shards.has(p));
      type = this.opts.fromBeginning || hasListedParent ? 'TRIM_HORIZON' : 'LATEST';
      seq = undefined;
    }
    for (let attempt = 0; ; ) {
      try {
        const res = await this.client!.send(
          new GetShardIteratorCommand({ StreamName: this.opts.stream, ShardId: s.id, ShardIteratorType: type, ...(seq !== undefined ? { StartingSequenceNumber: seq } : {}) }),
          { abortSignal: this.abort.signal },
        );
        return res.ShardIterator!;
      } catch (e) {
        if (this.closed) throw e;
        if (isThrottling(e)) this.throttles++;
        else this.logger.warn({ err: (e as Error).message, shard: s.id }, 'kinesis GetShardIterator failed; retrying');
        await this.sleep(backoffMs(attempt++, this.opts.backoffBaseMs, this.opts.backoffMaxMs));
      }
    }
  }

  /** One shard's fetch loop, until the shard ends or the source closes. */
  private async read(s: ShardState): Promise<void> {
    let iterator = await this.iterator(s);
    let attempt = 0;
    while (!this.closed) {
      if (this.buffered >= this.opts.maxBuffered) {
        await new Promise<void>((r) => this.spaceWaiters.push(r));
        continue;
      }
      let res;
      try {
        res = await this.client!.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: this.opts.recordsPerCall }), { abortSignal: this.abort.signal });
        attempt = 0;
      } catch (e) {
        if (this.closed) return;
        const name = (e as { name?: string }).name;
        if (isThrottling(e)) {
          this.throttles++;
          this.logger.debug({ shard: s.id, attempt }, 'kinesis throttled; backing off');
        } else if (name === 'ExpiredIteratorException') {
          iterator = await this.iterator(s);
          continue;
        } else {
          this.logger.warn({ err: (e as Error).message, shard: s.id }, 'kinesis GetRecords failed; retrying');
        }
        await this.sleep(backoffMs(attempt++, this.opts.backoffBaseMs, this.opts.backoffMaxMs));
        continue;
      }
      if (this.closed) return;
      const records = res.Records ?? [];
      for (const r of records) {
        s.push(kinesisRecord(s.id, r));
        s.fetchedSeq = r.SequenceNumber;
      }
      this.buffered += records.length;
      if (res.MillisBehindLatest !== undefined) s.millisBehind = res.MillisBehindLatest;
      if (records.length > 0) this.notify();
      if (!res.NextShardIterator) {
        s.status = 'ended';
        this.logger.info({ shard: s.id }, 'kinesis shard ended (closed by resharding)');
        if (s.drained) this.schedule();
        void this.refreshShards();
        this.notify();
        return;
      }
      iterator = res.NextShardIterator;
      if (records.length === 0 || (res.MillisBehindLatest === 0 && records.length < this.opts.recordsPerCall)) await this.sleep(this.opts.idleWaitMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed) return resolve();
      const t = setTimeout(() => {
        this.abort.signal.removeEventListener('abort', done);
        resolve();
      }, ms);
      const done = () => {
        clearTimeout(t);
        resolve();
      };
      this.abort.signal.addEventListener('abort', done, { once: true });
    });
  }

  private notify(): void {
    const w = this.wake;
    if (w) {
      this.wake = undefined;
      w();
    }
  }

  // --- engine side ---------------------------------------------------------------------------

  async poll(max: number, waitMs: number): Promise<readonly SourceRecord[]> {
    if (this.buffered === 0 && waitMs > 0 && !this.closed) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          if (this.wake === done) this.wake = undefined;
          resolve();
        }, waitMs);
        const done = () => {
          clearTimeout(t);
          resolve();
        };
        this.wake = done;
      });
    }
    const out: SourceRecord[] = [];
    const n = this.order.length;
    if (this.buffered === 0 || n === 0) return out;
    let drainedOne = false;
    for (let i = 0; i < n && out.length < max; i++) {
      const s = this.order[(this.rr + i) % n]!;
      if (s.size === 0) continue;
      const taken = s.take(max - out.length);
      this.buffered -= taken.length;
      for (const r of taken) out.push(r);
      if (s.drained) drainedOne = true;
    }
    this.rr = (this.rr + 1) % n;
    if (this.buffered < this.opts.maxBuffered) {
      const waiters = this.spaceWaiters;
      this.spaceWaiters = [];
      for (const w of waiters) w();
    }
    // Children of a drained parent may start now: everything of the parent has been handed out.
    if (drainedOne) this.schedule();
    return out;
  }

  finished(): boolean {
    return false;
  }

  lag(): Readonly<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const s of this.shards.values()) if (s.status === 'reading' && s.millisBehind >= 0) out[s.id] = s.millisBehind;
    return out;
  }

  /** Shard ids by status (for tests and diagnostics). */
  shardStatus(): Readonly<Record<string, string>> {
    return Object.fromEntries([...this.shards.values()].map((s) => [s.id, s.drained ? 'drained' : s.status]));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.abort.abort();
    for (const w of this.spaceWaiters) w();
    this.spaceWaiters = [];
    this.notify();
    await Promise.allSettled([...this.readers]);
    await this.refreshing?.catch(() => undefined);
    this.client?.destroy();
  }
}
