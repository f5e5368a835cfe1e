import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import type { SourceRecord } from '../../../core/contracts/source.js';
import type { DataFile } from './files.js';
import type { SplitReader } from './split-reader.js';

type AsyncBuffer = Awaited<ReturnType<typeof asyncBufferFromFile>>;
type Metadata = Awaited<ReturnType<typeof parquetMetadataAsync>>;

/**
 * Parquet via hyparquet. Position = index of the next row. Rows are decoded one row group at a time
 * (hyparquet decodes whole row groups anyway) and served from memory. INT64 columns arrive as
 * bigint and timestamps as Date; the decoder accepts both.
 */
export class ParquetReader implements SplitReader {
  done = false;
  private rows: Record<string, unknown>[] = [];
  /** Row index of rows[0]. */
  private rowsStart = 0;
  private readonly total: number;
  private readonly groupStarts: number[] = [];

  private constructor(
    readonly id: string,
    private readonly file: AsyncBuffer,
    private readonly metadata: Metadata,
    private position: number,
  ) {
    let at = 0;
    for (const rg of metadata.row_groups) {
      this.groupStarts.push(at);
      at += Number(rg.num_rows);
    }
    this.groupStarts.push(at);
    this.total = at;
    this.done = position >= this.total;
    this.rowsStart = position;
  }

  static async open(file: DataFile, position: number): Promise<ParquetReader> {
    const buf = await asyncBufferFromFile(file.path);
    const metadata = await parquetMetadataAsync(buf);
    return new ParquetReader(file.id, buf, metadata, position);
  }

  private async loadGroupAt(row: number): Promise<void> {
    let g = 0;
    while (this.groupStarts[g + 1]! <= row) g++;
    const end = this.groupStarts[g + 1]!;
    this.rows = (await parquetReadObjects({ file: this.file, metadata: this.metadata, rowStart: row, rowEnd: end })) as Record<string, unknown>[];
    this.rowsStart = row;
  }

  async next(max: number): Promise<SourceRecord[]> {
    const out: SourceRecord[] = [];
    while (out.length < max && this.position < this.total) {
      const idx = this.position - this.rowsStart;
      if (idx < 0 || idx >= this.rows.length) {
        await this.loadGroupAt(this.position);
        continue;
      }
      const n = Math.min(max - out.length, this.rows.length - idx);
      for (let i = 0; i < n; i++) {
        const row = this.position;
        this.position++;
        out.push({ split: this.id, position: this.position, value: this.rows[idx + i], origin: `${this.id} row ${row}` });
      }
    }
    if (this.position >= this.total) {
      this.done = true;
      this.rows = [];
    }
    return out;
  }

  remaining(): number | undefined {
    return this.total - this.position;
  }

  async close(): Promise<void> {
    this.rows = [];
  }
}
