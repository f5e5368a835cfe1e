import type { BufferedMessage } from './message.js';

/** One owned partition: messages fetched but not yet handed to the engine, in offset order. */
export class PartitionBuffer {
  private items: BufferedMessage[] = [];
  private head = 0;
  /** Offset of the next message this partition must deliver (the restored/sought position). */
  next: number;
  /** Paused in kafkajs because the source's buffer was full when a batch arrived. */
  paused = false;
  /** Latest high watermark seen for the partition (−1: unknown). */
  highWatermark = -1;
  /** Offset after the last message handed out by poll (what the engine has). */
  delivered: number;

  constructor(readonly partition: number, start: number) {
    this.next = start;
    this.delivered = start;
  }

  get size(): number {
    return this.items.length - this.head;
  }

  push(m: BufferedMessage): void {
    this.items.push(m);
    this.next = m.offset + 1;
  }

  /** Removes and returns up to `n` messages from the front. */
  take(n: number): BufferedMessage[] {
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
    if (out.length > 0) this.delivered = out[out.length - 1]!.offset + 1;
    return out;
  }

  clear(): number {
    const n = this.size;
    this.items = [];
    this.head = 0;
    return n;
  }
}
