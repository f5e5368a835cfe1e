import type { EngineSpec } from '../model.js';
import type { Position } from '../contracts/position.js';
import type { StoredRead } from '../stored/state.js';

export type FeatureValue = number | string | boolean | null;

/** One entity's features as of a time, derived features included. */
export interface FeatureRead {
  readonly group: string;
  readonly key: string;
  /** False when the engine has no state for the key (values are then all null, counts 0). */
  readonly found: boolean;
  /** The instant the windows were finalized at (epoch ms). */
  readonly asOf: number;
  /** The entity's version (applied-event sequence; event time for stored groups); 0 when not found. */
  readonly version: number;
  readonly values: Readonly<Record<string, FeatureValue>>;
}

/**
 * Many keys' reads of one group as rows (`EngineApi.readRows`): the value of feature `names[j]` for
 * `keys[i]` is `values[i * names.length + j]` (null where `read` gives null or nothing).
 */
export interface FeatureRows {
  readonly names: readonly string[];
  readonly found: readonly boolean[];
  readonly values: readonly FeatureValue[];
}

export interface ReadOptions {
  /** Finalize windows as of this instant (default: now). */
  readonly asOf?: number;
  /** Only these features (default: all of the group, derived included). */
  readonly features?: readonly string[];
  /** `request.*` fields for derived features. */
  readonly request?: Readonly<Record<string, unknown>>;
}

/** A rejected event, as the ingest API and dead letters report it. */
export interface Rejection {
  readonly index?: number;
  readonly code: string;
  readonly field?: string;
  readonly reason: string;
}

/** A change notification for subscribers (WebSocket `subscribe`). Fired after a batch is applied. */
export interface KeyUpdate {
  readonly group: string;
  readonly key: string;
  readonly version: number;
}

/**
 * A cumulative histogram as plain numbers (core uses no metrics library): `counts[i]` observations
 * were <= `bounds[i]` and > `bounds[i-1]`; the last count is for values above every bound.
 */
export interface CumulativeHistogram {
  /** Upper bounds, ascending (seconds for durations). */
  readonly bounds: readonly number[];
  /** One more entry than `bounds` (the last is the overflow bucket); not cumulative. */
  readonly counts: readonly number[];
  readonly sum: number;
  readonly count: number;
}

/** The online store as the engine sees it when it flushes to one (`/readyz`, `/metrics`). */
export interface OnlineStoreStats {
  /** True when the engine flushes to an external online store. */
  readonly enabled: boolean;
  /** False from a failed write (or probe) until the next successful one. */
  readonly healthy: boolean;
  readonly flushes: number;
  /** Failed flush attempts since start (each is retried with backoff). */
  readonly failures: number;
  readonly recordsWritten: number;
  readonly recordsSkipped: number;
  /** Changed entities waiting to be written (kept in memory while the store is down). */
  readonly pending: number;
  readonly lastError: string | null;
  /** Duration of every flush attempt, in seconds. */
  readonly flushSeconds?: CumulativeHistogram;
}

/** Counters the daemon exposes on `/metrics` (all optional for engines that do not track them). */
export interface EngineStats {
  /** Events sent to dead letters since start. */
  readonly deadLetters?: number;
  /** Epoch ms at which the last checkpoint became durable (null before the first). */
  readonly lastCheckpointAt?: number | null;
  /** Duration of the last checkpoint in ms. */
  readonly lastCheckpointMs?: number | null;
  /** Records behind the head per source and split, where known. */
  readonly lag?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** The online store's health and flush figures, when the engine flushes to one. */
  readonly online?: OnlineStoreStats;
  /** Dead letters since start by source, then by error code (the daemon counts them at its sink). */
  readonly deadLettersBySource?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Scale-out (`state.shared`): per source whose splits move between instances. */
  readonly splits?: Readonly<Record<string, SplitStats>>;
}

/** What one source's split ownership did since start (core/runtime/split-ownership.ts). */
export interface SplitStats {
  /** Splits taken over from a peer, with their state. */
  readonly takenOver: number;
  /** Entities loaded from peers' checkpoints that way. */
  readonly entitiesLoaded: number;
  /** Splits dropped here after a peer claimed them. */
  readonly dropped: number;
  /** Splits assigned back to this instance with its own state still current. */
  readonly kept: number;
  /** Splits whose state this instance holds (owned, or given up and not yet claimed by a peer). */
  readonly held: number;
  /** Splits the consumer group assigns to this instance now. */
  readonly owned: number;
  /** Keys seen on two splits (the topic is not partitioned by the entity key). */
  readonly keyConflicts: number;
}

/**
 * What the daemon (HTTP/WebSocket/SageMaker API) and CLI use of the running engine.
 * Threading: all methods are called from the one Node event loop; reads never block ingestion
 * for longer than one synchronous read.
 */
export interface EngineApi {
  readonly spec: EngineSpec;
  /** True once recovery finished and every source is open. */
  isReady(): boolean;
  read(group: string, key: string, opts?: ReadOptions): Promise<FeatureRead>;
  readMany(group: string, keys: readonly string[], opts?: ReadOptions): Promise<readonly FeatureRead[]>;
  /**
   * Optional: `readMany` as rows of the requested features (`opts.features`, default all), the same
   * values without an object per key; `requests` (one per key) replaces `opts.request`. The batch
   * route uses it when present.
   */
  readRows?(group: string, keys: readonly string[], opts?: ReadOptions, requests?: readonly Readonly<Record<string, unknown>>[]): Promise<FeatureRows>;
  /**
   * A stored group's record with its original texts and expiry, as of `asOf` (SageMaker GetRecord).
   * Optional: absent, the daemon reads its stored groups' memory; present when reads come from the
   * online store (`online.reads: store`).
   */
  readRecord?(group: string, key: string, asOf: number): Promise<StoredRead>;
  /** Subscribe to key updates; returns an unsubscribe function. */
  onUpdate(listener: (u: KeyUpdate) => void): () => void;
  /** Force a checkpoint now (resolves when durable). */
  checkpoint(): Promise<void>;
  /** Stop sources, write a final checkpoint, close stores. */
  stop(): Promise<void>;
  /** The last durable position of a split (from the last checkpoint), for acks that mean durable. */
  durablePosition(source: string, split: string): Position | undefined;
  /** Optional counters for `/metrics` (dead letters, checkpoint age and duration, source lag). */
  stats?(): EngineStats;
}
