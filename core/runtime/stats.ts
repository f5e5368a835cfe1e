import type { EngineStats, SplitStats } from './api.js';

/**
 * The engine's counters, as a plain object the daemon exports to Prometheus (core uses no
 * metrics library). Counters are since process start; gauges are current values.
 */
export interface SourceStats {
  eventsIn: number;
  applied: number;
  deadLettered: number;
  finished: boolean;
  /** Failed polls (retried with backoff). */
  pollErrors: number;
  /** Why the source loop stopped for good, if it did. */
  error: string | null;
  /** Per split, records behind the head where the source knows it. */
  lag: Record<string, number>;
}

export interface RuntimeStats extends EngineStats {
  /** Dead letters since start, all codes (EngineApi's field). */
  deadLetters: number;
  lastCheckpointAt: number | null;
  lastCheckpointMs: number | null;
  /** Per source and split, records behind the head (EngineApi's field). */
  lag: Record<string, Record<string, number>>;
  eventsIn: number;
  /** Events applied to at least one group. */
  eventsApplied: number;
  /** Dead letters by error code. */
  deadLettered: Record<string, number>;
  sources: Record<string, SourceStats>;
  checkpoints: {
    count: number;
    failures: number;
    lastId: number;
    lastDurationMs: number;
    totalDurationMs: number;
    /** Epoch ms when the last checkpoint became durable (0: none yet). */
    lastAt: number;
    lastEntries: number;
  };
  online: {
    enabled: boolean;
    healthy: boolean;
    flushes: number;
    failures: number;
    recordsWritten: number;
    recordsSkipped: number;
    pending: number;
    lastError: string | null;
    /** Every flush attempt's duration in seconds (filled in by core/runtime/online-flusher.ts). */
    flushSeconds?: { bounds: readonly number[]; counts: number[]; sum: number; count: number };
  };
  /** Live entities per group. */
  entities: Record<string, number>;
  /**
   * Scale-out (`state.shared`): splits taken over from peers with their state, entities loaded that
   * way, splits dropped after a peer claimed them, splits kept across a rebalance, held splits, and
   * per source the keys seen on two splits (topic not partitioned by the entity key).
   */
  splits?: Record<string, SplitStats>;
}

export function newStats(sources: Iterable<string>, online: boolean): RuntimeStats {
  const s: RuntimeStats = {
    deadLetters: 0,
    lastCheckpointAt: null,
    lastCheckpointMs: null,
    lag: {},
    eventsIn: 0,
    eventsApplied: 0,
    deadLettered: {},
    sources: {},
    checkpoints: { count: 0, failures: 0, lastId: 0, lastDurationMs: 0, totalDurationMs: 0, lastAt: 0, lastEntries: 0 },
    online: { enabled: online, healthy: true, flushes: 0, failures: 0, recordsWritten: 0, recordsSkipped: 0, pending: 0, lastError: null },
    entities: {},
  };
  for (const name of sources) s.sources[name] = { eventsIn: 0, applied: 0, deadLettered: 0, finished: false, pollErrors: 0, error: null, lag: {} };
  return s;
}
