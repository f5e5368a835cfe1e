import { fsyncSync, writeSync } from 'node:fs';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/** One rejected event as written to the dead-letter output (one NDJSON line). */
export interface DeadLetter {
  readonly source: string;
  /** Where the event came from (`tx.ndjson @ 1200`, `partition 3 offset 1200`). */
  readonly origin: string;
  readonly code: string;
  readonly field?: string;
  readonly reason: string;
  /** The event as received (object, or the raw text of an unparseable record). */
  readonly event: unknown;
}

/**
 * Where rejected events go. Exactly-once with the checkpoints: `append` buffers synchronously
 * (called while a batch is applied); `cut` marks, synchronously at the checkpoint's cut, what the
 * checkpoint covers; `persist` makes exactly that durable and returns a small JSON state the
 * checkpoint records; `recover` rolls the output back to a recorded state (or to empty when there is
 * no checkpoint), so dead letters of events that are replayed after a crash are not written twice.
 * Threading: `persist` calls are serialized by the runtime.
 */
export interface DeadLetterSink {
  recover(state: unknown): Promise<void>;
  append(letter: DeadLetter): void;
  cut(): number;
  persist(count: number): Promise<unknown>;
  close(): Promise<void>;
}

/** The event as JSON: JSON text that parses is embedded as the value, other text as a string. */
function eventJson(v: unknown): unknown {
  const text = v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8') : v;
  if (typeof text === 'string') {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

function stringify(l: DeadLetter): string {
  return JSON.stringify(
    { source: l.source, origin: l.origin, code: l.code, field: l.field ?? null, reason: l.reason, event: eventJson(l.event) },
    (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
  );
}

/**
 * Dead letters appended to an NDJSON file. Lines are written at checkpoints only, at an explicit
 * offset (a retried write overwrites a partial one), fsynced, and the file length is the state the
 * checkpoint records; recovery truncates the file to it.
 */
export class FileDeadLetterSink implements DeadLetterSink {
  private fh: FileHandle | null = null;
  private pending: string[] = [];
  private bytes = 0;

  constructor(readonly path: string) {}

  async recover(state: unknown): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    await (await open(this.path, 'a')).close();
    const fh = await open(this.path, 'r+');
    this.fh = fh;
    const recorded = typeof state === 'object' && state !== null ? Number((state as { bytes?: unknown }).bytes ?? 0) : 0;
    const size = (await fh.stat()).size;
    this.bytes = Math.min(recorded, size);
    if (size !== this.bytes) {
      await fh.truncate(this.bytes);
      await fh.sync();
    }
  }

  append(letter: DeadLetter): void {
    this.pending.push(`${stringify(letter)}\n`);
  }

  cut(): number {
    return this.pending.length;
  }

  async persist(count: number): Promise<unknown> {
    if (!this.fh) throw new Error('dead-letter sink used before recover()');
    if (count > 0) {
      // Synchronous: a few small writes + fsync, not a chain of async round trips behind ingestion.
      const buf = Buffer.from(this.pending.slice(0, count).join(''), 'utf8');
      const fd = this.fh.fd;
      let off = 0;
      while (off < buf.byteLength) off += writeSync(fd, buf, off, buf.byteLength - off, this.bytes + off);
      fsyncSync(fd);
      this.pending = this.pending.slice(count);
      this.bytes += buf.byteLength;
    }
    return { bytes: this.bytes };
  }

  async close(): Promise<void> {
    await this.fh?.close();
    this.fh = null;
  }
}
