import { open, type FileHandle } from 'node:fs/promises';

const CHUNK = 1 << 20;

/**
 * Sequential reading of a file from a byte offset, keeping the unconsumed bytes in `buf`
 * (`buf[0]` is at file offset `offset`).
 */
export class ByteChunks {
  buf: Buffer = Buffer.alloc(0);
  eof = false;
  private fh: FileHandle | null = null;
  private readAt: number;

  private constructor(
    readonly path: string,
    public offset: number,
  ) {
    this.readAt = offset;
  }

  /** File size when opened (for lag estimates). */
  size = 0;

  static async open(path: string, offset: number): Promise<ByteChunks> {
    const c = new ByteChunks(path, offset);
    c.fh = await open(path, 'r');
    c.size = (await c.fh.stat()).size;
    return c;
  }

  /** Records left, estimated from the bytes left and the mean size of the records read so far. */
  estimateRemaining(startOffset: number, recordsRead: number): number | undefined {
    if (recordsRead === 0) return undefined;
    const mean = (this.offset - startOffset) / recordsRead;
    return mean > 0 ? Math.ceil((this.size - this.offset) / mean) : undefined;
  }

  /** Reads the next chunk into `buf`; sets `eof` when nothing is left. */
  async more(): Promise<void> {
    if (this.eof || !this.fh) return;
    const chunk = Buffer.allocUnsafe(CHUNK);
    const { bytesRead } = await this.fh.read(chunk, 0, CHUNK, this.readAt);
    if (bytesRead === 0) {
      this.eof = true;
      return;
    }
    this.readAt += bytesRead;
    const data = chunk.subarray(0, bytesRead);
    this.buf = this.buf.byteLength === 0 ? data : Buffer.concat([this.buf, data]);
  }

  /** Drops `n` consumed bytes from the front. */
  consume(n: number): void {
    this.buf = this.buf.subarray(n);
    this.offset += n;
  }

  async close(): Promise<void> {
    await this.fh?.close();
    this.fh = null;
  }
}
