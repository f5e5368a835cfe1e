/**
 * Kafka crash equivalence (issue 4, "must show"): a real engine child process consumes a topic of
 * 8 partitions through the kafka source (consumer group, positions in the engine checkpoint,
 * checkpoints every 100 ms, dirty entities flushed to a real redis-server every 20 ms, so kills land
 * between online writes and the checkpoint that covers them); the test SIGKILLs it at random moments after READY — every third run
 * the child also kills itself at random points inside checkpoint commits — and restarts it from its
 * state directory, at least 20 times, then lets it finish. The features of EVERY key (as of a fixed
 * instant) must equal those of an uninterrupted run over the same topic, and the dead letters
 * (malformed and late events, by partition/offset) must be the same set: 0 lost, 0 counted twice.
 * So must the features a stateless reader decodes from Redis after the run.
 *
 * Size: FENESTRA_KAFKA_CRASH_EVENTS (default 200,000 so CI stays within a few minutes on 2 cores;
 * the issue's 1,000,000 is run with FENESTRA_KAFKA_CRASH_EVENTS=1000000).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { startKafka, type KafkaService } from '../../services/kafka.js';
import { startRedis, type RedisServer } from '../../services/redis.js';
import {
  CRASH_GROUPS, CRASH_SCHEMA, countCodes, deadLetterLines, generateStream, mismatchedKeys, produceToPartitions, rng, runChild, runReference, type Dump, type StreamData,
} from './crash-support.js';

const EVENTS = Number(process.env['FENESTRA_KAFKA_CRASH_EVENTS'] ?? 200_000);
const KEYS = Math.max(100, Math.round(EVENTS / 100));
const PARTITIONS = 8;
const MIN_KILLS = Number(process.env['FENESTRA_KAFKA_CRASH_KILLS'] ?? 20);
const SEED = Number(process.env['FENESTRA_CRASH_SEED'] ?? 4_2024);
const TOPIC = 'cc-transactions';

let kafka: KafkaService;
let redis: RedisServer;
let work: string;
let data: StreamData;
let targetsFile: string;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  kafka = await startKafka();
  redis = await startRedis();
  work = await mkdtemp(join(tmpdir(), 'fenestra-kafka-crash-'));
  await kafka.createTopic(TOPIC, PARTITIONS);
  data = generateStream(EVENTS, KEYS, PARTITIONS, SEED);
  const client = new Kafka({ clientId: 'crash-producer', brokers: [...kafka.brokers], logLevel: logLevel.NOTHING });
  const producer = client.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 }); // a retried send must not append twice
  await producer.connect();
  await produceToPartitions(producer, TOPIC, data.events);
  await producer.disconnect();
  const admin = client.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(TOPIC);
  await admin.disconnect();
  const targets = Object.fromEntries(offsets.map((o) => [String(o.partition), o.high]));
  expect(offsets.reduce((n, o) => n + Number(o.high), 0)).toBe(EVENTS);
  targetsFile = join(work, 'targets.json');
  await writeFile(targetsFile, JSON.stringify({ tx: targets }));
}, 300_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await kafka?.stop();
  await redis?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** The engine config; with `online`, dirty entities go to Redis every 20 ms, between the 100 ms checkpoints. */
function config(stateDir: string, groupId: string, online = false): string {
  return `
state:
  dir: ${JSON.stringify(stateDir)}
  checkpointInterval: 100ms
  flushInterval: 20ms
${online ? `online:
  type: redis
  url: ${redis.url}
  keyPrefix: "${groupId}:"
` : ''}entities:
  card:
    key: cc_num
sources:
  tx:
    type: kafka
    brokers: ${JSON.stringify(kafka.brokers)}
    topic: ${TOPIC}
    groupId: ${groupId}
    sessionTimeout: 2s
    heartbeatInterval: 300ms
    rebalanceTimeout: 10s
${CRASH_SCHEMA}
${CRASH_GROUPS}`;
}

describe('kafka crash equivalence (real broker, real engine child)', () => {
  it(`${EVENTS} events over ${PARTITIONS} partitions: every key equals an uninterrupted run after >= ${MIN_KILLS} SIGKILLs`, async () => {
    const started = Date.now();
    const { dump: reference, dead: refDead, seconds: refSeconds } = await runReference(children, work, (refDir) => config(refDir, 'fenestra-ref'), data.end, targetsFile);
    expect(Object.keys(reference.features['cc_agg']!).length).toBe(KEYS);
    const refCounts = countCodes(refDead);
    const malformed = (refCounts['EVENT_MALFORMED'] ?? 0) + (refCounts['EVENT_FIELD_TYPE'] ?? 0) + (refCounts['EVENT_TIME_INVALID'] ?? 0);
    expect(malformed).toBe(data.malformed);
    expect(refCounts['EVENT_LATE'] ?? 0).toBeGreaterThan(0);
    expect(refDead.every((l) => /^partition \d offset \d+ EVENT_/.test(l))).toBe(true);
    // Every key's total count equals the valid, not-late events of that key (the oracle for the reference).
    const total = Object.values(reference.features['cc_agg']!).reduce((n, k) => n + Number(k.values['num_trans']), 0);
    expect(total + refDead.length).toBe(EVENTS);

    const stateDir = join(work, 'crashed');
    const crashConfig = join(work, 'crashed.yaml');
    await writeFile(crashConfig, config(stateDir, 'fenestra-crash', true));
    const out = join(work, 'crashed.json');
    const r = rng(SEED);
    let kills = 0;
    let selfKills = 0;
    const readyMs: number[] = [];
    for (let attempt = 0; ; attempt++) {
      expect(attempt, 'the crashed run makes no progress').toBeLessThan(MIN_KILLS * 4 + 20);
      const killing = kills < MIN_KILLS;
      const env: Record<string, string> = killing && attempt % 3 === 2 ? { FENESTRA_TEST_FAULT_P: '0.05' } : {};
      const delay = 50 + Math.floor(r() * Math.min(2_500, refSeconds * 1000 / MIN_KILLS));
      const res = await runChild(children, crashConfig, out, data.end, targetsFile, env, killing ? delay : null);
      if (res.readyMs !== null) readyMs.push(res.readyMs);
      if (res.outcome === 'finished') break;
      kills++;
      if (res.outcome === 'killed-itself') selfKills++;
    }
    expect(existsSync(out)).toBe(true);
    const crashed = JSON.parse(await readFile(out, 'utf8')) as Dump;
    const diff = mismatchedKeys(reference, crashed);
    expect(diff.slice(0, 5), `${diff.length} keys differ from the uninterrupted run`).toEqual([]);
    // What a stateless reader serves from Redis equals the uninterrupted run too: online writes that
    // happened before a kill and after the last checkpoint were replayed with the same versions.
    expect(crashed.online, 'the runner dumped the online store').toBeDefined();
    const onlineDiff = mismatchedKeys(reference, { features: crashed.online! });
    expect(onlineDiff.slice(0, 5), `${onlineDiff.length} keys in Redis differ from the uninterrupted run`).toEqual([]);
    const dead = await deadLetterLines(stateDir);
    expect(dead.length, 'dead letters: lost or written twice').toBe(refDead.length);
    expect(dead).toEqual(refDead);
    expect(kills).toBeGreaterThanOrEqual(MIN_KILLS);
    console.log(
      JSON.stringify({
        test: 'kafka-crash',
        events: EVENTS,
        keys: KEYS,
        partitions: PARTITIONS,
        kills,
        selfKillsInsideCheckpointWrites: selfKills,
        deadLetters: refCounts,
        uninterruptedRunSeconds: refSeconds,
        medianRestartToReadyMs: readyMs.sort((a, b) => a - b)[Math.floor(readyMs.length / 2)],
        seconds: (Date.now() - started) / 1000,
      }),
    );
  }, 1_200_000);
});
