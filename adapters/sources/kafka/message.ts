import type { SourceRecord } from '../../../core/contracts/source.js';
import { MalformedRecord } from '../../../core/event/malformed.js';

/** The parts of a kafkajs message the source keeps between fetch and poll. */
export interface BufferedMessage {
  readonly offset: number;
  readonly value: Buffer | null;
  readonly timestamp: string;
}

/**
 * Turns a JSON message into a record. A message that is not valid JSON (or has no value) becomes a
 * {@link MalformedRecord}: the engine dead-letters it with `EVENT_MALFORMED`, the reason and
 * `origin` (`partition 3 offset 1200`), and the partition keeps flowing.
 */
export function jsonRecord(partition: number, m: BufferedMessage): SourceRecord {
  const origin = `partition ${partition} offset ${m.offset}`;
  let value: unknown;
  if (m.value === null) {
    value = new MalformedRecord(`${origin}: message has no value (tombstone)`, '');
  } else {
    const text = m.value.toString('utf8');
    try {
      value = JSON.parse(text);
    } catch (e) {
      value = new MalformedRecord(`${origin}: not valid JSON: ${(e as Error).message}`, text.length > 4096 ? `${text.slice(0, 4096)}…` : text);
    }
  }
  const ts = Number(m.timestamp);
  return {
    split: String(partition),
    position: String(m.offset + 1),
    value,
    origin,
    ...(Number.isFinite(ts) && ts > 0 ? { producedAt: ts } : {}),
  };
}
