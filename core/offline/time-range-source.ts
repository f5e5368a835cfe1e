/**
 * A source wrapper for backfills: passes through only records whose event time is in
 * [from, to) (records without a readable event time pass through, so the engine dead-letters them as usual).
 * Positions advance over skipped records too (the engine records the position of the last
 * delivered record; skipped ones are re-read and re-skipped after a restart, which is idempotent).
 * Ordering, idempotency and threading are those of the wrapped source.
 */
import type { Source, SourceContext, SourceRecord } from '../contracts/source.js';
import type { SourceSpec } from '../model.js';
import { parseEventTime } from '../event/time.js';

export class TimeRangeSource implements Source {
  private readonly timeField: string;
  /** Records read from the wrapped source, delivered or skipped. */
  read = 0;
  skipped = 0;

  constructor(
    private readonly inner: Source,
    spec: SourceSpec,
    private readonly from: number,
    private readonly to: number,
  ) {
    this.timeField = spec.eventTimeField;
  }

  open(ctx: SourceContext): Promise<void> {
    return this.inner.open(ctx);
  }

  async poll(max: number, waitMs: number): Promise<readonly SourceRecord[]> {
    for (;;) {
      const recs = await this.inner.poll(max, waitMs);
      this.read += recs.length;
      if (recs.length === 0) return recs;
      const out: SourceRecord[] = [];
      for (const r of recs) {
        const v = r.value;
        const ts = v !== null && typeof v === 'object' ? parseEventTime((v as Record<string, unknown>)[this.timeField]) : null;
        if (ts === null || (ts >= this.from && ts < this.to)) out.push(r);
      }
      this.skipped += recs.length - out.length;
      if (out.length > 0) return out;
      // whole batch outside the range: keep reading (the positions of skipped records are not
      // recorded, so they are skipped again after a restart)
    }
  }

  finished(): boolean {
    return this.inner.finished();
  }

  checkpointed(positions: Readonly<Record<string, import('../contracts/position.js').Position>>): Promise<void> {
    return this.inner.checkpointed?.(positions) ?? Promise.resolve();
  }

  lag(): Readonly<Record<string, number>> {
    return this.inner.lag?.() ?? {};
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
