import { readFile, writeFile, rename, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Rejection } from '../../../core/runtime/api.js';

/** What an ingest batch was answered; a retry with the same idempotency key gets it again. */
export interface BatchOutcome {
  readonly accepted: number;
  readonly rejected: readonly Rejection[];
  /** Events acknowledged as producer-sequence duplicates (not applied again). */
  readonly duplicates: number;
  /** Position after the batch's last event. */
  readonly position: number;
}

interface KeyEntry {
  readonly outcome: BatchOutcome;
  readonly at: number;
}

/**
 * The dedupe tables of one push source: idempotency keys → outcome, and producer id → highest
 * sequence number. Both are rebuilt by scanning the retained log on open; producer highs also
 * survive log truncation through a small snapshot file written before segments are deleted.
 * Idempotency keys are remembered for the retention period only.
 */
export class DedupeTables {
  private readonly keys = new Map<string, KeyEntry>();
  /** Highest sequence per producer, including batches not yet durable. */
  private readonly highs = new Map<string, number>();
  /** Highest sequence per producer among durable batches (what the snapshot may hold). */
  private readonly durableHighs = new Map<string, number>();

  constructor(private readonly dir: string) {}

  keyOutcome(key: string): BatchOutcome | undefined {
    return this.keys.get(key)?.outcome;
  }

  rememberKey(key: string, outcome: BatchOutcome, at: number): void {
    this.keys.set(key, { outcome, at });
  }

  /** Highest sequence seen from a producer (-Infinity if none). */
  high(producer: string): number {
    return this.highs.get(producer) ?? Number.NEGATIVE_INFINITY;
  }

  raise(producer: string, seq: number): void {
    if (seq > this.high(producer)) this.highs.set(producer, seq);
  }

  /** Marks a producer's sequence as durable (called once its batch is fsynced, or on log scan). */
  raiseDurable(producer: string, seq: number): void {
    this.raise(producer, seq);
    if (seq > (this.durableHighs.get(producer) ?? Number.NEGATIVE_INFINITY)) this.durableHighs.set(producer, seq);
  }

  /**
   * Forgets idempotency keys accepted before `cutoff`. Keys are inserted in acceptance order (appends
   * and the log scan alike), so the walk stops at the first key that is still retained.
   */
  expireKeys(cutoff: number): void {
    for (const [k, v] of this.keys) {
      if (v.at >= cutoff) break;
      this.keys.delete(k);
    }
  }

  get keyCount(): number {
    return this.keys.size;
  }

  private get snapshotPath(): string {
    return join(this.dir, 'producers.json');
  }

  async loadSnapshot(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.snapshotPath, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    const data = JSON.parse(text) as Record<string, number>;
    for (const [p, s] of Object.entries(data)) this.raiseDurable(p, s);
  }

  /** Writes the durable producer highs atomically (tmp file, fsync, rename). */
  async saveSnapshot(): Promise<void> {
    const tmp = `${this.snapshotPath}.tmp`;
    await writeFile(tmp, JSON.stringify(Object.fromEntries(this.durableHighs)));
    const fh = await open(tmp, 'r+');
    try {
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.snapshotPath);
  }
}
