import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { CheckpointEntry, CheckpointStore } from '../contracts/checkpoint-store.js';
import type { Logger } from '../contracts/logger.js';
import type { OnlineStore } from '../contracts/online-store.js';
import type { Position, PositionMap, SplitState } from '../contracts/position.js';
import type { Source, SourceRecord } from '../contracts/source.js';
import { FenestraError } from '../errors.js';
import type { AggregatedGroupSpec, EngineSpec, SourceSpec } from '../model.js';
import { type Decoder, makeDecoder } from '../event/decode.js';
import type { EngineApi, FeatureRead, KeyUpdate, ReadOptions } from './api.js';
import { type DeadLetterSink, FileDeadLetterSink } from './dead-letters.js';
import { createAggregatedGroup } from './default-groups.js';
import { checkLayout, layoutMeta } from './layout-check.js';
import { silentLogger } from './logger.js';
import type { OfflineHook } from './offline-hook.js';
import { OnlineFlusher } from './online-flusher.js';
import { FeatureReader, type DerivedFactory } from './reader.js';
import type { AggregatingGroup, GroupFactory, StateGroup } from './state-group.js';
import { type RuntimeStats, newStats } from './stats.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

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
  /** Derived-feature evaluators per group (default: none, derived features read as errors). */
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
}

interface SourceRuntime {
  readonly name: string;
  readonly spec: SourceSpec;
  readonly source: Source;
  readonly decode: Decoder;
  readonly groups: readonly AggregatingGroup[];
  /** Split → position of the next record to read, updated as batches are applied. */
  readonly positions: Record<string, Position>;
  loop: Promise<void> | null;
  finished: boolean;
  error: unknown;
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
  private readonly batchSize: number;
  private readonly pollWaitMs: number;
  /** Keys whose capture was in a failed checkpoint: re-encoded into the next one. */
  private carry = new Map<string, Set<string>>();
  private durable: PositionMap = {};
  /** Id of the last durable checkpoint. */
  private lastId = 0;
  /**
   * Id the next checkpoint gets. Ids are never reused: a commit that failed ambiguously (e.g. after
   * its manifest was renamed) may be durable, so the next attempt takes a fresh, greater id.
   */
  private nextId = 1;
  private checkpointChain: Promise<void> = Promise.resolve();
  private checkpointRunning = false;
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
    this.batchSize = deps.batchSize ?? 2_000;
    this.pollWaitMs = deps.pollWaitMs ?? 100;
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
        this.groups.get(e.group)!.restore(e.key, e.value);
      }
      // Restored state is durable already; with an online store it may not have been flushed before the crash.
      for (const g of this.groups.values()) {
        g.drainDirty();
        if (this.flusher) {
          const now = this.clock();
          for (const k of g.keys()) this.flusher.mark(g.name, k, g.read(k, now).version);
        }
      }
      this.lastId = recovered.id;
      this.nextId = recovered.id + 1;
      this.durable = structuredClone(recovered.positions);
      this.statsObj.checkpoints.lastId = recovered.id;
      this.logger.info({ id: recovered.id, dir: this.spec.state.dir }, 'recovered checkpoint');
    }
    await this.deadLetters.recover(recovered?.meta['deadLetters'] ?? null);
    await this.deps.offline?.recover(recovered?.offlineFiles ?? []);
    await this.deps.onlineStore?.open();
    for (const rt of this.runtimes) {
      const restored: SplitState[] = Object.entries(this.durable[rt.name] ?? {}).map(([id, position]) => ({ id, position }));
      for (const s of restored) rt.positions[s.id] = s.position;
      await rt.source.open({
        spec: rt.spec,
        restored,
        logger: this.logger.child({ source: rt.name }),
        dataDir: join(this.spec.state.dir, 'sources', rt.name),
        onRevoked: async (splits) => {
          await this.checkpoint();
          for (const s of splits) delete rt.positions[s];
        },
        // State is shared by the one engine process; an assigned split resumes from the last checkpoint.
        onAssigned: async (splits) =>
          splits.flatMap((id) => {
            const p = this.durable[rt.name]?.[id];
            if (p === undefined) return [];
            rt.positions[id] = p;
            return [{ id, position: p }];
          }),
      });
    }
    this.ready = true;
    for (const rt of this.runtimes) rt.loop = this.runSource(rt);
    this.loopsStarted();
    this.startTimers();
  }

  private startTimers(): void {
    const ck = this.spec.state.checkpointInterval;
    if (ck > 0) {
      this.timers.push(
        setInterval(() => {
          if (this.checkpointRunning || this.stopping) return;
          this.checkpoint().catch(() => undefined); // logged and counted in runCheckpoint
        }, ck),
      );
    }
    if (this.flusher) {
      const fl = this.spec.state.flushInterval > 0 ? this.spec.state.flushInterval : 1_000;
      this.timers.push(setInterval(() => void this.flushOnline(), fl));
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
    if (this.ready) {
      await this.checkpoint();
      await this.flushOnline(true);
    }
    this.ready = false;
    for (const rt of this.runtimes) await rt.source.close().catch((e: unknown) => this.logger.warn({ err: e, source: rt.name }, 'source close failed'));
    await this.flusher?.idle();
    await this.deps.onlineStore?.close();
    await this.deps.offline?.close();
    await this.deps.checkpointStore.close();
    await this.deadLetters.close();
  }

  /** True once started, until stopped or a source loop failed for good. */
  isReady(): boolean {
    return this.ready && this.runtimes.every((rt) => rt.error === undefined);
  }

  // --- ingestion -------------------------------------------------------------------------

  private async runSource(rt: SourceRuntime): Promise<void> {
    const src = this.statsObj.sources[rt.name]!;
    let failures = 0;
    try {
      while (!this.stopping) {
        let records: readonly SourceRecord[];
        try {
          records = await rt.source.poll(this.batchSize, this.pollWaitMs);
          failures = 0;
        } catch (e) {
          // Nothing was applied from a failed poll, so retrying loses and repeats nothing.
          failures++;
          src.pollErrors++;
          const retry = this.deps.pollRetry ?? { max: 6, baseMs: 100 };
          if (failures > retry.max) throw e;
          const wait = Math.min(30_000, retry.baseMs * 2 ** (failures - 1));
          this.logger.warn({ err: e, source: rt.name, retryInMs: wait }, 'source poll failed; retrying');
          for (let waited = 0; waited < wait && !this.stopping; waited += 50) await sleep(Math.min(50, wait - waited));
          continue;
        }
        if (this.stopping) break; // not applied: positions unchanged, so they are replayed after a restart
        if (records.length > 0) this.applyBatch(rt, records);
        else if (rt.source.finished()) {
          rt.finished = true;
          src.finished = true;
          break;
        }
        await yieldToLoop(); // let timers (checkpoints, flushes) and reads in
      }
    } catch (e) {
      rt.error = e;
      src.error = (e as Error).message ?? String(e);
      this.logger.error({ err: e, source: rt.name }, 'source loop failed; the engine is no longer ready');
    }
  }

  /** Applies one polled batch synchronously: decode, apply, dead-letter, advance positions. */
  private applyBatch(rt: SourceRuntime, records: readonly SourceRecord[]): void {
    const st = this.statsObj;
    const src = st.sources[rt.name]!;
    const groups = rt.groups;
    const offline = this.deps.offline;
    const track = this.flusher !== null || this.listeners.size > 0;
    const updates: KeyUpdate[] | null = this.listeners.size > 0 ? [] : null;
    for (let i = 0; i < records.length; i++) {
      const rec = records[i]!;
      st.eventsIn++;
      src.eventsIn++;
      const d = rt.decode(rec.value);
      if (!d.ok) {
        this.deadLetter(rt, rec, d.code, d.reason, d.field);
      } else {
        let applied = false;
        let late: string | null = null;
        for (let g = 0; g < groups.length; g++) {
          const group = groups[g]!;
          const o = group.apply(d.key, d.ts, d.event);
          if (o.ok) {
            applied = true;
            if (track) {
              this.flusher?.mark(group.name, d.key, o.version);
              updates?.push({ group: group.name, key: d.key, version: o.version });
            }
            offline?.onApplied(group.name, d.key, d.ts, d.event, o.version);
          } else late = o.reason;
        }
        if (applied) {
          st.eventsApplied++;
          src.applied++;
        } else if (late !== null) {
          this.deadLetter(rt, rec, 'EVENT_LATE', late, rt.spec.eventTimeField);
        } else {
          st.eventsApplied++; // a source feeding no aggregated group: accepted
          src.applied++;
        }
      }
      rt.positions[rec.split] = rec.position;
    }
    if (updates && updates.length > 0) this.notify(updates);
  }

  private deadLetter(rt: SourceRuntime, rec: SourceRecord, code: string, reason: string, field?: string): void {
    const st = this.statsObj;
    st.deadLettered[code] = (st.deadLettered[code] ?? 0) + 1;
    st.sources[rt.name]!.deadLettered++;
    this.deadLetters.append({
      source: rt.name,
      origin: rec.origin ?? `${rec.split} @ ${String(rec.position)}`,
      code,
      field,
      reason,
      event: rec.value,
    });
  }

  private notify(updates: readonly KeyUpdate[]): void {
    for (const l of this.listeners) {
      for (const u of updates) {
        try {
          l(u);
        } catch (e) {
          this.logger.warn({ err: e }, 'update listener threw');
        }
      }
    }
  }

  onUpdate(listener: (u: KeyUpdate) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // --- checkpoints -----------------------------------------------------------------------

  /** Takes a checkpoint of everything applied so far; resolves when it is durable. */
  checkpoint(): Promise<void> {
    if (!this.started) return Promise.reject(new FenestraError('NOT_READY', 'checkpoint() before start()'));
    const run = this.checkpointChain.then(() => this.runCheckpoint());
    this.checkpointChain = run.catch(() => undefined);
    return run;
  }

  private async runCheckpoint(): Promise<void> {
    this.checkpointRunning = true;
    const started = this.clock();
    const ck = this.statsObj.checkpoints;
    // --- the cut: synchronous, between batches ---
    const entries: CheckpointEntry[] = [];
    const captured = new Map<string, Set<string>>();
    for (const g of this.groups.values()) {
      const keys = new Set(g.drainDirty());
      for (const k of this.carry.get(g.name) ?? []) keys.add(k);
      for (const k of keys) entries.push({ group: g.name, key: k, value: g.encode(k) });
      if (keys.size > 0) captured.set(g.name, keys);
    }
    this.carry = new Map();
    const positions: PositionMap = {};
    for (const rt of this.runtimes) positions[rt.name] = { ...rt.positions };
    const deadCount = this.deadLetters.cut();
    const offlineToken = this.deps.offline?.cut();
    const id = this.nextId;
    const cutMs = this.clock() - started;
    try {
      const unchanged = entries.length === 0 && deadCount === 0 && this.lastId > 0 && samePositions(positions, this.durable) && offlineToken === undefined;
      if (unchanged) return;
      // --- durable writes: ingestion continues meanwhile ---
      this.nextId = id + 1;
      const deadState = await this.deadLetters.persist(deadCount);
      const offlineFiles = this.deps.offline && offlineToken !== undefined ? await this.deps.offline.stage(offlineToken, id) : [];
      await this.deps.checkpointStore.commit({
        id,
        createdAt: this.clock(),
        positions,
        entries,
        offlineFiles,
        meta: { layout: layoutMeta(this.groups.values()), deadLetters: deadState },
      });
      this.lastId = id;
      this.durable = positions;
      const took = this.clock() - started;
      ck.count++;
      ck.lastId = id;
      ck.lastDurationMs = took;
      ck.totalDurationMs += took;
      ck.lastAt = this.clock();
      ck.lastEntries = entries.length;
      this.logger.debug({ id, entries: entries.length, ms: took, cutMs }, 'checkpoint durable');
      if (offlineFiles.length > 0) await this.deps.offline!.commit(offlineFiles);
      for (const rt of this.runtimes) {
        await rt.source.checkpointed?.(positions[rt.name] ?? {})?.catch((e: unknown) => this.logger.warn({ err: e, source: rt.name }, 'source checkpointed() failed'));
      }
    } catch (e) {
      // Nothing of this checkpoint is visible; its entries go into the next one.
      for (const [g, keys] of captured) {
        const set = this.carry.get(g) ?? new Set<string>();
        for (const k of keys) set.add(k);
        this.carry.set(g, set);
      }
      ck.failures++;
      this.logger.error({ err: e, id }, 'checkpoint failed; its changes are kept for the next one');
      throw e;
    } finally {
      this.checkpointRunning = false;
    }
  }

  durablePosition(source: string, split: string): Position | undefined {
    return this.durable[source]?.[split];
  }

  /** Every split's position in the last durable checkpoint (a copy). */
  durablePositions(): PositionMap {
    return structuredClone(this.durable);
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
      let carried = this.carry.get(g.name);
      if (!carried) this.carry.set(g.name, (carried = new Set()));
      for (const k of keys) {
        carried.add(k);
        flusher.mark(g.name, k, g.version ? g.version(k) : g.read(k, now).version);
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
    return structuredClone(s);
  }

  /** Aggregated groups by name (for the daemon's catalog and tests). */
  aggregatedGroupSpec(name: string): AggregatedGroupSpec | undefined {
    const g = this.spec.groups.get(name);
    return g?.kind === 'aggregated' ? g : undefined;
  }
}

function samePositions(a: PositionMap, b: PositionMap): boolean {
  const sources = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const src of sources) {
    const x = a[src] ?? {};
    const y = b[src] ?? {};
    const splits = new Set([...Object.keys(x), ...Object.keys(y)]);
    for (const k of splits) if (x[k] !== y[k]) return false;
  }
  return true;
}
