import type { SourceRecord } from '../../../core/contracts/source.js';

/** Reads one file (a split) from a position, in file order. */
export interface SplitReader {
  readonly id: string;
  /** Up to `max` records after the current position; fewer (or none) only at the end. */
  next(max: number): Promise<SourceRecord[]>;
  readonly done: boolean;
  /** Records left, where known (Parquet), for lag. */
  remaining(): number | undefined;
  close(): Promise<void>;
}
