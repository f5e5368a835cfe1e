import type { OnlineStore } from '../contracts/online-store.js';
import { FenestraError } from '../errors.js';
import type { EngineSpec, GroupSpec } from '../model.js';
import { StoredGroupState, type StoredRead } from '../stored/index.js';
import { AggregatedGroupState } from '../window/index.js';
import type { FeatureRead, FeatureRows, ReadOptions } from './api.js';
import { FeatureReader, type DerivedFactory } from './reader.js';
import type { GroupRead, StateGroup } from './state-group.js';

/**
 * A StateGroup whose entities are the records one request fetched from the online store: `load`
 * puts a fresh group state (core/window or core/stored, the same code the engine reads its memory
 * with) behind it and restores the fetched bytes into it; reads then finalize windows exactly as
 * the engine would. Only `read`/`has`/`size`/`keys` are meaningful; it is never checkpointed.
 */
class FetchedGroup implements StateGroup {
  readonly name: string;
  readonly layoutHash: string;
  private current: StateGroup;

  constructor(private readonly fresh: () => StateGroup) {
    this.current = fresh();
    this.name = this.current.name;
    this.layoutHash = this.current.layoutHash;
    // Batch reads of fetched records take the states' readInto path too, when they have one.
    if (this.current.readInto !== undefined) this.readInto = (key, asOf, out) => this.current.readInto!(key, asOf, out);
  }

  readonly readInto?: (key: string, asOf: number, out: Array<number | string | null>) => boolean;

  load(keys: readonly string[], values: ReadonlyArray<Uint8Array | null>): void {
    const g = this.fresh();
    for (let i = 0; i < keys.length; i++) {
      const v = values[i];
      if (v !== null && v !== undefined) g.restore(keys[i]!, v);
    }
    this.current = g;
  }

  read(key: string, asOf: number): GroupRead {
    return this.current.read(key, asOf);
  }
  has(key: string): boolean {
    return this.current.has(key);
  }
  get size(): number {
    return this.current.size;
  }
  keys(): IterableIterator<string> {
    return this.current.keys();
  }
  drainDirty(): string[] {
    return [];
  }
  encode(key: string): Uint8Array | null {
    return this.current.encode(key);
  }
  restore(key: string, bytes: Uint8Array): void {
    this.current.restore(key, bytes);
  }
}

function freshState(spec: EngineSpec, g: GroupSpec): () => StateGroup {
  if (g.kind === 'stored') return () => new StoredGroupState(g);
  const source = spec.sources.get(g.source);
  if (source === undefined) {
    throw new FenestraError('CONFIG_INVALID', `feature group "${g.name}" names unknown source "${g.source}"`, { path: `featureGroups.${g.name}.source` });
  }
  return () => new AggregatedGroupState(g, source);
}

/**
 * Serves feature reads from an external online store (Redis, DynamoDB, a plugin) instead of the
 * engine's memory, so any number of stateless instances answer alike: fetch the entities' encoded
 * state (one batched `store.read`), decode and finalize the windows as of `asOf` with core/window
 * (stored groups with core/stored), evaluate derived features, keep the requested subset. Two
 * instances reading one store return identical features for the same key and `asOf`.
 *
 * Errors: UNKNOWN_GROUP / UNKNOWN_FEATURE as the in-memory reader; STORE_UNAVAILABLE (from the
 * adapter) when the store cannot be read. Threading: reads may run concurrently; each one's decode
 * and finalization run synchronously after its fetch, so they never interleave.
 */
export class OnlineFeatureReader {
  private readonly groups = new Map<string, FetchedGroup>();
  private readonly reader: FeatureReader;
  private readonly clock: () => number;

  constructor(private readonly spec: EngineSpec, private readonly store: OnlineStore, opts: { derived?: DerivedFactory; clock?: () => number } = {}) {
    for (const g of spec.groups.values()) this.groups.set(g.name, new FetchedGroup(freshState(spec, g)));
    this.reader = new FeatureReader(spec, this.groups, opts.derived);
    this.clock = opts.clock ?? Date.now;
  }

  async read(group: string, key: string, opts: ReadOptions = {}): Promise<FeatureRead> {
    return (await this.readMany(group, [key], opts))[0]!;
  }

  async readMany(group: string, keys: readonly string[], opts: ReadOptions = {}): Promise<readonly FeatureRead[]> {
    const asOf = await this.fetch(group, keys, opts);
    return keys.map((k) => this.reader.read(group, k, asOf, opts));
  }

  /** `readMany` as rows of the requested features (FeatureReader.readRows); `requests` gives each key its own request fields. */
  async readRows(group: string, keys: readonly string[], opts: ReadOptions = {}, requests?: readonly Readonly<Record<string, unknown>>[]): Promise<FeatureRows> {
    const asOf = await this.fetch(group, keys, opts);
    return this.reader.readRows(group, keys, asOf, opts, requests);
  }

  /**
   * Loads `keys`' records of `group` from the store into the group's fetched state and returns the
   * read's `asOf`. The caller reads synchronously right after: no other read can swap the group's
   * fetched state in between.
   */
  private async fetch(group: string, keys: readonly string[], opts: ReadOptions): Promise<number> {
    const g = this.groups.get(group);
    if (g === undefined) throw new FenestraError('UNKNOWN_GROUP', `no feature group "${group}"`, { path: group });
    const now = this.clock();
    const records = await this.store.read(group, keys, now);
    g.load(keys, records.map((r) => (r === null ? null : r.value)));
    return opts.asOf ?? now;
  }

  /**
   * A stored group's record with its original texts and expiry (SageMaker GetRecord), fetched from
   * the store and read as of `asOf` like StoredGroupState.readRecord reads memory.
   */
  async readRecord(group: string, key: string, asOf: number): Promise<StoredRead> {
    const spec = this.spec.groups.get(group);
    if (spec === undefined) throw new FenestraError('UNKNOWN_GROUP', `no feature group "${group}"`, { path: group });
    if (spec.kind !== 'stored') throw new FenestraError('NOT_STORED_GROUP', `"${group}" is not a stored feature group`, { path: group });
    const [rec] = await this.store.read(group, [key], this.clock());
    const state = new StoredGroupState(spec);
    if (rec !== null && rec !== undefined) state.restore(key, rec.value);
    return state.readRecord(key, asOf);
  }
}
