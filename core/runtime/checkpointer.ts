import type { CheckpointEntry, CheckpointStore } from '../contracts/checkpoint-store.js';
import type { Logger } from '../contracts/logger.js';
import type { PositionMap } from '../contracts/position.js';
import type { DeadLetterSink } from './dead-letters.js';
import { layoutMeta } from './layout-check.js';
import type { OfflineHook } from './offline-hook.js';
import type { StateGroup } from './state-group.js';
import type { CheckpointParticipant } from './split-ownership.js';
import type { RuntimeStats } from './stats.js';

export interface CheckpointerDeps {
  readonly store: CheckpointStore;
  readonly groups: ReadonlyMap<string, StateGroup>;
  readonly deadLetters: DeadLetterSink;
  readonly offline?: OfflineHook;
  readonly logger: Logger;
  readonly clock: () => number;
  readonly stats: RuntimeStats['checkpoints'];
  /** Every split's position now (called synchronously at the cut; must return a fresh copy). */
  readonly positions: () => PositionMap;
  /** Runs once a checkpoint is durable (sources' `checkpointed`); its errors are logged, not thrown. */
  readonly afterDurable: (positions: PositionMap) => Promise<void>;
  /** Key sets checkpointed beside the groups but not feature state (split ledgers); not in the layout. */
  readonly participants?: () => readonly CheckpointParticipant[];
  /** Extra engine metadata recorded at the cut (e.g. split epochs). */
  readonly meta?: () => Readonly<Record<string, unknown>>;
}

/**
 * Takes checkpoints, one at a time. The cut is synchronous — every group's dirty keys encoded,
 * every split's position, the dead letters buffered so far, the offline rows so far — so it falls
 * between two applied batches. Then, while ingestion continues: dead letters persisted, offline rows
 * staged, the checkpoint committed; after it is durable, offline files committed and `afterDurable`.
 * A failed checkpoint is invisible and its keys are re-encoded into the next one. Ids are never
 * reused (an ambiguous failure may have been durable). A checkpoint with no change is skipped.
 */
export class Checkpointer {
  private carry = new Map<string, Set<string>>();
  private chain: Promise<void> = Promise.resolve();
  private lastIdValue = 0;
  private nextId = 1;
  private durableValue: PositionMap = {};
  private runningValue = false;
  /** JSON of the extra meta of the last durable checkpoint (a change alone is worth a checkpoint). */
  private durableMetaJson = '{}';

  constructor(private readonly deps: CheckpointerDeps) {}

  /** Continues after a recovered checkpoint. */
  resume(id: number, positions: PositionMap, extraMeta: Readonly<Record<string, unknown>> = {}): void {
    this.durableMetaJson = JSON.stringify(extraMeta);
    this.lastIdValue = id;
    this.nextId = id + 1;
    this.durableValue = structuredClone(positions);
    this.deps.stats.lastId = id;
  }

  /** Id of the last durable checkpoint (0: none). */
  get lastId(): number {
    return this.lastIdValue;
  }

  /** Positions of the last durable checkpoint (do not mutate). */
  get durable(): PositionMap {
    return this.durableValue;
  }

  get running(): boolean {
    return this.runningValue;
  }

  /** Keys changed outside the cut's `drainDirty` (e.g. drained for the online flush): in the next checkpoint. */
  keep(group: string, keys: Iterable<string>): void {
    let set = this.carry.get(group);
    if (!set) this.carry.set(group, (set = new Set()));
    for (const k of keys) set.add(k);
  }

  /** Checkpoints everything applied so far; resolves when durable. Calls queue behind each other. */
  checkpoint(): Promise<void> {
    const run = this.chain.then(() => this.run());
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async run(): Promise<void> {
    const d = this.deps;
    this.runningValue = true;
    const started = d.clock();
    // --- the cut: synchronous, between batches ---
    const entries: CheckpointEntry[] = [];
    const captured = new Map<string, Iterable<string>>();
    for (const g of [...d.groups.values(), ...(d.participants?.() ?? [])]) {
      const drained = g.drainDirty(); // each key once
      const carried = this.carry.get(g.name);
      let keys: Iterable<string> = drained;
      if (carried !== undefined) {
        const all = new Set(drained);
        for (const k of carried) all.add(k);
        keys = all;
      }
      let n = 0;
      for (const k of keys) {
        entries.push({ group: g.name, key: k, value: g.encode(k) });
        n++;
      }
      if (n > 0) captured.set(g.name, keys);
    }
    this.carry = new Map();
    const positions = d.positions();
    const extraMeta = d.meta?.() ?? {};
    const deadCount = d.deadLetters.cut();
    const offlineToken = d.offline?.cut();
    const id = this.nextId;
    const cutMs = d.clock() - started;
    try {
      const metaJson = JSON.stringify(extraMeta);
      const unchanged =
        entries.length === 0 &&
        deadCount === 0 &&
        offlineToken === undefined &&
        this.lastIdValue > 0 &&
        samePositions(positions, this.durableValue) &&
        metaJson === this.durableMetaJson;
      if (unchanged) return;
      // --- durable writes: ingestion continues meanwhile ---
      this.nextId = id + 1;
      const deadState = await d.deadLetters.persist(deadCount);
      const offlineFiles = d.offline && offlineToken !== undefined ? await d.offline.stage(offlineToken, id) : [];
      await d.store.commit({
        id,
        createdAt: d.clock(),
        positions,
        entries,
        offlineFiles,
        meta: { ...extraMeta, layout: layoutMeta(d.groups.values()), deadLetters: deadState },
      });
      this.lastIdValue = id;
      this.durableValue = positions;
      this.durableMetaJson = metaJson;
      const took = d.clock() - started;
      const st = d.stats;
      st.count++;
      st.lastId = id;
      st.lastDurationMs = took;
      st.totalDurationMs += took;
      st.lastAt = d.clock();
      st.lastEntries = entries.length;
      d.logger.debug({ id, entries: entries.length, ms: took, cutMs }, 'checkpoint durable');
      if (offlineFiles.length > 0) await d.offline!.commit(offlineFiles);
      await d.afterDurable(positions).catch((e: unknown) => d.logger.warn({ err: e }, 'post-checkpoint hook failed'));
    } catch (e) {
      for (const [g, keys] of captured) this.keep(g, keys);
      d.stats.failures++;
      d.logger.error({ err: e, id }, 'checkpoint failed; its changes are kept for the next one');
      throw e;
    } finally {
      this.runningValue = false;
    }
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
