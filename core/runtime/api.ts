import type { EngineSpec } from '../model.js';
import type { Position } from '../contracts/position.js';

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
