import { join } from 'node:path';
import type { CheckpointStore } from '../contracts/checkpoint-store.js';
import type { Logger } from '../contracts/logger.js';
import type { OnlineStore } from '../contracts/online-store.js';
import type { Position, PositionMap, SplitState } from '../contracts/position.js';
import type { Source } from '../contracts/source.js';
import type { SplitRegistry } from '../contracts/split-registry.js';
import { FenestraError } from '../errors.js';
import type { AggregatedGroupSpec, EngineSpec } from '../model.js';
import { makeDecoder } from '../event/decode.js';
import type { EngineApi, FeatureRead, FeatureRows, KeyUpdate, ReadOptions } from './api.js';
import { BatchApplier } from './batch-applier.js';
import { Checkpointer } from './checkpointer.js';
import { type DeadLetterSink, FileDeadLetterSink } from './dead-letters.js';
import { createAggregatedGroup } from './default-groups.js';
import { checkLayout } from './layout-check.js';
import { silentLogger } from './logger.js';
import type { OfflineHook } from './offline-hook.js';
import { OnlineFlusher } from './online-flusher.js';
import { FeatureReader, type DerivedFactory } from './reader.js';
import { runSourceLoop, type SourceRuntime } from './source-loop.js';
import { SplitOwnership } from './split-ownership.js';
import type { AggregatingGroup, GroupFactory, StateGroup } from './state-group.js';
import { type RuntimeStats, newStats } from './stats.js';

/** What the engine is built from besides its spec; it owns the lifecycle (open/close) of each. */
export interface EngineDeps {
  /** Source instances by source name (every source of the spec that feeds a group or is pushed to). */
  readonly sources: ReadonlyMap<string, Source>;
  readonly checkpointStore: CheckpointStore;
  /** Dirty entities are flushed here every `state.flushInterval` when given. */
  readonly onlineStore?: OnlineStore;
  /** Offline history output, exactly-once with checkpoints (wired by the offline module). */
  readonly offline?: OfflineHook;
  /** Default: NDJSON at `spec.deadLetters.path`, exactly-once with checkpoints. */
  readonly deadLetters?: DeadLetterSink;
  readonly logger?: Logger;
  /** Groups that are not fed by sources but checkpointed and read through the engine (stored groups). */
  readonly extraGroups?: readonly StateGroup[];
  /** Builds aggregated groups (default: core/window's AggregatedGroupState). */
  readonly createGroup?: GroupFactory;
  /** Derived-feature evaluators per group (default: core/derived, the evaluator training sets use). */
  readonly derived?: DerivedFactory;
  /** Wall clock for default `asOf` and timers (default Date.now). */
  readonly clock?: () => number;
  /** Records per poll (default 2,000). */
  readonly batchSize?: number;
  /** Longest wait of one poll for its first record (default 100 ms). */
  readonly pollWaitMs?: number;
  /**
   * Consecutive failed polls retried with exponential backoff (`baseMs` · 2^n, at most 30 s) before a
   * source loop gives up (default 6 retries from 100 ms).
   */
  readonly pollRetry?: { readonly max: number; readonly baseMs: number };
  /**
   * Instances sharing a directory (`state.shared`): sources that declare `assignsSplits` (Kafka) move
   * their splits between instances with their state (core/runtime/split-ownership.ts). The checkpoint
   * store must then be this instance's store in the registry (`registry.openCheckpointStore()`).
   */
  readonly splitRegistry?: SplitRegistry;
}

/**
 * The Fenestra runtime: recovers the last checkpoint, runs one pull loop per source (poll → decode →
 * apply to every aggregated group of the source → advance the split position, synchronously per batch,
 * so a checkpoint taken between batches is a consistent cut), checkpoints every
 * `state.checkpointInterval`, flushes dirty entities to the online store, and serves reads from memory.
 *
 * Call `start()` once, then `stop()`. Threading: everything runs on the one Node event loop; a batch is
 * applied without awaiting, and a checkpoint's cut (dirty entries, positions, dead letters, offline rows)
 * is taken synchronously, then written while ingestion continues. Checkpoints never overlap.
 */
export class Engine implements EngineApi {
  readonly spec: EngineSpec;
  private readonly deps: EngineDeps;
  private readonly logger: Logger;
  private readonly clock: () => number;
  private readonly groups = new Map<string, StateGroup>();
  private readonly aggregated = new Map<string, AggregatingGroup>();
  private readonly runtimes: SourceRuntime[] = [];
  private readonly deadLetters: DeadLetterSink;
  private readonly flusher: OnlineFlusher | null;
  private readonly reader: FeatureReader;
  private readonly listeners = new Set<(u: KeyUpdate) => void>();
  private readonly statsObj: RuntimeStats;
  private readonly applier: BatchApplier;
  private readonly checkpointer: Checkpointer;
  private readonly ownership: SplitOwnership | null;
  private ready = false;
  private started = false;
  private stopping = false;
  private stopped: Promise<void> | null = null;
  private timers: NodeJS.Timeout[] = [];
  private drainedPromise: Promise<void> | null = null;
  private loopsStarted!: () => void;
  private readonly loopsStartedPromise = new Promise<void>((r) => (this.loopsStarted = r));

  constructor(spec: EngineSpec, deps: EngineDeps) {
    this.spec = spec;
    this.deps = deps;
    this.logger = deps.logger ?? silentLogger;
    this.clock = deps.clock ?? Date.now;
    const createGroup = deps.createGroup ?? createAggregatedGroup;
    const bySource = new Map<string, AggregatingGroup[]>();
    for (const g of spec.groups.values()) {
      if (g.kind !== 'aggregated') continue;
      const src = spec.sources.get(g.source);
      if (!src) throw new FenestraError('CONFIG_INVALID', `feature group "${g.name}" names unknown source "${g.source}"`, { path: `featureGroups.${g.name}.source` });
      const state = createGroup(g, src);
      this.aggregated.set(g.name, state);
      this.groups.set(g.name, state);
      const list = bySource.get(g.source) ?? [];
      list.push(state);
      bySource.set(g.source, list);
    }
    for (const g of deps.extraGroups ?? []) {
      if (this.groups.has(g.name)) throw new Error(`extra group "${g.name}" duplicates a feature group`);
      this.groups.set(g.name, g);
    }
    for (const [name, source] of deps.sources) {
      const s = spec.sources.get(name);
      if (!s) throw new FenestraError('CONFIG_INVALID', `no source "${name}" in the config`, { path: `sources.${name}` });
      this.runtimes.push({ name, spec: s, source, decode: makeDecoder(s), groups: bySource.get(name) ?? [], positions: {}, loop: null, finished: false, error: undefined });
    }
    this.deadLetters = deps.deadLetters ?? new FileDeadLetterSink(spec.deadLetters.path);
    this.statsObj = newStats(deps.sources.keys(), deps.onlineStore !== undefined);
    this.flusher = deps.onlineStore ? new OnlineFlusher(deps.onlineStore, this.groups, this.statsObj.online, this.logger, this.clock) : null;
    this.reader = new FeatureReader(spec, this.groups, deps.derived);
    this.applier = new BatchApplier(this.statsObj, this.deadLetters, deps.offline, this.flusher, this.listeners, this.logger);
    this.ownership = deps.splitRegistry
      ? new SplitOwnership(deps.splitRegistry, {
          checkpoint: () => this.checkpoint(),
          keep: (group, keys) => this.checkpointer.keep(group, keys),
          markOnline: (group, key) => this.flusher?.mark(group, key, versionOf(this.groups.get(group)!, key, this.clock())),
          logger: this.logger.child({ component: 'splits' }),
        })
      : null;
    for (const rt of this.runtimes) if (this.ownership && rt.source.assignsSplits) this.ownership.manage(rt);
    const ownership = this.ownership;
    this.checkpointer = new Checkpointer({
      store: deps.checkpointStore,
      groups: this.groups,
      deadLetters: this.deadLetters,
      offline: deps.offline,
      logger: this.logger,
      clock: this.clock,
      stats: this.statsObj.checkpoints,
      positions: () => {
        const out: PositionMap = {};
        for (const rt of this.runtimes) out[rt.name] = { ...rt.positions };
        return out;
      },
      ...(ownership ? { participants: () => ownership.participants(), meta: () => ({ splitEpochs: ownership.meta() }) } : {}),
      afterDurable: async (positions) => {
        for (const rt of this.runtimes) {
          await rt.source.checkpointed?.(positions[rt.name] ?? {})?.catch((e: unknown) => this.logger.warn({ err: e, source: rt.name }, 'source checkpointed() failed'));
        }
      },
    });
  }

  // --- lifecycle ------------------------------------------------------------------------

  /** Recovers the last checkpoint, opens the stores and sources, and starts the loops and timers. */
  async start(): Promise<void> {
    if (this.started) throw new Error('Engine.start() called twice');
    this.started = true;
    const store = this.deps.checkpointStore;
    const recovered = await store.recover();
    if (recovered) {
      checkLayout(recovered.meta['layout'], this.groups, this.spec.state.dir);
      for (const e of recovered.entries()) {
        if (e.value === null) continue;
        if (this.ownership?.restoreEntry(e)) continue;
        this.groups.get(e.group)!.restore(e.key, e.value);
      }
      this.ownership?.resume(recovered.meta['splitEpochs']);
      // Restored state is durable already; with an online store it may not have been flushed before the crash.
      const now = this.clock();
      for (const g of this.groups.values()) {
        g.drainDirty();
        if (this.flusher) for (const k of g.keys()) this.flusher.mark(g.name, k, versionOf(g, k, now));
      }
      this.checkpointer.resume(recovered.id, recovered.positions, this.ownership ? { splitEpochs: this.ownership.meta() } : {});
      this.logger.info({ id: recovered.id, dir: this.spec.state.dir }, 'recovered checkpoint');
    }
    await this.deadLetters.recover(recovered?.meta['deadLetters'] ?? null);
    await this.deps.offline?.recover(recovered?.offlineFiles ?? []);
    await this.deps.onlineStore?.open();
    for (const rt of this.runtimes) {
      const restored: SplitState[] = Object.entries(this.checkpointer.durable[rt.name] ?? {}).map(([id, position]) => ({ id, position }));
      for (const s of restored) rt.positions[s.id] = s.position;
      const moving = this.ownership?.manages(rt.name) === true;
      await rt.source.open({
        spec: rt.spec,
        // Splits that move between instances get every position from onAssigned (the claims decide).
        restored: moving ? [] : restored,
        logger: this.logger.child({ source: rt.name }),
        dataDir: join(this.spec.state.dir, 'sources', rt.name),
        // A revoked split's position stays in the checkpoints (no record of it is applied after this),
        // so a split assigned back resumes exactly there.
        onRevoked: async (splits) => {
          if (moving) await this.ownership!.revoked(rt.name, splits);
          else await this.checkpoint();
        },
        // State is held by this one engine process; an assigned split resumes from the last checkpoint.
        onAssigned: async (splits) =>
          moving ? this.ownership!.assigned(rt.name, splits) : splits.flatMap((id) => {
            const p = this.checkpointer.durable[rt.name]?.[id];
            if (p === undefined) return [];
            rt.positions[id] = p;
            return [{ id, position: p }];
          }),
      });
    }
    this.ready = true;
    const retry = this.deps.pollRetry ?? { max: 6, baseMs: 100 };
    for (const rt of this.runtimes) {
      rt.loop = runSourceLoop(rt, {
        batchSize: this.deps.batchSize ?? 2_000,
        pollWaitMs: this.deps.pollWaitMs ?? 100,
        retry,
        stopping: () => this.stopping,
        apply: (r, records) => this.applier.apply(r, records),
        stats: this.statsObj.sources[rt.name]!,
        logger: this.logger,
      });
    }
    this.loopsStarted();
    this.startTimers();
  }

  private startTimers(): void {
    const ck = this.spec.state.checkpointInterval;
    if (ck > 0) {
      this.timers.push(
        setInterval(() => {
          if (this.checkpointer.running || this.stopping) return;
          this.checkpoint().catch(() => undefined); // logged and counted by the checkpointer
        }, ck),
      );
    }
    if (this.flusher) {
      const fl = this.spec.state.flushInterval > 0 ? this.spec.state.flushInterval : 1_000;
      this.timers.push(setInterval(() => void this.flushOnline(), fl));
    }
    const ownership = this.ownership;
    if (ownership) {
      // Splits given up are dropped here once a peer has claimed them (and so holds them durably).
      let reaping = false;
      this.timers.push(
        setInterval(() => {
          if (reaping || this.stopping || !ownership.holdsReleased()) return;
          reaping = true;
          ownership
            .reap()
            .catch((e: unknown) => this.logger.warn({ err: e }, 'dropping splits taken over by peers failed; retrying'))
            .finally(() => (reaping = false));
        }, Math.max(200, Math.min(ck > 0 ? ck : 1_000, 2_000))),
      );
    }
  }

  /** Resolves when every bounded source has delivered everything and it was applied (rejects if a loop failed). */
  drained(): Promise<void> {
    this.drainedPromise ??= (async () => {
      await this.loopsStartedPromise;
      await Promise.all(this.runtimes.map((rt) => rt.loop));
      const failed = this.runtimes.find((rt) => rt.error !== undefined);
      if (failed) throw failed.error;
    })();
    return this.drainedPromise;
  }

  /** Alias of `drained()` for CLI runs. */
  whenIdle(): Promise<void> {
    return this.drained();
  }

  stop(): Promise<void> {
    this.stopped ??= this.doStop();
    return this.stopped;
  }

  private async doStop(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await Promise.allSettled(this.runtimes.map((rt) => rt.loop));
    try {
      if (this.ready) {
        await this.checkpoint();
        await this.flushOnline(true);
      }
    } finally {
      // Close everything even if the final checkpoint failed (its error is what stop() rejects with).
      this.ready = false;
      for (const rt of this.runtimes) await rt.source.close().catch((e: unknown) => this.logger.warn({ err: e, source: rt.name }, 'source close failed'));
      await this.flusher?.idle();
      const closing: Array<[string, (() => Promise<void>) | undefined]> = [
        ['online store', this.deps.onlineStore && (() => this.deps.onlineStore!.close())],
        ['offline hook', this.deps.offline && (() => this.deps.offline!.close())],
        ['checkpoint store', () => this.deps.checkpointStore.close()],
        ['dead letters', () => this.deadLetters.close()],
      ];
      for (const [what, close] of closing) await close?.().catch((e: unknown) => this.logger.warn({ err: e }, `${what} close failed`));
    }
  }

  /** True once started, until stopped or a source loop failed for good. */
  isReady(): boolean {
    return this.ready && this.runtimes.every((rt) => rt.error === undefined);
  }

  // --- updates, checkpoints, online flush ---------------------------------------------------

  /** Listeners run after each applied batch, once per changed (group, key), synchronously. */
  onUpdate(listener: (u: KeyUpdate) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Takes a checkpoint of everything applied so far; resolves when it is durable. */
  checkpoint(): Promise<void> {
    if (!this.started) return Promise.reject(new FenestraError('NOT_READY', 'checkpoint() before start()'));
    // Stored groups change outside applied batches: hand their changes to the online flusher before
    // the cut drains them (the cut still records them: collectExtraDirty keeps them for it).
    if (this.flusher) this.collectExtraDirty(this.flusher);
    return this.checkpointer.checkpoint();
  }

  durablePosition(source: string, split: string): Position | undefined {
    return this.checkpointer.durable[source]?.[split];
  }

  /** Every split's position in the last durable checkpoint (a copy). */
  durablePositions(): PositionMap {
    return structuredClone(this.checkpointer.durable);
  }

  private async flushOnline(force = false): Promise<void> {
    if (!this.flusher) return;
    this.collectExtraDirty(this.flusher);
    await this.flusher.flush(force);
  }

  /**
   * Groups not fed by sources (stored groups) change outside `applyBatch`: move their dirty keys to
   * the flusher (with the version they read at) and keep them for the next checkpoint.
   */
  private collectExtraDirty(flusher: OnlineFlusher): void {
    const now = this.clock();
    for (const g of this.groups.values()) {
      if (this.aggregated.has(g.name)) continue;
      const keys = g.drainDirty();
      if (keys.length === 0) continue;
      this.checkpointer.keep(g.name, keys);
      for (const k of keys) {
        flusher.mark(g.name, k, versionOf(g, k, now));
      }
    }
  }

  /** Writes every dirty entity to the online store now (ignoring the backoff); no-op without one. */
  async flush(): Promise<void> {
    await this.flusher?.idle();
    await this.flushOnline(true);
  }

  // --- reads -------------------------------------------------------------------------------

  async read(group: string, key: string, opts: ReadOptions = {}): Promise<FeatureRead> {
    return this.reader.read(group, key, opts.asOf ?? this.clock(), opts);
  }

  async readMany(group: string, keys: readonly string[], opts: ReadOptions = {}): Promise<readonly FeatureRead[]> {
    const asOf = opts.asOf ?? this.clock();
    this.reader.check(group, opts);
    return keys.map((k) => this.reader.read(group, k, asOf, opts));
  }

  /** `readMany` as rows of the requested features (FeatureReader.readRows); `requests` gives each key its own request fields. */
  async readRows(group: string, keys: readonly string[], opts: ReadOptions = {}, requests?: readonly Readonly<Record<string, unknown>>[]): Promise<FeatureRows> {
    return this.reader.readRows(group, keys, opts.asOf ?? this.clock(), opts, requests);
  }

  /** Keys with state in a group (for dumps and tests). */
  entityKeys(group: string): IterableIterator<string> {
    const g = this.groups.get(group);
    if (!g) throw new FenestraError('UNKNOWN_GROUP', `no feature group "${group}"`, { path: group });
    return g.keys();
  }

  /** Counters and gauges for `/metrics` (a fresh object each call). */
  stats(): RuntimeStats {
    const s = this.statsObj;
    for (const rt of this.runtimes) {
      try {
        s.sources[rt.name]!.lag = { ...(rt.source.lag?.() ?? {}) };
      } catch {
        // lag is best-effort
      }
      s.lag[rt.name] = s.sources[rt.name]!.lag;
    }
    s.deadLetters = Object.values(s.deadLettered).reduce((a, b) => a + b, 0);
    s.lastCheckpointAt = s.checkpoints.lastAt || null;
    s.lastCheckpointMs = s.checkpoints.count > 0 ? s.checkpoints.lastDurationMs : null;
    for (const [name, g] of this.groups) s.entities[name] = g.size;
    s.online.pending = this.flusher?.pendingCount ?? 0;
    if (this.ownership) s.splits = this.ownership.summary();
    return structuredClone(s);
  }

  /** Aggregated groups by name (for the daemon's catalog and tests). */
  aggregatedGroupSpec(name: string): AggregatedGroupSpec | undefined {
    const g = this.spec.groups.get(name);
    return g?.kind === 'aggregated' ? g : undefined;
  }
}

/** The version a key's encoded state carries (stored groups know it directly, tombstones included). */
function versionOf(g: StateGroup, key: string, now: number): number {
  return g.version ? g.version(key) : g.read(key, now).version;
}
