import type { Registry } from 'prom-client';
import type { EngineApi, OnlineStoreStats } from '../core/runtime/api.js';
import { histogramSamples, registerScraped, type Sample } from './metrics-scraped.js';

/**
 * The online store's metrics, read from `engine.stats().online` at scrape time, labelled with the
 * store (`online.type`). `fenestra_online_store_up` is 1 for `embedded` (the engine's own state);
 * the other series exist only when the engine flushes to an external store.
 */
export function registerOnlineMetrics(registry: Registry, engine: EngineApi): void {
  const store = engine.spec.online.type;
  const labels = { store };
  const online = (): OnlineStoreStats | undefined => {
    const o = engine.stats?.().online;
    return o !== undefined && o.enabled ? o : undefined;
  };
  const one = (value: (o: OnlineStoreStats) => number) => (): Sample[] => {
    const o = online();
    return o === undefined ? [] : [{ labels, value: value(o) }];
  };

  registerScraped(registry, 'fenestra_online_store_up', 'Whether the online store answers: 0 from a failed write or probe until the next success (embedded: always 1).', 'gauge', () => {
    const o = online();
    return [{ labels, value: o === undefined || o.healthy ? 1 : 0 }];
  });
  registerScraped(registry, 'fenestra_online_pending_keys', 'Changed entities not yet written to the online store (kept in memory and retried while it is down).', 'gauge', one((o) => o.pending));
  registerScraped(registry, 'fenestra_online_flushes_total', 'Successful flushes to the online store.', 'counter', one((o) => o.flushes));
  registerScraped(registry, 'fenestra_online_flush_failures_total', 'Failed flush attempts to the online store (each retried with backoff).', 'counter', one((o) => o.failures));
  registerScraped(registry, 'fenestra_online_records_total', 'Records sent to the online store, by outcome: applied, or skipped because the store held the same or a newer version.', 'counter', () => {
    const o = online();
    return o === undefined ? [] : [
      { labels: { store, outcome: 'applied' }, value: o.recordsWritten },
      { labels: { store, outcome: 'skipped' }, value: o.recordsSkipped },
    ];
  });
  registerScraped(registry, 'fenestra_online_flush_duration_seconds', 'Duration of each flush attempt to the online store (encode and conditional writes).', 'histogram', () => {
    const h = online()?.flushSeconds;
    return h === undefined ? [] : histogramSamples('fenestra_online_flush_duration_seconds', labels, h);
  });

}
