import type { _Record } from '@aws-sdk/client-kinesis';
import type { SourceRecord } from '../../../core/contracts/source.js';
import { MalformedRecord } from '../../../core/event/malformed.js';

/**
 * A Kinesis record as a source record: the position is its sequence number (the split resumes
 * AFTER_SEQUENCE_NUMBER it), the value its JSON data, or a {@link MalformedRecord} (dead-lettered with
 * `origin` = `shard <id> seq <n>`) when the data is not JSON.
 */
export function kinesisRecord(shardId: string, r: _Record): SourceRecord {
  const seq = r.SequenceNumber!;
  const origin = `shard ${shardId} seq ${seq}`;
  const bytes = r.Data ?? new Uint8Array(0);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    value = new MalformedRecord(`${origin}: not valid JSON: ${(e as Error).message}`, text.length > 4096 ? `${text.slice(0, 4096)}…` : text);
  }
  const at = r.ApproximateArrivalTimestamp?.getTime();
  return { split: shardId, position: seq, value, origin, ...(at !== undefined && Number.isFinite(at) ? { producedAt: at } : {}) };
}
