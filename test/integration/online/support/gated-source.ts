/**
 * A bounded, replayable in-process source for engine tests: one split `s0`, position = index of the
 * next record. It delivers records only up to `release(n)` (a gate the test moves), so a test can
 * stop the stream at a point, break something, and let it go on. Resumes from a restored position.
 */
import type { Position } from '../../../../core/contracts/position.js';
import type { Source, SourceContext, SourceRecord } from '../../../../core/contracts/source.js';

export class GatedArraySource implements Source {
  private next = 0;
  private gate: number;

  constructor(private readonly values: readonly unknown[], initiallyReleased = values.length) {
    this.gate = initiallyReleased;
  }

  /** Lets records with index < n be delivered. */
  release(n: number): void {
    this.gate = Math.min(this.values.length, Math.max(this.gate, n));
  }

  async open(ctx: SourceContext): Promise<void> {
    const r = ctx.restored.find((s) => s.id === 's0');
    this.next = r === undefined ? 0 : Number(r.position as Position);
  }

  async poll(max: number, waitMs: number): Promise<readonly SourceRecord[]> {
    if (this.next >= this.gate) {
      await new Promise((r) => setTimeout(r, Math.min(waitMs, 5)));
      return [];
    }
    const end = Math.min(this.gate, this.next + max);
    const out: SourceRecord[] = [];
    for (let i = this.next; i < end; i++) out.push({ split: 's0', position: i + 1, value: this.values[i] });
    this.next = end;
    return out;
  }

  finished(): boolean {
    return this.next >= this.values.length;
  }

  async close(): Promise<void> {}
}
