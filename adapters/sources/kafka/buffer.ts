import type { SourceRecord } from '../../../core/contracts/source.js';
import { jsonRecord } from './message.js';

/**
 * One owned partition: messages fetched but not yet handed to the engine, in offset order. The
 * messages are kept as three parallel arrays (offset, value, timestamp) rather than an object per
 * message: they stay buffered across young-generation collections, so each such object would be
 * copied and promoted only to be dropped by the next poll.
 */
export class PartitionBuffer {
  private offsets: number[] = [];
  private values: Array<Buffer | null> = [];
  private timestamps: string[] = [];
  private head = 0;
  /** Offset of the next message this partition must deliver (the restored/sought position). */
  next: number;
  /** Paused in kafkajs because the source's buffer was full when a batch arrived. */
  paused = false;
  /** Latest high watermark seen for the partition (−1: unknown). */
  highWatermark = -1;
  /** Offset after the last message handed out by poll (what the engine has). */
  delivered: number;
  /** The partition as a split id (built once, shared by every record of the partition). */
  readonly split: string;

  constructor(readonly partition: number, start: number) {
    this.next = start;
    this.delivered = start;
    this.split = String(partition);
  }

  get size(): number {
    return this.offsets.length - this.head;
  }

  push(offset: number, value: Buffer | null, timestamp: string): void {
    this.offsets.push(offset);
    this.values.push(value);
    this.timestamps.push(timestamp);
    this.next = offset + 1;
  }

  /** Removes up to `n` messages from the front and appends them to `out` as records; returns how many. */
  take(n: number, out: SourceRecord[]): number {
    const start = this.head;
    const end = Math.min(this.offsets.length, start + n);
    const { split, offsets, values, timestamps } = this;
    for (let i = start; i < end; i++) out.push(jsonRecord(split, offsets[i]!, values[i]!, timestamps[i]!));
    if (end > start) this.delivered = offsets[end - 1]! + 1;
    this.head = end;
    if (this.head === this.offsets.length) {
      this.clear();
    } else if (this.head > 4096 && this.head * 2 > this.offsets.length) {
      this.offsets = this.offsets.slice(this.head);
      this.values = this.values.slice(this.head);
      this.timestamps = this.timestamps.slice(this.head);
      this.head = 0;
    }
    return end - start;
  }

  clear(): number {
    const n = this.size;
    this.offsets = [];
    this.values = [];
    this.timestamps = [];
    this.head = 0;
    return n;
  }
}
