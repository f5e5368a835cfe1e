import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import type { ByteSink } from './parquet-writer.js';

/**
 * A buffered file sink for `ParquetStreamWriter`: collects pages up to `bufferBytes` and writes them
 * with one `write(2)`. `close({ fsync: true })` makes the file durable before it is renamed into place.
 */
export class FileSink implements ByteSink {
  private readonly fd: number;
  private buf: Buffer;
  private len = 0;
  private closed = false;

  constructor(path: string, private readonly bufferBytes = 8 << 20) {
    this.fd = openSync(path, 'w');
    this.buf = Buffer.allocUnsafe(bufferBytes);
  }

  write(bytes: Uint8Array): void {
    if (bytes.length >= this.bufferBytes) {
      this.flush();
      writeAll(this.fd, bytes);
      return;
    }
    if (this.len + bytes.length > this.buf.length) this.flush();
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
  }

  private flush(): void {
    if (this.len === 0) return;
    writeAll(this.fd, this.buf.subarray(0, this.len));
    this.len = 0;
  }

  close(opts: { fsync?: boolean } = {}): void {
    if (this.closed) return;
    this.closed = true;
    this.flush();
    if (opts.fsync) fsyncSync(this.fd);
    closeSync(this.fd);
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
}
