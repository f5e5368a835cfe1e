/**
 * Scale-out as users run it (issue 4, "Scale-out"): `fenestra start` processes with the same Kafka
 * consumer group, one shared state directory (`state.shared`) and one real redis-server (reads from
 * the store). A real broker. Steps:
 *
 * 1. Daemons A and B share a 4-partition topic; events are produced; once the group's committed
 *    offsets (made after checkpoints) reach the end, A and B answer GET /v1/features identically for
 *    every card and asOf, equal to a brute-force oracle.
 * 2. A stops (SIGTERM): B takes A's partitions over with their state. More events are produced; a new
 *    daemon C joins and takes some partitions from B, with their state. Once everything is committed,
 *    B and C answer identically for every card, equal to the oracle of all events: nothing lost or
 *    counted twice across the moves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompressionTypes, Kafka, logLevel, type Producer } from 'kafkajs';
import { startKafka, type KafkaService } from '../../services/kafka.js';
import { startRedis, type RedisServer } from '../../services/redis.js';
import { oracle, sameValues, transactions, type Tx } from '../online/support/card-spec.js';
import { CC_AGG_YAML, servedFeatures } from '../online/support/daemon-config.js';
import { ensureBuilt, startFenestra, type FenestraProcess } from '../online/support/fenestra-process.js';

const TOPIC = 'cc-daemons';
const GROUP = 'fenestra-daemons';
const PARTITIONS = 4;
const MIN = 60_000;

let kafka: KafkaService;
let redis: RedisServer;
let client: Kafka;
let producer: Producer;
let dir: string;
const daemons: FenestraProcess[] = [];

beforeAll(async () => {
  ensureBuilt();
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  [kafka, redis] = await Promise.all([startKafka(), startRedis()]);
  await kafka.createTopic(TOPIC, PARTITIONS);
  client = new Kafka({ clientId: 'daemons-scale-out', brokers: [...kafka.brokers], logLevel: logLevel.NOTHING });
  producer = client.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 }); // a retried send must not append twice
  await producer.connect();
  dir = mkdtempSync(join(tmpdir(), 'fenestra-daemons-scale-out-'));
}, 300_000);

afterAll(async () => {
  for (const d of daemons) await d.stop().catch(() => undefined);
  await producer?.disconnect().catch(() => undefined);
  await kafka?.stop();
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function writeConfig(name: string): string {
  const home = join(dir, name);
  mkdirSync(home, { recursive: true });
  const file = join(home, 'fenestra.yaml');
  writeFileSync(
    file,
    `server: { host: 127.0.0.1, port: 0 }
state:
  dir: ./state
  shared: ${JSON.stringify(join(dir, 'shared'))}
  instanceId: ${name}
  checkpointInterval: 300ms
  flushInterval: 50ms
entities:
  card: { key: cc_num }
sources:
  tx:
    type: kafka
    brokers: ${JSON.stringify(kafka.brokers)}
    topic: ${TOPIC}
    groupId: ${GROUP}
    sessionTimeout: 6s
    heartbeatInterval: 500ms
    rebalanceTimeout: 20s
    entity: card
    eventTime: { field: trans_time }
    allowedLateness: 365d
    schema: { cc_num: string, amt: double, trans_time: timestamp }
featureGroups:
${CC_AGG_YAML}online: { type: redis, url: "${redis.url}", keyPrefix: "daemons:" }
offline: { type: parquet, path: ${JSON.stringify(join(dir, 'offline'))} }
`,
  );
  return file;
}

async function start(name: string): Promise<FenestraProcess> {
  const d = await startFenestra(writeConfig(name));
  daemons.push(d);
  return d;
}

/** Partition of a card: a stable hash, so each card's events stay in one partition, in order. */
function partitionOf(card: string): number {
  let h = 0;
  for (const ch of card) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h % PARTITIONS;
}

async function produce(events: readonly Tx[]): Promise<void> {
  await producer.sendBatch({
    topicMessages: [{ topic: TOPIC, messages: events.map((e) => ({ partition: partitionOf(e.cc_num), value: JSON.stringify(e) })) }],
    acks: -1,
    compression: CompressionTypes.None,
  });
}

async function waitCommitted(total: number, timeoutMs: number, who: readonly FenestraProcess[]): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = 0;
  while (Date.now() < end) {
    last = await kafka.committed(GROUP, TOPIC);
    if (last >= total) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`committed ${last} of ${total} within ${timeoutMs} ms\n${who.map((d) => d.logs().slice(-1500)).join('\n---\n')}`);
}

type Served = { found: boolean; version: number; features: Record<string, number | null> };

async function features(base: string, card: string, asOf: number): Promise<Served> {
  const { status, text } = await servedFeatures(base, card, asOf);
  expect(status, `${base} ${card}: ${text}`).toBe(200);
  return JSON.parse(text) as Served;
}

/** Every given daemon answers every card alike, and equal to the oracle of `events`. */
async function expectAllEqualOracle(who: readonly FenestraProcess[], events: readonly Tx[], asOfs: readonly number[]): Promise<number> {
  const cards = [...new Set(events.map((t) => t.cc_num))].sort();
  let checked = 0;
  for (const asOf of asOfs) {
    for (const card of cards) {
      const answers = await Promise.all(who.map((d) => features(d.url, card, asOf)));
      for (const other of answers.slice(1)) expect(other, `${card} @ ${asOf}: instances disagree`).toEqual(answers[0]);
      const want = oracle(events, card, asOf, { amount: 75 });
      expect(answers[0]!.version, `${card} @ ${asOf}`).toBe(want.version);
      expect(sameValues(answers[0]!.features, want.values), `${card} @ ${asOf}: ${JSON.stringify(answers[0]!.features)} vs ${JSON.stringify(want.values)}`).toBe(true);
      checked++;
    }
  }
  return checked;
}

/**
 * Reads come from Redis, which the daemons write every flushInterval apart from their checkpoints (the
 * committed offsets say what is applied, not what is flushed): waits until every daemon serves each
 * card's final version (its event count), i.e. the store has caught up, before values are compared.
 */
async function waitFlushed(who: readonly FenestraProcess[], events: readonly Tx[], asOf: number): Promise<void> {
  const cards = [...new Set(events.map((t) => t.cc_num))].sort();
  const end = Date.now() + 60_000;
  for (;;) {
    const behind: string[] = [];
    for (const card of cards) {
      const want = oracle(events, card, asOf, { amount: 75 }).version;
      for (const d of who) {
        const got = await features(d.url, card, asOf);
        if (got.version !== want) behind.push(`${d.url} ${card}: version ${got.version}, want ${want}`);
      }
    }
    if (behind.length === 0) return;
    if (Date.now() > end) throw new Error(`the store did not catch up within 60 s: ${behind.slice(0, 5).join('; ')}\n${who.map((d) => d.logs().slice(-1500)).join('\n---\n')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('`fenestra start` instances in one consumer group with a shared state directory', () => {
  it('share the partitions, move them with their state when one leaves and one joins, and answer alike from Redis', async () => {
    const first = transactions(2000, 60, 1_700_000_000_000, 11);
    const lastFirst = first.at(-1)!.trans_time;
    const second = transactions(1000, 60, lastFirst + 1000, 12);
    const all = [...first, ...second];
    const lastAll = all.at(-1)!.trans_time;

    const a = await start('a');
    const b = await start('b');
    await produce(first);
    await waitCommitted(first.length, 120_000, [a, b]);
    await waitFlushed([a, b], first, lastFirst + 20 * MIN);
    expect(await expectAllEqualOracle([a, b], first, [lastFirst - 30 * MIN, lastFirst, lastFirst + 20 * MIN])).toBeGreaterThan(0);

    expect(await a.stop(), 'A stops cleanly').toBe(0);
    daemons.splice(daemons.indexOf(a), 1);
    await produce(second.slice(0, 500));
    const c = await start('c');
    await produce(second.slice(500));
    await waitCommitted(all.length, 120_000, [b, c]);
    // Wait for both to be ready (their flushes done) before comparing.
    for (const d of [b, c]) {
      const end = Date.now() + 30_000;
      while ((await fetch(`${d.url}/readyz`)).status !== 200 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    }
    await waitFlushed([b, c], all, lastAll + 5 * MIN);
    expect(await expectAllEqualOracle([b, c], all, [lastFirst, lastAll, lastAll + 5 * MIN])).toBeGreaterThan(0);

    // The partitions really moved with their state: B took A's over, and C took some from B.
    const metrics = async (d: FenestraProcess) => (await fetch(`${d.url}/metrics`)).text();
    expect(await metrics(b)).toMatch(/fenestra_splits_taken_over_total\{source="tx"\} [1-9]/);
    expect(await metrics(c)).toMatch(/fenestra_splits_taken_over_total\{source="tx"\} [1-9]/);
  }, 400_000);
});
