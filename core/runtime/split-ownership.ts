import type { CheckpointEntry, RecoveredState } from '../contracts/checkpoint-store.js';
import type { Logger } from '../contracts/logger.js';
import type { Position, SplitState } from '../contracts/position.js';
import type { SplitRegistry } from '../contracts/split-registry.js';
import { FenestraError } from '../errors.js';
import type { SplitStats } from './api.js';
import type { SourceRuntime } from './source-loop.js';

/** Prefix of the checkpoint "group" that records which split each entity key came from. */
const LEDGER_PREFIX = '__splits__.';

/** The checkpoint-entry group holding a source's key → split ledger. */
export function ledgerGroup(source: string): string {
  return `${LEDGER_PREFIX}${source}`;
}

/** Something whose changed keys a checkpoint records (feature groups, split ledgers). */
export interface CheckpointParticipant {
  readonly name: string;
  drainDirty(): string[];
  encode(key: string): Uint8Array | null;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/**
 * Which split each entity key of one source belongs to, checkpointed with the state (entries of
 * group `__splits__.<source>`, value = the split id) so that a peer can take one split's entities
 * out of this instance's checkpoint. A key seen on two splits means the topic is not partitioned by
 * the entity key; the key stays with its first split and the conflict is counted.
 */
class SplitLedger implements CheckpointParticipant {
  readonly name: string;
  readonly splitOf = new Map<string, string>();
  private dirty = new Set<string>();
  conflicts = 0;

  constructor(readonly source: string) {
    this.name = ledgerGroup(source);
  }

  note(key: string, split: string): void {
    const had = this.splitOf.get(key);
    if (had === split) return;
    if (had !== undefined) {
      this.conflicts++;
      return;
    }
    this.splitOf.set(key, split);
    this.dirty.add(key);
  }

  set(key: string, split: string): void {
    this.splitOf.set(key, split);
    this.dirty.add(key);
  }

  remove(key: string): void {
    if (this.splitOf.delete(key)) this.dirty.add(key);
  }

  restore(key: string, bytes: Uint8Array): void {
    this.splitOf.set(key, fromUtf8.decode(bytes));
  }

  keysOf(split: string): string[] {
    const out: string[] = [];
    for (const [k, s] of this.splitOf) if (s === split) out.push(k);
    return out;
  }

  drainDirty(): string[] {
    const out = [...this.dirty];
    this.dirty = new Set();
    return out;
  }

  encode(key: string): Uint8Array | null {
    const s = this.splitOf.get(key);
    return s === undefined ? null : utf8.encode(s);
  }
}

/** What the ownership protocol needs from the engine. */
export interface SplitOwnershipHost {
  /** Takes a checkpoint of everything applied so far; resolves when durable. */
  checkpoint(): Promise<void>;
  /** Records `keys` of `group` for the next checkpoint (they were restored, not applied). */
  keep(group: string, keys: readonly string[]): void;
  /** Marks a restored entity for the online flush. */
  markOnline(group: string, key: string): void;
  readonly logger: Logger;
}

interface OwnedSource {
  readonly rt: SourceRuntime;
  readonly ledger: SplitLedger;
  /** Splits this instance holds state for → the epoch it holds them at. */
  readonly epochs: Map<string, number>;
  /** Held splits the consumer group currently assigns to this instance. */
  readonly owned: Set<string>;
  readonly counters: { takenOver: number; entitiesLoaded: number; dropped: number; kept: number };
}

/**
 * Moves Kafka partitions between instances *with their state* (DESIGN §4, issue "scale-out"): the
 * engine side of the `SplitRegistry` protocol. Enabled for sources that declare `assignsSplits`
 * when the config names a shared directory (`state.shared`).
 *
 * - Revoked splits are checkpointed (state + position + offline rows + dead letters, atomically, as
 *   every checkpoint) and then *released*: their state stays in memory and in this instance's
 *   checkpoints until a newer claim shows a peer has taken them over; then it is dropped.
 * - Assigned splits: if the newest claim is this instance's own at the epoch it holds, its state
 *   is kept as is; otherwise the local copy is dropped and the split's entities and position are
 *   loaded from the claiming peer's last checkpoint (which must record the split at that epoch),
 *   checkpointed here at epoch + 1, and only then claimed.
 *
 * Threading: runs on the engine's event loop; `assigned`, `revoked` and `reap` are serialized with
 * each other. The source delivers no record of a split between revoking it and the end of its next
 * assignment (the Source contract), so loading and dropping never interleave with applying.
 */
export class SplitOwnership {
  private readonly sources = new Map<string, OwnedSource>();
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly registry: SplitRegistry,
    private readonly host: SplitOwnershipHost,
  ) {}

  /** Puts a source under the protocol (before recovery). */
  manage(rt: SourceRuntime): void {
    const ledger = new SplitLedger(rt.name);
    this.sources.set(rt.name, { rt, ledger, epochs: new Map(), owned: new Set(), counters: { takenOver: 0, entitiesLoaded: 0, dropped: 0, kept: 0 } });
    rt.ledger = ledger; // every applied record of the source notes its key's split
  }

  manages(source: string): boolean {
    return this.sources.has(source);
  }

  /** The ledgers, checkpointed beside the feature groups. */
  participants(): CheckpointParticipant[] {
    return [...this.sources.values()].map((s) => s.ledger);
  }

  /** Counters and gauges for `stats().splits`, per source. */
  summary(): Record<string, SplitStats> {
    const out: Record<string, SplitStats> = {};
    for (const [name, s] of this.sources) {
      out[name] = { ...s.counters, held: s.epochs.size, owned: s.owned.size, keyConflicts: s.ledger.conflicts };
    }
    return out;
  }

  /** True when `entry` belongs to a ledger (restored here instead of into a feature group). */
  restoreEntry(entry: CheckpointEntry): boolean {
    if (!entry.group.startsWith(LEDGER_PREFIX)) return false;
    const src = this.sources.get(entry.group.slice(LEDGER_PREFIX.length));
    if (src && entry.value !== null) src.ledger.restore(entry.key, entry.value);
    return true;
  }

  /** Epochs of every held split, for the checkpoint's meta. */
  meta(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [name, s] of this.sources) out[name] = Object.fromEntries(s.epochs);
    return out;
  }

  /** After recovery: held splits (from the checkpoint's meta) are released until assigned again. */
  resume(meta: unknown): void {
    const m = (typeof meta === 'object' && meta !== null ? meta : {}) as Record<string, Record<string, number>>;
    for (const [name, s] of this.sources) {
      for (const [split, epoch] of Object.entries(m[name] ?? {})) s.epochs.set(split, epoch);
    }
  }

  /** The consumer group took `splits` away: checkpoint them (they stay held until a peer claims them). */
  revoked(source: string, splits: readonly string[]): Promise<void> {
    return this.serial(async () => {
      const s = this.sources.get(source)!;
      await this.host.checkpoint();
      for (const id of splits) s.owned.delete(id);
    });
  }

  /** The consumer group gave `splits` to this instance: answers the position to resume each from. */
  assigned(source: string, splits: readonly string[]): Promise<readonly SplitState[]> {
    return this.serial(() => this.takeOver(this.sources.get(source)!, splits));
  }

  /** Drops held splits that are not assigned here and that a peer has claimed since. */
  reap(): Promise<void> {
    return this.serial(async () => {
      for (const s of this.sources.values()) {
        for (const [split, epoch] of [...s.epochs]) {
          if (s.owned.has(split)) continue;
          const claim = await this.registry.latestClaim(s.rt.name, split);
          if (claim && claim.epoch > epoch) this.drop(s, split);
        }
      }
    });
  }

  /** True when some held split is not assigned here (the engine then reaps periodically). */
  holdsReleased(): boolean {
    for (const s of this.sources.values()) for (const split of s.epochs.keys()) if (!s.owned.has(split)) return true;
    return false;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async takeOver(s: OwnedSource, splits: readonly string[]): Promise<readonly SplitState[]> {
    const toClaim: Array<[string, number]> = [];
    /** Splits to load, by the peer whose checkpoint holds them → (split → the epoch it holds it at). */
    const fromPeers = new Map<string, Map<string, number>>();
    for (const split of splits) {
      const claim = await this.registry.latestClaim(s.rt.name, split);
      const held = s.epochs.get(split);
      if (claim === null && held === undefined) {
        toClaim.push([split, 1]); // never owned by anyone: nothing to load
      } else if (claim === null || (claim.instance === this.registry.instance && claim.epoch === held)) {
        if (claim === null) toClaim.push([split, held!]); // state from before claims were kept
        s.counters.kept++;
      } else {
        if (held !== undefined) this.drop(s, split);
        let wanted = fromPeers.get(claim.instance);
        if (!wanted) fromPeers.set(claim.instance, (wanted = new Map()));
        wanted.set(split, claim.epoch);
        toClaim.push([split, claim.epoch + 1]);
      }
      s.owned.add(split);
    }
    // One read and one pass over each peer's checkpoint, whatever the number of splits taken from it.
    for (const [peer, wanted] of fromPeers) this.load(s, peer, wanted, await this.registry.readCheckpoint(peer));
    for (const [split, epoch] of toClaim) s.epochs.set(split, epoch);
    if (toClaim.length > 0) {
      // Durable here before the claim: a peer that sees the claim may drop its copy at once.
      await this.host.checkpoint();
      for (const [split, epoch] of toClaim) await this.registry.claim(s.rt.name, split, epoch);
    }
    const out: SplitState[] = [];
    for (const split of splits) {
      const p = s.rt.positions[split];
      if (p !== undefined) out.push({ id: split, position: p });
    }
    this.host.logger.info({ source: s.rt.name, splits, claimed: Object.fromEntries(toClaim), positions: Object.fromEntries(out.map((x) => [x.id, x.position])) }, 'splits assigned');
    return out;
  }

  /**
   * Loads the `wanted` splits (split → the epoch `peer` claimed it at) with their entities and
   * positions from the peer's last checkpoint, which must record each at that epoch.
   */
  private load(s: OwnedSource, peer: string, wanted: ReadonlyMap<string, number>, ckpt: RecoveredState | null): void {
    const source = s.rt.name;
    const recordedEpochs = (ckpt?.meta['splitEpochs'] as Record<string, Record<string, number>> | undefined)?.[source] ?? {};
    for (const [split, epoch] of wanted) {
      if (!ckpt || recordedEpochs[split] !== epoch) {
        throw new FenestraError(
          'SPLIT_HANDOFF_FAILED',
          `source "${source}" split ${split}: instance "${peer}" claimed it at epoch ${epoch}, but its last checkpoint ${ckpt ? `records epoch ${String(recordedEpochs[split])}` : 'does not exist'} (${this.registry.checkpointLocation(peer)})`,
          { path: `${source}/${split}` },
        );
      }
    }
    const ledger = ledgerGroup(source);
    const splitOf = new Map<string, string>();
    const groups = new Map(s.rt.groups.map((g) => [g.name, g] as const));
    const candidates: Array<[string, string, Uint8Array]> = [];
    for (const e of ckpt!.entries()) {
      if (e.value === null) continue;
      if (e.group === ledger) {
        const split = fromUtf8.decode(e.value);
        if (wanted.has(split)) splitOf.set(e.key, split);
      } else if (groups.has(e.group)) candidates.push([e.group, e.key, e.value]);
    }
    const loaded = new Map<string, number>([...wanted.keys()].map((split) => [split, 0]));
    const restored = new Map<string, string[]>();
    for (const [group, key, value] of candidates) {
      const split = splitOf.get(key);
      if (split === undefined) continue;
      groups.get(group)!.restore(key, value);
      this.host.markOnline(group, key);
      let list = restored.get(group);
      if (!list) restored.set(group, (list = []));
      list.push(key);
      loaded.set(split, loaded.get(split)! + 1);
    }
    for (const [group, keys] of restored) this.host.keep(group, keys);
    for (const [key, split] of splitOf) s.ledger.set(key, split);
    for (const [split, epoch] of wanted) {
      const position: Position | undefined = ckpt!.positions[source]?.[split];
      if (position !== undefined) s.rt.positions[split] = position;
      else delete s.rt.positions[split];
      s.counters.takenOver++;
      s.counters.entitiesLoaded += loaded.get(split)!;
      this.host.logger.info({ source, split, from: peer, epoch, entities: loaded.get(split), position }, 'split taken over with its state');
    }
  }

  /** Forgets a split here: its entities, ledger entries, position and epoch (deletions checkpointed). */
  private drop(s: OwnedSource, split: string): void {
    const keys = s.ledger.keysOf(split);
    for (const key of keys) {
      for (const g of s.rt.groups) g.delete?.(key);
      s.ledger.remove(key);
    }
    delete s.rt.positions[split];
    s.epochs.delete(split);
    s.owned.delete(split);
    s.counters.dropped++;
    this.host.logger.info({ source: s.rt.name, split, entities: keys.length }, 'split dropped: a peer owns it now');
  }
}
