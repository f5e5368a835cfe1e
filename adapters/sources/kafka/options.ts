import { parseDuration } from '../../../core/time/duration.js';
import { FenestraError } from '../../../core/errors.js';

/** Options of the `kafka` source (its YAML block besides the engine-owned keys), with defaults applied. */
export interface KafkaSourceOptions {
  readonly brokers: readonly string[];
  readonly topic: string;
  /** Consumer group: instances with the same group share the topic's partitions. */
  readonly groupId: string;
  readonly clientId: string;
  readonly format: 'json';
  /** Where a partition with no restored position starts: earliest (true, default) or latest. */
  readonly fromBeginning: boolean;
  /** Records buffered ahead of `poll` over all partitions; past it, partitions that deliver a batch are paused (plus one fetch at most). */
  readonly maxBuffered: number;
  /** Upper bound of the bytes one fetch returns per partition. */
  readonly maxBytesPerPartition: number;
  /** How long the broker holds a fetch that has no data (also the idle re-check of paused partitions). */
  readonly fetchMaxWaitMs: number;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly rebalanceTimeoutMs: number;
  /** How often the high watermarks behind `lag()` are refreshed from the broker. */
  readonly lagRefreshMs: number;
  /** Upper bound of one consumer-group offset commit made after a checkpoint (monitoring only). */
  readonly commitTimeoutMs: number;
}

const duration = { type: ['string', 'integer'], description: 'A duration (`500ms`, `10s`) or milliseconds.' } as const;

/** JSON Schema of the options (errors are reported by `fenestra validate` with the config path). */
export const KAFKA_OPTIONS_SCHEMA = {
  type: 'object',
  required: ['brokers', 'topic'],
  properties: {
    brokers: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^[^\\s:]+:\\d{1,5}$' }, description: 'Bootstrap brokers, `host:port`.' },
    topic: { type: 'string', minLength: 1, maxLength: 249, pattern: '^[a-zA-Z0-9._-]+$' },
    groupId: { type: 'string', minLength: 1, description: 'Consumer group (default `fenestra`).' },
    clientId: { type: 'string', minLength: 1, description: 'Client id shown by the broker (default `fenestra`).' },
    format: { enum: ['json'], description: 'Message format (default json; malformed messages go to dead letters).' },
    fromBeginning: { type: 'boolean', description: 'Partitions without a checkpointed position start at the earliest offset (default true) or the latest.' },
    maxBuffered: { type: 'integer', minimum: 1, description: 'Records buffered ahead of the engine (default 20000).' },
    maxBatch: { type: 'integer', minimum: 1, description: 'Alias of maxBuffered.' },
    maxBytesPerPartition: { type: 'integer', minimum: 1024, description: 'Bytes per partition per fetch (default 1048576).' },
    fetchMaxWait: duration,
    sessionTimeout: duration,
    heartbeatInterval: duration,
    rebalanceTimeout: duration,
    lagRefreshInterval: duration,
    commitTimeout: duration,
  },
  additionalProperties: false,
} as const;

function durationOpt(raw: Readonly<Record<string, unknown>>, key: string, dflt: number): number {
  const v = raw[key];
  if (v === undefined) return dflt;
  const ms = typeof v === 'string' || typeof v === 'number' ? parseDuration(v) : null;
  if (ms === null) throw new FenestraError('CONFIG_INVALID', `${key}: not a duration: ${JSON.stringify(v)}`, { path: key });
  return ms;
}

/** Applies defaults and checks what the schema cannot (durations, relations between timeouts). */
export function kafkaOptions(raw: Readonly<Record<string, unknown>>): KafkaSourceOptions {
  const brokers = raw['brokers'];
  if (!Array.isArray(brokers) || brokers.length === 0 || !brokers.every((b) => typeof b === 'string' && /^[^\s:]+:\d{1,5}$/.test(b))) {
    throw new FenestraError('CONFIG_INVALID', 'brokers: expected a non-empty list of "host:port"', { path: 'brokers' });
  }
  const topic = raw['topic'];
  if (typeof topic !== 'string' || !/^[a-zA-Z0-9._-]{1,249}$/.test(topic)) {
    throw new FenestraError('CONFIG_INVALID', 'topic: expected a Kafka topic name', { path: 'topic' });
  }
  const format = raw['format'] ?? 'json';
  if (format !== 'json') throw new FenestraError('CONFIG_INVALID', `format: unsupported format ${JSON.stringify(format)} (supported: json)`, { path: 'format' });
  const str = (k: string, d: string): string => (typeof raw[k] === 'string' && raw[k] !== '' ? (raw[k] as string) : d);
  const int = (k: string, d: number): number => (typeof raw[k] === 'number' && Number.isInteger(raw[k]) ? (raw[k] as number) : d);
  const sessionTimeoutMs = durationOpt(raw, 'sessionTimeout', 30_000);
  const heartbeatIntervalMs = durationOpt(raw, 'heartbeatInterval', Math.min(3_000, Math.floor(sessionTimeoutMs / 3)));
  if (heartbeatIntervalMs >= sessionTimeoutMs) {
    throw new FenestraError('CONFIG_INVALID', `heartbeatInterval (${heartbeatIntervalMs} ms) must be below sessionTimeout (${sessionTimeoutMs} ms)`, { path: 'heartbeatInterval' });
  }
  return {
    brokers: brokers as string[],
    topic,
    groupId: str('groupId', 'fenestra'),
    clientId: str('clientId', 'fenestra'),
    format: 'json',
    fromBeginning: raw['fromBeginning'] === undefined ? true : raw['fromBeginning'] === true,
    maxBuffered: int('maxBuffered', int('maxBatch', 20_000)),
    maxBytesPerPartition: int('maxBytesPerPartition', 1_048_576),
    fetchMaxWaitMs: durationOpt(raw, 'fetchMaxWait', 100),
    sessionTimeoutMs,
    heartbeatIntervalMs,
    rebalanceTimeoutMs: durationOpt(raw, 'rebalanceTimeout', 60_000),
    lagRefreshMs: durationOpt(raw, 'lagRefreshInterval', 5_000),
    commitTimeoutMs: durationOpt(raw, 'commitTimeout', 5_000),
  };
}
