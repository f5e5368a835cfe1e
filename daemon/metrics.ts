import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EngineApi } from '../core/runtime/api.js';
import type { PushSource } from '../adapters/sources/push/push-source.js';
import { registerOnlineMetrics } from './metrics-online.js';
import { registerSplitMetrics } from './metrics-splits.js';
import { registerScraped, type Sample } from './metrics-scraped.js';
import { readiness } from './readiness.js';

/**
 * The daemon's Prometheus metrics, in a registry of its own (several servers can live in one
 * process, e.g. in tests). Engine-side figures (dead letters, checkpoints, lag, the online store) are
 * read at scrape time; dead letters by source and code come from `stats().deadLettersBySource`, which
 * the daemon's EngineApi provides (daemon/serving-api.ts).
 */
export class DaemonMetrics {
  readonly registry = new Registry();
  readonly ingestEvents: Counter<'source' | 'outcome'>;
  readonly ingestRequests: Counter<'source' | 'transport'>;
  readonly readLatency: Histogram<'route'>;

  constructor(engine: EngineApi, pushSources: ReadonlyMap<string, PushSource>, opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'fenestra_process_' });
    this.ingestEvents = new Counter({
      name: 'fenestra_ingest_events_total',
      help: 'Events pushed to push sources, by outcome (accepted, rejected, duplicate).',
      labelNames: ['source', 'outcome'],
      registers,
    });
    this.ingestRequests = new Counter({
      name: 'fenestra_ingest_requests_total',
      help: 'Ingest requests (HTTP batches, WebSocket messages).',
      labelNames: ['source', 'transport'],
      registers,
    });
    this.readLatency = new Histogram({
      name: 'fenestra_read_latency_seconds',
      help: 'Feature read latency inside the daemon (request parsed to answer ready).',
      labelNames: ['route'],
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5],
      registers,
    });
    registerScraped(this.registry, 'fenestra_dead_letters_total', 'Events sent to dead letters since start, by source and error code (EVENT_MALFORMED, EVENT_LATE, ...).', 'counter', () => {
      const out: Sample[] = [];
      for (const [source, codes] of Object.entries(engine.stats?.().deadLettersBySource ?? {})) {
        for (const [code, n] of Object.entries(codes)) out.push({ labels: { source, code }, value: n });
      }
      return out;
    });
    registerOnlineMetrics(this.registry, engine);
    registerSplitMetrics(this.registry, engine);
    new Gauge({
      name: 'fenestra_checkpoint_age_seconds',
      help: 'Seconds since the last durable checkpoint (-1 before the first).',
      registers,
      collect() {
        const at = engine.stats?.().lastCheckpointAt;
        this.set(at === undefined || at === null ? -1 : (Date.now() - at) / 1000);
      },
    });
    new Gauge({
      name: 'fenestra_checkpoint_duration_seconds',
      help: 'Duration of the last checkpoint.',
      registers,
      collect() {
        const ms = engine.stats?.().lastCheckpointMs;
        this.set(ms === undefined || ms === null ? 0 : ms / 1000);
      },
    });
    new Gauge({
      name: 'fenestra_source_lag_records',
      help: 'Records behind the head per source split (push sources: accepted but not yet applied).',
      labelNames: ['source', 'split'],
      registers,
      collect() {
        this.reset();
        const seen = new Set<string>();
        for (const [name, src] of pushSources) {
          for (const [split, n] of Object.entries(src.lag())) {
            this.set({ source: name, split }, n);
            seen.add(`${name}\0${split}`);
          }
        }
        for (const [source, splits] of Object.entries(engine.stats?.().lag ?? {})) {
          for (const [split, n] of Object.entries(splits)) if (!seen.has(`${source}\0${split}`)) this.set({ source, split }, n);
        }
      },
    });
    new Gauge({
      name: 'fenestra_ready',
      help: '1 when /readyz answers 200: recovery finished, every source is open, and the online store answers.',
      registers,
      collect() {
        this.set(readiness(engine).ready ? 1 : 0);
      },
    });
  }
}
