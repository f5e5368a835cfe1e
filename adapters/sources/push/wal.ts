import { open, readdir, readFile, rm, truncate, mkdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { FenestraError } from '../../../core/errors.js';
import { encodeFrame, readFrame } from './frame.js';

/** What the log's owner tells it about each appended record, for retention decisions. */
export interface RecordMark {
  /** Position just after the record (the owner's event sequence; never decreases). */
  readonly end: number;
  /** When the record was accepted (epoch ms). */
  readonly at: number;
}

interface Segment {
  readonly index: number;
  readonly path: string;
  bytes: number;
  /** Largest `end` of the records in the segment (0 when empty). */
  end: number;
  /** Newest `at` of the records in the segment. */
  lastAt: number;
}

interface Pending {
  readonly frame: Buffer;
  readonly mark: RecordMark;
}

export interface WalOptions {
  readonly dir: string;
  /** A segment is closed and a new one started once it holds this many bytes. */
  readonly segmentBytes: number;
}

const SEGMENT_RE = /^seg-(\d{12})\.wal$/;
const segmentName = (index: number): string => `seg-${String(index).padStart(12, '0')}.wal`;

/**
 * A segmented, append-only write-ahead log with group commit.
 *
 * Durability: `append` only queues a record; `sync()` resolves once every record queued before the
 * call is written and fdatasync'ed. Records queued during one event-loop tick (and while a previous
 * flush is in flight) share one write and one fsync. Ordering: records are written, and read back by
 * `scan`, in append order. Threading: one instance per directory and process; not shared.
 */
export class WriteAheadLog {
  private readonly segments: Segment[] = [];
  private fh: FileHandle | null = null;
  private pending: Pending[] = [];
  private waiters: Array<() => void> = [];
  private failures: Array<(e: unknown) => void> = [];
  private flushing = false;
  private scheduled = false;
  private closed = false;
  private fatal: unknown = null;

  constructor(private readonly opts: WalOptions) {}

  /**
   * Opens the directory, calls `onRecord` for every intact record in order, cuts off a torn tail of
   * the last segment (a crash mid-write), and readies the log for appends.
   * A damaged record in any other segment is refused with `WAL_CORRUPT`.
   */
  async open(onRecord: (payload: Buffer) => RecordMark): Promise<void> {
    await mkdir(this.opts.dir, { recursive: true });
    const names = (await readdir(this.opts.dir)).filter((n) => SEGMENT_RE.test(n)).sort();
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const path = join(this.opts.dir, name);
      const buf = await readFile(path);
      const seg: Segment = { index: Number(SEGMENT_RE.exec(name)![1]), path, bytes: 0, end: 0, lastAt: 0 };
      let offset = 0;
      for (;;) {
        const r = readFrame(buf, offset);
        if (r.kind === 'end') break;
        if (r.kind === 'torn') {
          if (i !== names.length - 1) {
            throw new FenestraError('WAL_CORRUPT', `write-ahead log ${path} is damaged at byte ${r.offset}: ${r.reason}`);
          }
          await truncate(path, r.offset);
          break;
        }
        const mark = onRecord(r.frame.payload);
        seg.end = Math.max(seg.end, mark.end);
        seg.lastAt = Math.max(seg.lastAt, mark.at);
        offset = r.frame.end;
      }
      seg.bytes = offset;
      this.segments.push(seg);
    }
    const last = this.segments.at(-1);
    if (last === undefined || last.bytes >= this.opts.segmentBytes) await this.roll();
    else this.fh = await open(last.path, 'a');
  }

  /** Queues one record; it is durable once a later `sync()` resolves. */
  append(payload: Buffer, mark: RecordMark): void {
    if (this.closed) throw new FenestraError('INTERNAL', 'write-ahead log is closed');
    this.pending.push({ frame: encodeFrame(payload), mark });
    this.schedule();
  }

  /** Resolves when everything appended before this call is durable. */
  sync(): Promise<void> {
    if (this.fatal !== null) return Promise.reject(this.fatal);
    if (this.pending.length === 0 && !this.flushing) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiters.push(resolve);
      this.failures.push(reject);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.pending.length > 0 || this.waiters.length > 0) {
        const batch = this.pending;
        const waiters = this.waiters;
        const failures = this.failures;
        this.pending = [];
        this.waiters = [];
        this.failures = [];
        try {
          if (batch.length > 0) await this.write(batch);
        } catch (e) {
          this.fatal = e;
          for (const f of failures) f(e);
          for (const f of this.failures) f(e);
          this.failures = [];
          this.waiters = [];
          return;
        }
        for (const w of waiters) w();
      }
    } finally {
      this.flushing = false;
    }
  }

  private async write(batch: readonly Pending[]): Promise<void> {
    let seg = this.segments.at(-1)!;
    if (seg.bytes >= this.opts.segmentBytes) {
      await this.roll();
      seg = this.segments.at(-1)!;
    }
    const frames = batch.map((p) => p.frame);
    let bytes = 0;
    for (const f of frames) bytes += f.length;
    let written = 0;
    while (written < bytes) {
      const { bytesWritten } = await this.fh!.writev(written === 0 ? frames : [Buffer.concat(frames).subarray(written)]);
      written += bytesWritten;
    }
    await this.fh!.datasync();
    seg.bytes += bytes;
    for (const p of batch) {
      seg.end = Math.max(seg.end, p.mark.end);
      seg.lastAt = Math.max(seg.lastAt, p.mark.at);
    }
  }

  private async roll(): Promise<void> {
    if (this.fh !== null) await this.fh.close();
    const index = (this.segments.at(-1)?.index ?? 0) + 1;
    const path = join(this.opts.dir, segmentName(index));
    this.fh = await open(path, 'a');
    await this.fh.datasync();
    await syncDir(this.opts.dir);
    this.segments.push({ index, path, bytes: 0, end: 0, lastAt: 0 });
  }

  /** Bytes held by all segments. */
  totalBytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.bytes;
    return n;
  }

  /**
   * Deletes closed segments, oldest first, whose records all end at or before `applied` and that
   * `expendable(segment)` allows; `beforeDelete` runs once before the first deletion. The active
   * (last) segment is never deleted. Returns how many went.
   */
  async truncate(
    applied: number,
    expendable: (s: { readonly end: number; readonly lastAt: number; readonly bytes: number }) => boolean,
    beforeDelete: () => Promise<void>,
  ): Promise<number> {
    let removed = 0;
    while (this.segments.length > 1) {
      const s = this.segments[0]!;
      if (s.end > applied || !expendable(s)) break;
      if (removed === 0) await beforeDelete();
      await rm(s.path, { force: true });
      this.segments.shift();
      removed++;
    }
    if (removed > 0) await syncDir(this.opts.dir);
    return removed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.sync().catch(() => undefined);
    this.closed = true;
    if (this.fh !== null) await this.fh.close();
    this.fh = null;
  }
}

async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
