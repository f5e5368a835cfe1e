import type { SourceRecord } from '../../../core/contracts/source.js';

/**
 * One shard as the source tracks it. Life cycle: `waiting` (a parent is not drained yet) → `reading`
 * (its reader fetches) → `ended` (GetRecords returned no next iterator: the shard is closed and fully
 * fetched). An ended shard is *drained* once `poll` has handed out its last buffered record; only then
 * may its children start, so one partition key's records keep their order across a split or merge.
 */
export class ShardState {
  status: 'waiting' | 'reading' | 'ended' = 'waiting';
  /** Sequence number of the last record fetched (the reader resumes after it). */
  fetchedSeq: string | undefined;
  millisBehind = -1;
  private items: SourceRecord[] = [];
  private head = 0;

  constructor(
    readonly id: string,
    /** ParentShardId and AdjacentParentShardId (a merge has two). */
    readonly parents: readonly string[],
    /** The checkpointed position (last applied sequence number), if any. */
    readonly restored: string | undefined,
  ) {}

  get size(): number {
    return this.items.length - this.head;
  }

  get drained(): boolean {
    return this.status === 'ended' && this.size === 0;
  }

  push(r: SourceRecord): void {
    this.items.push(r);
  }

  take(n: number): SourceRecord[] {
    const end = Math.min(this.items.length, this.head + n);
    const out = this.items.slice(this.head, end);
    this.head = end;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return out;
  }
}
