import type { DeadLetter, DeadLetterSink } from '../core/runtime/dead-letters.js';

/**
 * The engine's dead-letter sink with a count per source and error code on the side, for the
 * `fenestra_dead_letters_total{source,code}` counter (the engine's own stats count by source and by
 * code separately). Everything else is the wrapped sink's, unchanged: what is written, when, and its
 * exactly-once recovery. Counts are since process start, like any Prometheus counter; an event
 * replayed after a crash and dead-lettered again counts again in the new process.
 * Threading: `append` runs on the engine's loop, synchronously; reads of the counts see whole updates.
 */
export class CountingDeadLetterSink implements DeadLetterSink {
  private readonly counts: Record<string, Record<string, number>> = {};

  constructor(private readonly inner: DeadLetterSink) {}

  append(letter: DeadLetter): void {
    this.inner.append(letter);
    const bySource = (this.counts[letter.source] ??= {});
    bySource[letter.code] = (bySource[letter.code] ?? 0) + 1;
  }

  /** Dead letters since start, by source then code (a copy). */
  bySource(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [s, codes] of Object.entries(this.counts)) out[s] = { ...codes };
    return out;
  }

  recover(state: unknown): Promise<void> {
    return this.inner.recover(state);
  }

  cut(): number {
    return this.inner.cut();
  }

  persist(count: number): Promise<unknown> {
    return this.inner.persist(count);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
