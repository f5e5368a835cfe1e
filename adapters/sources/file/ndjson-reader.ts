import type { SourceRecord } from '../../../core/contracts/source.js';
import { ByteChunks } from './byte-chunks.js';
import type { DataFile } from './files.js';
import type { SplitReader } from './split-reader.js';

const NL = 0x0a;

function isBlank(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

/**
 * NDJSON: one JSON value per line. Position = byte offset of the next line. Records carry the
 * line's text; the engine's decoder parses it (so a broken line is dead-lettered with its text).
 */
export class NdjsonReader implements SplitReader {
  done = false;
  private constructor(
    readonly id: string,
    private readonly chunks: ByteChunks,
  ) {
    this.startOffset = chunks.offset;
  }

  static async open(file: DataFile, position: number): Promise<NdjsonReader> {
    return new NdjsonReader(file.id, await ByteChunks.open(file.path, position));
  }

  async next(max: number): Promise<SourceRecord[]> {
    const out: SourceRecord[] = [];
    const c = this.chunks;
    let scan = 0;
    while (out.length < max && !this.done) {
      const nl = c.buf.indexOf(NL, scan);
      if (nl < 0) {
        if (!c.eof) {
          scan = c.buf.byteLength;
          await c.more();
          continue;
        }
        // Last line without a newline.
        if (c.buf.byteLength > 0 && !isBlank(c.buf, 0, c.buf.byteLength)) {
          const start = c.offset;
          const text = c.buf.toString('utf8');
          c.consume(c.buf.byteLength);
          out.push({ split: this.id, position: c.offset, value: text, origin: `${this.id} @ byte ${start}` });
        } else c.consume(c.buf.byteLength);
        this.done = true;
        break;
      }
      scan = 0;
      const start = c.offset;
      let end = nl;
      if (end > 0 && c.buf[end - 1] === 0x0d) end--;
      const blank = isBlank(c.buf, 0, end);
      const text = blank ? '' : c.buf.toString('utf8', 0, end);
      c.consume(nl + 1);
      if (!blank) out.push({ split: this.id, position: c.offset, value: text, origin: `${this.id} @ byte ${start}` });
    }
    this.recordsRead += out.length;
    return out;
  }

  private readonly startOffset: number;
  private recordsRead = 0;

  /** Estimated from the bytes left and the mean record size so far. */
  remaining(): number | undefined {
    return this.done ? 0 : this.chunks.estimateRemaining(this.startOffset, this.recordsRead);
  }

  close(): Promise<void> {
    return this.chunks.close();
  }
}
