import { Kafka, logLevel as kafkaLogLevel, type Admin, type Consumer, type EachBatchPayload, type LogEntry } from 'kafkajs';
import type { Position, SplitState } from '../../../core/contracts/position.js';
import type { Source, SourceContext, SourceRecord } from '../../../core/contracts/source.js';
import type { Logger } from '../../../core/contracts/logger.js';
import { FenestraError } from '../../../core/errors.js';
import type { KafkaSourceOptions } from './options.js';
import { PartitionBuffer } from './buffer.js';
import { hookedAssigner, type RebalanceHooks } from './rebalance-hooks.js';

/** Parses a checkpointed position (the next offset to read) of partition `split`. */
function offsetOf(split: string, position: Position): number {
  const n = typeof position === 'number' ? position : /^\d+$/.test(position) ? Number(position) : NaN;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new FenestraError('CHECKPOINT_CORRUPT', `kafka: checkpointed position ${JSON.stringify(position)} of partition ${split} is not an offset`);
  }
  return n;
}

function kafkajsLogger(logger: Logger) {
  return () => ({ level, log }: LogEntry) => {
    const { message, ...rest } = log;
    if (level === kafkaLogLevel.ERROR) logger.error(rest, message);
    else if (level === kafkaLogLevel.WARN) logger.warn(rest, message);
    else logger.debug(rest, message);
  };
}

/**
 * The Kafka source: each partition of `topic` is a split; a position is the next offset to read
 * (a decimal string). A consumer group spreads the partitions over the instances.
 *
 * kafkajs pushes batches; the source keeps them in a bounded buffer that `poll` drains (a partition
 * whose batch finds the buffer over `maxBuffered` is paused until it is half empty, so the buffer holds
 * at most `maxBuffered` + one fetch; kafkajs' fetch cursor is moved only past what was buffered). Consumer-group offsets are committed only in `checkpointed`,
 * for lag monitoring: the engine's checkpoint is the truth, and every assigned partition is sought to
 * the runtime's position (or the configured start), never to the group's committed offset.
 *
 * Rebalance (eager, see rebalance-hooks.ts): before rejoining, the source drops the buffered records
 * of every partition it owns, and waits for `ctx.onRevoked` (the runtime checkpoints them); after the
 * assignment it asks `ctx.onAssigned` for the restored positions and seeks to them before the first
 * fetch. The first assignment after `open` does the same (positions from `onAssigned` win over
 * `ctx.restored`, which the runtime loaded before other members checkpointed what they gave up).
 *
 * Threading: kafkajs callbacks and `poll` run on the same event loop; they share the buffers through
 * synchronous sections only.
 */
export class KafkaSource implements Source, RebalanceHooks {
  /** The consumer group assigns the partitions (the runtime may move them between instances with their state). */
  readonly assignsSplits = true;
  private ctx: SourceContext | undefined;
  private logger: Logger;
  private kafka: Kafka | undefined;
  private consumer: Consumer | undefined;
  private admin: Admin | undefined;
  private readonly parts = new Map<number, PartitionBuffer>();
  private order: PartitionBuffer[] = [];
  private rr = 0;
  private buffered = 0;
  private joined = false;
  private closing = false;
  private fatal: Error | undefined;
  private wake: (() => void) | undefined;
  private lagTimer: NodeJS.Timeout | undefined;
  /** Next offset after the last record handed out, per partition given up at the last join. */
  private readonly handedOut = new Map<string, number>();
  /** How often a partition was paused because the buffer was full (backpressure, for tests and metrics). */
  pauses = 0;
  private firstJoin: { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void };

  constructor(private readonly opts: KafkaSourceOptions, logger: Logger) {
    this.logger = logger;
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => undefined);
    this.firstJoin = { promise, resolve, reject };
  }

  async open(ctx: SourceContext): Promise<void> {
    this.ctx = ctx;
    this.logger = ctx.logger.child({ source: ctx.spec.name, topic: this.opts.topic });
    const o = this.opts;
    this.kafka = new Kafka({
      clientId: o.clientId,
      brokers: [...o.brokers],
      connectionTimeout: 3_000,
      logLevel: kafkaLogLevel.WARN,
      logCreator: kafkajsLogger(this.logger),
      retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 5_000 },
    });
    this.admin = this.kafka.admin({ retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 } });
    try {
      await this.admin.connect();
      const md = await this.admin.fetchTopicMetadata({ topics: [o.topic] });
      if ((md.topics[0]?.partitions.length ?? 0) === 0) throw new Error(`topic ${o.topic} has no partitions`);
    } catch (e) {
      await this.admin.disconnect().catch(() => undefined);
      throw new FenestraError('SOURCE_UNAVAILABLE', `kafka source ${ctx.spec.name}: cannot read topic "${o.topic}" from ${o.brokers.join(',')}: ${(e as Error).message}`, { cause: e });
    }

    try {
      await this.startConsumer(ctx);
    } catch (e) {
      this.closing = true;
      await this.consumer?.disconnect().catch(() => undefined);
      await this.admin.disconnect().catch(() => undefined);
      throw e;
    }
    this.lagTimer = setInterval(() => void this.refreshHighWatermarks(), o.lagRefreshMs);
    this.lagTimer.unref();
    void this.refreshHighWatermarks();
  }

  /** Joins the group and resolves once the first assignment is sought (or fails). */
  private async startConsumer(ctx: SourceContext): Promise<void> {
    const o = this.opts;
    const consumer = this.kafka!.consumer({
      groupId: o.groupId,
      partitionAssigners: [hookedAssigner(this)],
      sessionTimeout: o.sessionTimeoutMs,
      rebalanceTimeout: o.rebalanceTimeoutMs,
      heartbeatInterval: o.heartbeatIntervalMs,
      maxWaitTimeInMs: o.fetchMaxWaitMs,
      maxBytesPerPartition: o.maxBytesPerPartition,
      allowAutoTopicCreation: false,
      retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 5_000 },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.logger.error({ err: payload.error.message, restart: payload.restart }, 'kafka consumer crashed');
      if (!payload.restart && !this.closing) this.fail(payload.error);
    });
    await consumer.connect();
    await consumer.subscribe({ topic: o.topic, fromBeginning: o.fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.onBatch(payload),
    });
    const timeout = setTimeout(
      () => this.firstJoin.reject(new FenestraError('SOURCE_UNAVAILABLE', `kafka source ${ctx.spec.name}: no partition assignment from group "${o.groupId}" within ${o.rebalanceTimeoutMs + o.sessionTimeoutMs} ms`)),
      o.rebalanceTimeoutMs + o.sessionTimeoutMs,
    );
    try {
      await this.firstJoin.promise;
    } finally {
      clearTimeout(timeout);
    }
  }

  // --- rebalance hooks (called by the patched kafkajs ConsumerGroup.joinAndSync) -----------------

  async beforeJoin(): Promise<void> {
    const owned = [...this.parts.keys()];
    if (owned.length === 0) return;
    // Nothing of these partitions may be delivered from now on: drop what is buffered.
    this.handedOut.clear();
    for (const p of this.parts.values()) {
      this.buffered -= p.clear();
      this.handedOut.set(String(p.partition), p.delivered);
    }
    this.parts.clear();
    this.order = [];
    // kafkajs keeps pause state across assignments; a partition coming back must not stay paused.
    this.consumer?.resume([{ topic: this.opts.topic, partitions: owned }]);
    const splits = owned.map(String);
    // A poll that already returned is applied by the runtime in its continuation: let it run first,
    // so the checkpoint behind onRevoked covers every record this member handed out.
    await new Promise((r) => setImmediate(r));
    this.logger.info({ splits }, 'kafka partitions revoked; waiting for the runtime to checkpoint them');
    await this.ctx!.onRevoked(splits);
  }

  async afterJoin(assignment: ReadonlyArray<{ topic: string; partitions: number[] }>, seek: (topic: string, partition: number, offset: string) => void): Promise<void> {
    const partitions = [...(assignment.find((a) => a.topic === this.opts.topic)?.partitions ?? [])].sort((a, b) => a - b);
    const splits = partitions.map(String);
    const ctx = this.ctx!;
    if (this.closing) return;
    // Every assignment, the first included, asks the runtime: other members checkpoint the partitions
    // they give up during this very join, after the runtime loaded `ctx.restored` for `open`.
    const fromRuntime: readonly SplitState[] = partitions.length > 0 ? await ctx.onAssigned(splits) : [];
    const byId = new Map<string, Position>();
    if (!this.joined) for (const s of ctx.restored) byId.set(s.id, s.position);
    // A partition this member owned up to the join and the runtime returns no position for (it
    // checkpointed it in onRevoked; a runtime may forget it meanwhile): resume after what was handed
    // out, never from the start, which would apply its records twice.
    for (const [id, next] of this.handedOut) {
      if (!fromRuntime.some((s) => s.id === id) && partitions.includes(Number(id))) {
        this.logger.warn({ split: id, position: next }, 'kafka: the runtime has no position for a partition this member just gave up; resuming after what it handed out');
        byId.set(id, String(next));
      }
    }
    for (const s of fromRuntime) byId.set(s.id, s.position);
    this.handedOut.clear(); // only for the join right after giving them up
    let starts: Map<number, number> | undefined;
    const from: Record<string, string> = {};
    for (const p of partitions) {
      const pos = byId.get(String(p));
      let offset: number;
      if (pos !== undefined) {
        offset = offsetOf(String(p), pos);
        from[p] = `restored ${offset}`;
      } else {
        starts ??= await this.startOffsets();
        offset = starts.get(p) ?? 0;
        from[p] = `${this.opts.fromBeginning ? 'earliest' : 'latest'} ${offset}`;
      }
      seek(this.opts.topic, p, String(offset));
      this.parts.set(p, new PartitionBuffer(p, offset));
    }
    this.order = [...this.parts.values()];
    this.logger.info({ assigned: from }, 'kafka partitions assigned');
    // The runtime's positions are durable: commit them now, so the group's lag is right from the
    // assignment on, also for a partition that gets no new record (monitoring only, never read back).
    if (fromRuntime.length > 0) void this.checkpointed(Object.fromEntries(fromRuntime.map((s) => [s.id, s.position])));
    this.joined = true;
    this.firstJoin.resolve();
    this.notify();
  }

  /** Earliest (fromBeginning) or latest offset of every partition. */
  private async startOffsets(): Promise<Map<number, number>> {
    const offsets = await this.admin!.fetchTopicOffsets(this.opts.topic);
    return new Map(offsets.map((o) => [o.partition, Number(this.opts.fromBeginning ? o.low : o.high)]));
  }

  // --- fetch side ----------------------------------------------------------------------------------

  private async onBatch({ batch, resolveOffset, pause, heartbeat, isStale }: EachBatchPayload): Promise<void> {
    const part = this.parts.get(batch.partition);
    if (part === undefined || batch.topic !== this.opts.topic || isStale()) return;
    const hwm = Number(batch.highWatermark);
    if (Number.isFinite(hwm)) part.highWatermark = hwm;
    // The batch is in memory already: keep all of it (refetching a tail would cost a fetch and a
    // decode per pause), then pause the partition while the buffer is over its bound. So the buffer
    // holds at most maxBuffered + one fetch (partitions × maxBytesPerPartition).
    let last: string | undefined;
    for (const m of batch.messages) {
      const offset = Number(m.offset);
      if (offset < part.next) continue; // already buffered
      part.push(offset, m.value, m.timestamp);
      this.buffered++;
      last = m.offset;
    }
    // Move kafkajs' fetch cursor past what was buffered (commits are off: this is not a commit).
    if (last !== undefined) {
      resolveOffset(last);
      this.notify();
    }
    if (this.buffered >= this.opts.maxBuffered && !part.paused) {
      part.paused = true;
      this.pauses++;
      pause();
    }
    await heartbeat();
  }

  private notify(): void {
    const w = this.wake;
    if (w) {
      this.wake = undefined;
      w();
    }
  }

  private fail(e: Error): void {
    this.fatal ??= new FenestraError('SOURCE_UNAVAILABLE', `kafka source: the consumer stopped: ${e.message}`, { cause: e });
    this.firstJoin.reject(this.fatal);
    this.notify();
  }

  // --- engine side ---------------------------------------------------------------------------------

  async poll(max: number, waitMs: number): Promise<readonly SourceRecord[]> {
    if (this.fatal) throw this.fatal;
    if (this.buffered === 0 && waitMs > 0) {
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
      if (this.fatal) throw this.fatal;
    }
    const out: SourceRecord[] = [];
    const n = this.order.length;
    if (this.buffered === 0 || n === 0) return out;
    for (let i = 0; i < n && out.length < max; i++) {
      const part = this.order[(this.rr + i) % n]!;
      if (part.size === 0) continue;
      this.buffered -= part.take(max - out.length, out);
    }
    this.rr = (this.rr + 1) % n;
    if (this.buffered <= this.opts.maxBuffered / 2) this.resumePaused();
    return out;
  }

  private resumePaused(): void {
    const paused: number[] = [];
    for (const p of this.order) {
      if (p.paused) {
        p.paused = false;
        paused.push(p.partition);
      }
    }
    if (paused.length > 0) this.consumer?.resume([{ topic: this.opts.topic, partitions: paused }]);
  }

  finished(): boolean {
    return false;
  }

  /** Commits the checkpointed offsets to the consumer group (lag monitoring only; bounded in time). */
  async checkpointed(positions: Readonly<Record<string, Position>>): Promise<void> {
    const consumer = this.consumer;
    if (!consumer || this.closing) return;
    const offsets = Object.entries(positions)
      .filter(([split]) => this.parts.has(Number(split)))
      .map(([split, pos]) => ({ topic: this.opts.topic, partition: Number(split), offset: String(offsetOf(split, pos)) }));
    if (offsets.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        consumer.commitOffsets(offsets),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`commit took over ${this.opts.commitTimeoutMs} ms`)), this.opts.commitTimeoutMs);
        }),
      ]);
    } catch (e) {
      this.logger.debug({ err: (e as Error).message }, 'kafka offset commit (monitoring only) failed');
    } finally {
      clearTimeout(timer);
    }
  }

  lag(): Readonly<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const p of this.order) {
      if (p.highWatermark >= 0) out[String(p.partition)] = Math.max(0, p.highWatermark - p.delivered);
    }
    return out;
  }

  private async refreshHighWatermarks(): Promise<void> {
    if (!this.admin || this.closing) return;
    try {
      for (const o of await this.admin.fetchTopicOffsets(this.opts.topic)) {
        const p = this.parts.get(o.partition);
        const high = Number(o.high);
        if (p && high > p.highWatermark) p.highWatermark = high;
      }
    } catch (e) {
      this.logger.debug({ err: (e as Error).message }, 'kafka high watermark refresh failed');
    }
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.lagTimer) clearInterval(this.lagTimer);
    // Hand the partitions back before leaving the group, so the next owner restores the latest state.
    const owned = [...this.parts.keys()].map(String);
    for (const p of this.parts.values()) p.clear();
    this.parts.clear();
    this.order = [];
    this.buffered = 0;
    if (owned.length > 0 && this.ctx) {
      try {
        await this.ctx.onRevoked(owned);
      } catch (e) {
        this.logger.warn({ err: (e as Error).message }, 'kafka close: onRevoked failed');
      }
    }
    this.notify();
    await this.consumer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
  }
}
