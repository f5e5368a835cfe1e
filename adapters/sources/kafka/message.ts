import type { SourceRecord } from '../../../core/contracts/source.js';
import { MalformedRecord } from '../../../core/event/malformed.js';

/**
 * A record of one Kafka message. `origin` and `producedAt` are getters computed on demand: only dead
 * letters read `origin` (and nothing in the hot path reads `producedAt`), so the per-message cost is
 * the parse and one object of a fixed shape, not a string per message that is almost never used.
 */
class KafkaRecord implements SourceRecord {
  constructor(
    readonly split: string,
    readonly position: string,
    readonly value: unknown,
    private readonly offset: number,
    private readonly timestamp: string,
  ) {}

  /** `partition 3 offset 1200`. */
  get origin(): string {
    return `partition ${this.split} offset ${this.offset}`;
  }

  /** The message's timestamp (ms), when it has a valid one. */
  get producedAt(): number | undefined {
    const ts = Number(this.timestamp);
    return Number.isFinite(ts) && ts > 0 ? ts : undefined;
  }
}

/**
 * Turns a JSON message (the parts the source keeps between fetch and poll) into a record. A message that is not valid JSON (or has no value) becomes a
 * {@link MalformedRecord}: the engine dead-letters it with `EVENT_MALFORMED`, the reason and
 * `origin` (`partition 3 offset 1200`), and the partition keeps flowing. `split` is the partition's
 * id as text (the caller passes the same string for every message of the partition).
 */
export function jsonRecord(split: string, offset: number, bytes: Buffer | null, timestamp: string): SourceRecord {
  let value: unknown;
  if (bytes === null) {
    value = new MalformedRecord(`partition ${split} offset ${offset}: message has no value (tombstone)`, '');
  } else {
    // toString() without arguments is Buffer's UTF-8 fast path (no encoding lookup, no bounds checks).
    const text = bytes.toString();
    try {
      value = JSON.parse(text);
    } catch (e) {
      value = new MalformedRecord(`partition ${split} offset ${offset}: not valid JSON: ${(e as Error).message}`, text.length > 4096 ? `${text.slice(0, 4096)}…` : text);
    }
  }
  return new KafkaRecord(split, String(offset + 1), value, offset, timestamp);
}
