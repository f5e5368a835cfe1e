import type { Registry } from 'prom-client';
import type { EngineApi, SplitStats } from '../core/runtime/api.js';
import { registerScraped, type Sample } from './metrics-scraped.js';

/**
 * Scale-out metrics (`state.shared`, docs/STREAMS.md "Scale-out"), read from `engine.stats().splits`
 * at scrape time, labelled by source. Absent when no source moves its splits between instances.
 */
export function registerSplitMetrics(registry: Registry, engine: EngineApi): void {
  const per = (value: (s: SplitStats) => number) => (): Sample[] =>
    Object.entries(engine.stats?.().splits ?? {}).map(([source, s]) => ({ labels: { source }, value: value(s) }));
  registerScraped(registry, 'fenestra_splits_owned', 'Splits (Kafka partitions) the consumer group assigns to this instance.', 'gauge', per((s) => s.owned));
  registerScraped(registry, 'fenestra_splits_held', 'Splits whose state this instance holds: owned, or given up and not yet claimed by a peer.', 'gauge', per((s) => s.held));
  registerScraped(registry, 'fenestra_splits_taken_over_total', "Splits taken over from a peer with their state (loaded from the peer's checkpoint).", 'counter', per((s) => s.takenOver));
  registerScraped(registry, 'fenestra_split_entities_loaded_total', "Entities loaded from peers' checkpoints when taking splits over.", 'counter', per((s) => s.entitiesLoaded));
  registerScraped(registry, 'fenestra_splits_dropped_total', 'Splits whose state was dropped here after a peer claimed them.', 'counter', per((s) => s.dropped));
  registerScraped(registry, 'fenestra_split_key_conflicts_total', 'Entity keys seen on two splits: the topic is not partitioned by the entity key (scale-out then cannot keep such keys whole).', 'counter', per((s) => s.keyConflicts));
}
