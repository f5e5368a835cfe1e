import type { Position } from '../../../core/contracts/position.js';
import type { Source, SourceContext, SourceRecord } from '../../../core/contracts/source.js';
import { FenestraError } from '../../../core/errors.js';
import { CsvReader } from './csv-reader.js';
import { type DataFile, resolveFiles } from './files.js';
import { NdjsonReader } from './ndjson-reader.js';
import type { FileSourceOptions } from './options.js';
import { ParquetReader } from './parquet-reader.js';
import type { SplitReader } from './split-reader.js';

/**
 * A bounded, replayable source over NDJSON, CSV and Parquet files. Each file is a split (id = file
 * name); files are read one after another in name order. Positions: byte offset of the next record
 * (NDJSON, CSV) or index of the next row (Parquet); `open` seeks every file to its restored position.
 * `finished()` turns true once every file is read to its end. Threading: one poll at a time (the
 * runtime's rule); no background work.
 */
export class FileSource implements Source {
  private files: DataFile[] = [];
  private restored = new Map<string, Position>();
  private current: SplitReader | null = null;
  private index = 0;
  private isFinished = false;

  constructor(
    private readonly options: FileSourceOptions,
    private readonly baseDir: string,
  ) {}

  async open(ctx: SourceContext): Promise<void> {
    this.files = await resolveFiles(this.options.path, this.baseDir, this.options.format);
    for (const s of ctx.restored) this.restored.set(s.id, s.position);
    this.index = 0;
    this.isFinished = false;
  }

  private async openReader(file: DataFile): Promise<SplitReader> {
    const restored = this.restored.get(file.id);
    const pos = restored === undefined ? 0 : Number(restored);
    if (!Number.isSafeInteger(pos) || pos < 0) {
      throw new FenestraError('CHECKPOINT_CORRUPT', `file source: restored position ${String(restored)} of ${file.id} is not an offset`);
    }
    switch (file.format) {
      case 'ndjson':
        return NdjsonReader.open(file, pos);
      case 'csv':
        return CsvReader.open(file, pos, this.options.delimiter ?? ',');
      case 'parquet':
        return ParquetReader.open(file, pos);
    }
  }

  async poll(max: number): Promise<readonly SourceRecord[]> {
    while (!this.isFinished) {
      if (!this.current) {
        if (this.index >= this.files.length) {
          this.isFinished = true;
          break;
        }
        this.current = await this.openReader(this.files[this.index]!);
      }
      const out = this.current.done ? [] : await this.current.next(max);
      if (out.length > 0) return out;
      if (this.current.done) {
        await this.current.close();
        this.current = null;
        this.index++;
      }
    }
    return [];
  }

  finished(): boolean {
    return this.isFinished;
  }

  lag(): Readonly<Record<string, number>> {
    const r = this.current?.remaining();
    return r === undefined || !this.current ? {} : { [this.current.id]: r };
  }

  async close(): Promise<void> {
    await this.current?.close();
    this.current = null;
  }
}
