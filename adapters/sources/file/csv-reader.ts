import type { SourceRecord } from '../../../core/contracts/source.js';
import { MalformedRecord } from '../../../core/event/malformed.js';
import { FenestraError } from '../../../core/errors.js';
import { ByteChunks } from './byte-chunks.js';
import { parseCsvRecord } from './csv-parse.js';
import type { DataFile } from './files.js';
import type { SplitReader } from './split-reader.js';

function isBlankLine(buf: Buffer, end: number): boolean {
  for (let i = 0; i < end; i++) {
    const c = buf[i]!;
    if (c !== 0x0d && c !== 0x0a && c !== 0x20 && c !== 0x09) return false;
  }
  return true;
}

/**
 * CSV with a header row. Position = byte offset of the next record (after the header). Values are
 * text (the decoder converts them by the schema); an empty unquoted field is absent (null), a quoted
 * empty field is the empty string. A row with another field count than the header, or a broken
 * quote, becomes a MalformedRecord (dead-lettered with its text).
 */
export class CsvReader implements SplitReader {
  done = false;
  private constructor(
    readonly id: string,
    private readonly chunks: ByteChunks,
    private readonly header: readonly string[],
    private readonly delim: number,
  ) {
    this.startOffset = chunks.offset;
  }

  static async open(file: DataFile, position: number, delimiter: string): Promise<CsvReader> {
    const delim = delimiter.charCodeAt(0);
    const head = await ByteChunks.open(file.path, 0);
    let parsed = parseCsvRecord(head.buf, delim, head.eof);
    while (parsed.kind === 'incomplete') {
      await head.more();
      parsed = parseCsvRecord(head.buf, delim, head.eof);
    }
    await head.close();
    if (parsed.kind !== 'record' || parsed.fields.length === 0 || parsed.fields.every((f) => f === null)) {
      throw new FenestraError('CONFIG_INVALID', `file source: ${file.path} has no CSV header row`, { path: 'path' });
    }
    const header = parsed.fields.map((f, i) => (i === 0 ? (f ?? '').replace(/^\uFEFF/, '') : (f ?? '')));
    const start = Math.max(position, parsed.next);
    return new CsvReader(file.id, await ByteChunks.open(file.path, start), header, delim);
  }

  async next(max: number): Promise<SourceRecord[]> {
    const out: SourceRecord[] = [];
    const c = this.chunks;
    while (out.length < max && !this.done) {
      if (c.buf.byteLength === 0) {
        if (c.eof) {
          this.done = true;
          break;
        }
        await c.more();
        continue;
      }
      const r = parseCsvRecord(c.buf, this.delim, c.eof);
      if (r.kind === 'incomplete') {
        await c.more();
        continue;
      }
      const start = c.offset;
      const origin = `${this.id} @ byte ${start}`;
      if (r.kind === 'error') {
        const raw = c.buf.toString('utf8', 0, r.next).replace(/\r?\n$/, '');
        c.consume(r.next);
        out.push({ split: this.id, position: c.offset, value: new MalformedRecord(`CSV ${origin}: ${r.reason}`, raw), origin });
        continue;
      }
      if (isBlankLine(c.buf, r.next)) {
        c.consume(r.next);
        continue;
      }
      let value: unknown;
      if (r.fields.length !== this.header.length) {
        const raw = c.buf.toString('utf8', 0, r.next).replace(/\r?\n$/, '');
        value = new MalformedRecord(`CSV ${origin}: ${r.fields.length} fields, the header has ${this.header.length}`, raw);
      } else {
        const obj: Record<string, string> = {};
        for (let i = 0; i < r.fields.length; i++) {
          const f = r.fields[i];
          if (f !== null && f !== undefined) obj[this.header[i]!] = f;
        }
        value = obj;
      }
      c.consume(r.next);
      out.push({ split: this.id, position: c.offset, value, origin });
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
