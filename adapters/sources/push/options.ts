import { parseDuration } from '../../../core/time/duration.js';
import { FenestraError } from '../../../core/errors.js';

/** Options of the `http` / `websocket` push sources (the source's YAML block besides the engine-owned keys). */
export interface PushSourceOptions {
  /** How long idempotency keys are remembered and checkpointed log segments kept (default 24h). */
  readonly retentionMs: number;
  /** Checkpointed segments are also deleted, oldest first, while the log is larger than this (default 256 MiB). */
  readonly retentionBytes: number;
  /** Size at which a log segment is closed (default 16 MiB). */
  readonly segmentBytes: number;
  /** Event field carrying the producer id (default `producerId`; ignored if the schema has such a field). */
  readonly producerIdField: string;
  /** Event field carrying the producer sequence number (default `seq`). */
  readonly seqField: string;
}

export const PUSH_OPTIONS_SCHEMA = {
  type: 'object',
  properties: {
    retention: { type: ['string', 'number'], description: 'Dedupe retention: idempotency keys and checkpointed log kept this long (default 24h).' },
    retentionBytes: { type: 'integer', minimum: 0, description: 'Delete checkpointed segments while the log exceeds this many bytes (default 268435456).' },
    segmentBytes: { type: 'integer', minimum: 4096, description: 'Log segment size (default 16777216).' },
    producerIdField: { type: 'string', minLength: 1 },
    seqField: { type: 'string', minLength: 1 },
    path: { type: 'string', description: 'Accepted for compatibility; the log lives under the engine state dir.' },
  },
  additionalProperties: true,
} as const;

export function pushOptions(raw: Readonly<Record<string, unknown>>): PushSourceOptions {
  const retention = raw['retention'] === undefined ? 86_400_000 : parseDuration(raw['retention'] as string | number);
  if (retention === null) throw new FenestraError('CONFIG_INVALID', `retention: not a duration: ${String(raw['retention'])}`, { path: 'retention' });
  const num = (k: string, d: number): number => (typeof raw[k] === 'number' ? (raw[k] as number) : d);
  const str = (k: string, d: string): string => (typeof raw[k] === 'string' && raw[k] !== '' ? (raw[k] as string) : d);
  return {
    retentionMs: retention,
    retentionBytes: num('retentionBytes', 256 * 1024 * 1024),
    segmentBytes: num('segmentBytes', 16 * 1024 * 1024),
    producerIdField: str('producerIdField', 'producerId'),
    seqField: str('seqField', 'seq'),
  };
}
