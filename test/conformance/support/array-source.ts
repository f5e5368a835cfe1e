import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Position, Source, SourceContext, SourceRecord } from '../../../plugins/sdk/index.js';
import type { ConformanceEvent, SourceAssignment } from '../../../plugins/testkit/index.js';

/**
 * An in-process source over arrays of events (one array per split), used to test the conformance kit
 * itself. `fault` breaks it on purpose: `lose` resumes a restored split one record too far (skips),
 * `duplicate` one record too early (repeats), `reorder` swaps records within a split, `overlap` ignores
 * the assignment (every instance reads every split), `revoke-leak` reports split-0 revoked (onRevoked)
 * on its first poll and keeps delivering it, `resume-where-stopped` keeps its own positions in its
 * dataDir (like an auto-committing consumer) and resumes from them instead of `restored`,
 * `orphan-split` leaves split 2 to no instance when there are 3 instances (a wrong assignment rule).
 * Positions are the index of the next record (a number). Instance i of n owns splits with index % n === i.
 */
export type ArraySourceFault = 'none' | 'lose' | 'duplicate' | 'reorder' | 'overlap' | 'revoke-leak' | 'resume-where-stopped' | 'orphan-split';

export class ArraySource implements Source {
  private readonly next = new Map<string, number>();
  private cursor = 0;
  private ctx: SourceContext | undefined;
  private dataDir: string | undefined;

  /**
   * With `tokens` (per split, per record), positions are those opaque tokens instead of numbers, like
   * server-assigned sequence numbers: a record's position is its own token, restoring at a token resumes
   * after that record, and a token of another data set is refused (as Kinesis refuses a foreign
   * sequence number).
   */
  constructor(
    private readonly splits: ReadonlyArray<readonly ConformanceEvent[]>,
    private readonly assignment: SourceAssignment,
    private readonly fault: ArraySourceFault = 'none',
    private readonly tokens?: ReadonlyArray<readonly string[]>,
  ) {}

  private resumeAt(split: number, at: Position): number {
    if (this.tokens === undefined) return Number(at);
    const i = this.tokens[split]!.indexOf(String(at));
    if (i < 0) throw new Error(`split-${split}: position ${JSON.stringify(at)} is not a sequence number of this data set`);
    return i + 1;
  }

  async open(ctx: SourceContext): Promise<void> {
    this.ctx = ctx;
    this.dataDir = ctx.dataDir;
    const restored = new Map(ctx.restored.map((s) => [s.id, s.position] as const));
    const own = join(ctx.dataDir, 'array-source-positions.json');
    if (this.fault === 'resume-where-stopped' && existsSync(own)) {
      restored.clear();
      for (const [id, p] of Object.entries(JSON.parse(readFileSync(own, 'utf8')) as Record<string, number>)) restored.set(id, p);
    }
    this.splits.forEach((_, i) => {
      if (this.fault !== 'overlap' && i % this.assignment.instances !== this.assignment.instance) return;
      if (this.fault === 'orphan-split' && this.assignment.instances === 3 && i === 2) return;
      const id = `split-${i}`;
      const at = restored.get(id);
      let start = at === undefined ? 0 : this.resumeAt(i, at);
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
      const position: Position = this.tokens === undefined ? pos + 1 : this.tokens[i]![pos]!;
      out.push({ split: id, position, value: { ...ev } });
    }
    if (this.fault === 'resume-where-stopped' && this.dataDir !== undefined) {
      writeFileSync(join(this.dataDir, 'array-source-positions.json'), JSON.stringify(Object.fromEntries(this.next)));
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
