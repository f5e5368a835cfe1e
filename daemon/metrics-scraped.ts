import type { Metric, Registry } from 'prom-client';
import type { CumulativeHistogram } from '../core/runtime/api.js';

export interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** Series name when it differs from the metric's (`<name>_bucket`, `_sum`, `_count`). */
  readonly metricName?: string;
}

/**
 * A metric whose samples are computed at scrape time from figures someone else keeps (the engine's
 * plain counters, core uses no metrics library). prom-client's own Counter and Histogram cannot be
 * *set* to a cumulative value, so this implements the part of its metric interface a Registry uses
 * (`name`, `help`, `type`, `get`, `reset`) and exposes a counter or histogram whose values are exactly
 * the source's, monotonic as long as the source is.
 */
class ScrapedMetric {
  readonly aggregator = 'sum' as const;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
    private readonly samples: () => readonly Sample[],
  ) {}

  async get(): Promise<{ name: string; help: string; type: string; aggregator: 'sum'; values: Sample[] }> {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: [...this.samples()] };
  }

  reset(): void {
    // the values belong to their source
  }
}

/** Registers a scraped metric (see ScrapedMetric). */
export function registerScraped(registry: Registry, name: string, help: string, type: 'counter' | 'gauge' | 'histogram', samples: () => readonly Sample[]): void {
  registry.registerMetric(new ScrapedMetric(name, help, type, samples) as unknown as Metric);
}

/** The Prometheus series of a cumulative histogram: `_bucket{le}` (cumulative), `_sum`, `_count`. */
export function histogramSamples(name: string, labels: Readonly<Record<string, string>>, h: CumulativeHistogram): Sample[] {
  const out: Sample[] = [];
  let acc = 0;
  h.bounds.forEach((b, i) => {
    acc += h.counts[i] ?? 0;
    out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: String(b) }, value: acc });
  });
  out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: h.count });
  out.push({ metricName: `${name}_sum`, labels, value: h.sum });
  out.push({ metricName: `${name}_count`, labels, value: h.count });
  return out;
}
