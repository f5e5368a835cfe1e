import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EngineApi } from '../core/runtime/api.js';
import type { PushSource } from '../adapters/sources/push/push-source.js';

/**
 * The daemon's Prometheus metrics, in a registry of its own (several servers can live in one
 * process, e.g. in tests). Engine-side figures (dead letters, checkpoints, lag) are read at scrape time.
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
    new Gauge({
      name: 'fenestra_dead_letters_total',
      help: 'Events sent to dead letters since start (malformed, late).',
      registers,
      collect() {
        this.set(engine.stats?.().deadLetters ?? 0);
      },
    });
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
      help: '1 once recovery finished and every source is open.',
      registers,
      collect() {
        this.set(engine.isReady() ? 1 : 0);
      },
    });
  }
}
