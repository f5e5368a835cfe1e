/**
 * Positions are opaque to the engine: a Kafka offset, a Kinesis sequence number, a byte
 * offset in a file or write-ahead log. Each is JSON-serialisable and names *the next record
 * to read* (so restoring a split at its position neither repeats nor skips a record).
 */
export type Position = string | number;

/** A split: the unit of parallelism and of recovery (a Kafka partition, a Kinesis shard, a file). */
export interface SplitState {
  readonly id: string;
  readonly position: Position;
}

/** Every source's split positions, as one checkpoint holds them: source name → split id → position. */
export type PositionMap = Record<string, Record<string, Position>>;
