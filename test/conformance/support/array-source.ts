import type { Position, Source, SourceContext, SourceRecord } from '../../../plugins/sdk/index.js';
import type { ConformanceEvent, SourceAssignment } from '../../../plugins/testkit/index.js';

/**
 * An in-process source over arrays of events (one array per split), used to test the conformance kit
 * itself. `fault` breaks it on purpose: `lose` resumes a restored split one record too far (skips),
 * `duplicate` one record too early (repeats), `reorder` swaps records within a split, `overlap` ignores
 * the assignment (every instance reads every split), `revoke-leak` reports split-0 revoked (onRevoked)
 * on its first poll and keeps delivering it.
 * Positions are the index of the next record (a number). Instance i of n owns splits with index % n === i.
 */
export type ArraySourceFault = 'none' | 'lose' | 'duplicate' | 'reorder' | 'overlap' | 'revoke-leak';

export class ArraySource implements Source {
  private readonly next = new Map<string, number>();
  private cursor = 0;
  private ctx: SourceContext | undefined;

  constructor(
    private readonly splits: ReadonlyArray<readonly ConformanceEvent[]>,
    private readonly assignment: SourceAssignment,
    private readonly fault: ArraySourceFault = 'none',
  ) {}

  async open(ctx: SourceContext): Promise<void> {
    this.ctx = ctx;
    const restored = new Map(ctx.restored.map((s) => [s.id, s.position] as const));
    this.splits.forEach((_, i) => {
      if (this.fault !== 'overlap' && i % this.assignment.instances !== this.assignment.instance) return;
      const id = `split-${i}`;
      const at = restored.get(id);
      let start = at === undefined ? 0 : Number(at);
      if (at !== undefined && this.fault === 'lose') start += 1;
      if (at !== undefined && this.fault === 'duplicate') start = Math.max(0, start - 1);
      this.next.set(id, start);
    });
  }

  async poll(max: number): Promise<readonly SourceRecord[]> {
    if (this.fault === 'revoke-leak' && this.ctx !== undefined) {
      const ctx = this.ctx;
      this.ctx = undefined;
      await ctx.onRevoked(['split-0']);
    }
    const out: SourceRecord[] = [];
    const ids = [...this.next.keys()];
    for (let tries = 0; out.length < max && tries < ids.length * max + ids.length; tries++) {
      const id = ids[this.cursor++ % ids.length]!;
      const i = Number(id.slice('split-'.length));
      const pos = this.next.get(id)!;
      const events = this.splits[i]!;
      if (pos >= events.length) continue;
      let ev = events[pos]!;
      if (this.fault === 'reorder' && pos % 4 === 1 && pos + 1 < events.length) ev = events[pos + 1]!;
      else if (this.fault === 'reorder' && pos % 4 === 2) ev = events[pos - 1]!;
      this.next.set(id, pos + 1);
      out.push({ split: id, position: pos + 1 satisfies Position, value: { ...ev } });
    }
    return out;
  }

  finished(): boolean {
    return [...this.next].every(([id, pos]) => pos >= this.splits[Number(id.slice('split-'.length))]!.length);
  }

  async close(): Promise<void> {}
}

/** Groups kit events by split index, as a backend would store them. */
export function bySplit(events: readonly ConformanceEvent[], splits: number): ConformanceEvent[][] {
  const out: ConformanceEvent[][] = Array.from({ length: splits }, () => []);
  for (const e of events) out[e.split]!.push(e);
  for (const s of out) s.sort((a, b) => a.seq - b.seq);
  return out;
}
