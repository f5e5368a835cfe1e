import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { startKafka, type KafkaService } from '../../services/kafka.js';
import { KafkaSource, kafkaOptions } from '../../../adapters/sources/kafka/index.js';
import kafkaPlugin from '../../../adapters/sources/kafka/index.js';
import { testLogger } from '../../../plugins/testkit/logger.js';
import { MalformedRecord } from '../../../core/event/malformed.js';
import { makeDecoder } from '../../../core/event/decode.js';
import type { SourceRecord } from '../../../core/contracts/source.js';
import { Driver, SharedCheckpoints, streamSpec, waitFor } from './driver.js';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

/** kafkajs' consumer group objects by group id, seen as they join (kafkajs does not expose them). */
const groups = new Map<string, { groupId: string; joinAndSync(): Promise<void> }>();
{
  const ConsumerGroup = createRequire(import.meta.url)('kafkajs/src/consumer/consumerGroup.js') as { prototype: { assigned(this: { groupId: string; joinAndSync(): Promise<void> }): unknown } };
  const assigned = ConsumerGroup.prototype.assigned;
  ConsumerGroup.prototype.assigned = function (this: { groupId: string; joinAndSync(): Promise<void> }) {
    groups.set(this.groupId, this);
    return assigned.call(this);
  };
}

function consumerGroupOf(groupId: string): { joinAndSync(): Promise<void> } {
  const g = groups.get(groupId);
  if (!g) throw new Error(`no kafkajs consumer group ${groupId} has joined`);
  return g;
}

let kafka: KafkaService;
let producer: Producer;
let client: Kafka;
let topicNo = 0;

beforeAll(async () => {
  kafka = await startKafka();
  client = new Kafka({ clientId: 'streams-test', brokers: [...kafka.brokers], logLevel: logLevel.NOTHING });
  producer = client.producer({ idempotent: true, maxInFlightRequests: 1 }); // a retried send must not append twice: the tests expect exactly the produced sequence
  await producer.connect();
}, 120_000);

afterAll(async () => {
  await producer?.disconnect().catch(() => undefined);
  await kafka?.stop();
});

/** `perPartition` events in each partition; event `seq` counts within its partition. */
async function produce(topic: string, partitions: number, perPartition: number, from = 0): Promise<void> {
  for (let p = 0; p < partitions; p++) {
    const messages = [];
    for (let q = from; q < from + perPartition; q++) {
      messages.push({ partition: p, value: JSON.stringify({ key: `card-${(p * 31 + q) % 7}`, ts: 1_700_000_000_000 + q, seq: q, amount: q / 10, p }) });
    }
    for (let i = 0; i < messages.length; i += 1000) await producer.send({ topic, messages: messages.slice(i, i + 1000) });
  }
}

async function newTopic(partitions: number): Promise<string> {
  const topic = `streams-${process.pid}-${++topicNo}`;
  await kafka.createTopic(topic, partitions);
  return topic;
}

function source(topic: string, groupId: string, extra: Record<string, unknown> = {}): KafkaSource {
  const opts = kafkaOptions({ brokers: [...kafka.brokers], topic, groupId, sessionTimeout: '6s', heartbeatInterval: '500ms', rebalanceTimeout: '20s', ...extra });
  return new KafkaSource(opts, testLogger());
}

/** The seq numbers of one split's records, decoding JSON values. */
function seqs(records: readonly SourceRecord[]): number[] {
  return records.map((r) => (r.value as { seq: number }).seq);
}

/** Checks a split's applied history is exactly 0..n-1, naming the first gap or repeat. */
function expectExactSequence(records: readonly SourceRecord[], n: number, what: string): void {
  const got = seqs(records);
  for (let i = 0; i < got.length; i++) {
    if (got[i] !== i) throw new Error(`${what}: at index ${i} expected seq ${i}, got ${got[i]} (${got.length} records)`);
  }
  expect(got.length, what).toBe(n);
}

function range(n: number, from = 0): number[] {
  return Array.from({ length: n }, (_, i) => from + i);
}

describe('kafka source (real broker, KRaft)', () => {
  it('plugin is registered with its schema and exactly-once capability', () => {
    expect(kafkaPlugin.kind).toBe('source');
    expect(kafkaPlugin.kind === 'source' && kafkaPlugin.capabilities.exactlyOnce).toBe(true);
    expect(() => kafkaOptions({ brokers: ['nohostport'], topic: 't' })).toThrow(/brokers/);
    expect(() => kafkaOptions({ brokers: ['h:1'], topic: 't', format: 'avro' })).toThrow(/format/);
    expect(() => kafkaOptions({ brokers: ['h:1'], topic: 't', sessionTimeout: '1s', heartbeatInterval: '2s' })).toThrow(/heartbeatInterval/);
  });

  it('delivers each partition in order, restores from checkpointed positions with no loss and no duplicate, and commits the group offsets only after a checkpoint', async () => {
    const topic = await newTopic(4);
    await produce(topic, 4, 2500);
    const store = new SharedCheckpoints();
    const a = new Driver('a', source(topic, `g-${topic}`, { maxBuffered: 700 }), store);
    await a.open([]);
    let got = 0;
    while (got < 4000) got += (await a.pollOnce(300, 200)).length;
    const admin = client.admin();
    await admin.connect();
    const committedBefore = await admin.fetchOffsets({ groupId: `g-${topic}`, topics: [topic] });
    expect(committedBefore[0]!.partitions.every((p) => p.offset === '-1')).toBe(true);
    const cp = await a.checkpoint();
    const committed = await admin.fetchOffsets({ groupId: `g-${topic}`, topics: [topic] });
    for (const p of committed[0]!.partitions) expect(p.offset).toBe(String(cp[String(p.partition)] ?? '-1'));
    // Records applied after the checkpoint are lost with the "crash": they must come again.
    await a.pollOnce(300, 200);
    await a.source.close();

    const b = new Driver('b', source(topic, `g-${topic}`), store);
    await b.open(store.restored());
    await produce(topic, 4, 500, 2500);
    const deadline = Date.now() + 60_000;
    for (;;) {
      await b.pollOnce(1000, 100);
      await b.checkpoint();
      const n = [...store.applied.values()].reduce((s, l) => s + l.length, 0);
      if (n >= 12_000 || Date.now() > deadline) break;
    }
    await b.pollOnce(1000, 300);
    await b.checkpoint();
    await b.source.close();
    await admin.disconnect();

    for (let p = 0; p < 4; p++) {
      const recs = store.applied.get(String(p)) ?? [];
      expect(seqs(recs), `partition ${p}`).toEqual(range(3000));
      expect(recs.every((r, i) => r.position === String(i + 1) && r.origin === `partition ${p} offset ${i}`)).toBe(true);
      expect(store.positions.get(String(p))).toBe('3000');
    }
  });

  it('a topic that does not exist fails open() with SOURCE_UNAVAILABLE naming it', async () => {
    const src = source('no-such-topic', 'g-missing');
    const err = await src.open(new Driver('m', src, new SharedCheckpoints()).context([])).then(() => null, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'SOURCE_UNAVAILABLE' });
    expect(String((err as Error).message)).toContain('no-such-topic');
    await src.close();
  });

  it('poison messages become malformed records with partition/offset and the partition keeps flowing', async () => {
    const topic = await newTopic(2);
    const good = (seq: number) => JSON.stringify({ key: 'card-1', ts: 1_700_000_000_000 + seq, seq, amount: 1 });
    await producer.send({
      topic,
      messages: [
        { partition: 1, value: good(0) },
        { partition: 1, value: '{"key": "card-1", "ts": ' },
        { partition: 1, value: null },
        { partition: 1, value: Buffer.from([0xff, 0xfe, 0x00]) },
        { partition: 1, value: JSON.stringify({ key: 'card-1', ts: 'yesterday', seq: 4, amount: 1 }) },
        { partition: 1, value: good(5) },
        { partition: 0, value: good(0) },
      ],
    });
    const d = new Driver('p', source(topic, `g-${topic}`), new SharedCheckpoints());
    await d.open([]);
    const recs: SourceRecord[] = [];
    const end = Date.now() + 30_000;
    while (recs.length < 7 && Date.now() < end) recs.push(...(await d.pollOnce(100, 200)));
    await d.source.close();
    const p1 = recs.filter((r) => r.split === '1');
    expect(p1.map((r) => r.origin)).toEqual(range(6).map((o) => `partition 1 offset ${o}`));
    expect(p1.map((r) => r.position)).toEqual(range(6, 1).map(String));
    const decode = makeDecoder(streamSpec('tx', 'kafka'));
    const results = p1.map((r) => decode(r.value));
    expect(results.map((r) => (r.ok ? 'ok' : r.code))).toEqual(['ok', 'EVENT_MALFORMED', 'EVENT_MALFORMED', 'EVENT_MALFORMED', 'EVENT_TIME_INVALID', 'ok']);
    expect(p1[1]!.value).toBeInstanceOf(MalformedRecord);
    const r1 = results[1]!;
    expect(!r1.ok && r1.reason).toMatch(/^partition 1 offset 1: not valid JSON/);
    const r2 = results[2]!;
    expect(!r2.ok && r2.reason).toMatch(/partition 1 offset 2: message has no value/);
    expect(recs.filter((r) => r.split === '0')).toHaveLength(1);
  });

  it('bounded buffer: a slow engine pauses partitions instead of buffering without limit, and loses nothing', async () => {
    const topic = await newTopic(3);
    await produce(topic, 3, 3000);
    const src = source(topic, `g-${topic}`, { maxBuffered: 100, maxBytesPerPartition: 65536 });
    const d = new Driver('slow', src, new SharedCheckpoints());
    await d.open([]);
    const all: SourceRecord[] = [];
    let maxLag = 0;
    let maxBuffered = 0;
    const end = Date.now() + 60_000;
    while (all.length < 9000 && Date.now() < end) {
      all.push(...(await d.pollOnce(64, 200)));
      const buffered = (src as unknown as { buffered: number }).buffered;
      // At most maxBuffered + one fetch (3 partitions × 64 KiB of ~80-byte messages).
      expect(buffered).toBeLessThanOrEqual(100 + 3 * 1000);
      maxBuffered = Math.max(maxBuffered, buffered);
      maxLag = Math.max(maxLag, ...Object.values(src.lag()));
    }
    await d.source.close();
    for (let p = 0; p < 3; p++) expect(seqs(all.filter((r) => r.split === String(p))), `partition ${p}`).toEqual(range(3000));
    expect(maxLag).toBeGreaterThan(0);
    expect(src.pauses, 'partitions were paused by backpressure').toBeGreaterThan(0);
    expect(maxBuffered).toBeGreaterThan(100);
  });

  it('rebalance: a second instance joining takes partitions with their checkpointed positions; nothing lost or applied twice', async () => {
    const topic = await newTopic(6);
    await produce(topic, 6, 2000);
    const store = new SharedCheckpoints();
    const groupId = `g-${topic}`;
    const a = new Driver('a', source(topic, groupId, { maxBuffered: 500 }), store);
    await a.open([]);
    a.start();
    // Let A get going, then start B: A must revoke (checkpoint) before B restores.
    await new Promise((r) => setTimeout(r, 300));
    const b = new Driver('b', source(topic, groupId, { maxBuffered: 500 }), store);
    await b.open([]);
    b.start();
    await produce(topic, 6, 1000, 2000);
    await waitFor(() => a.events.some((e) => e.startsWith('revoked')), 30_000, 'A revoked its partitions');
    const applied = () => [...store.applied.values()].reduce((n, l) => n + l.length, 0);
    const deadline = Date.now() + 60_000;
    while (applied() < 18_000 && Date.now() < deadline) {
      await a.checkpoint();
      await b.checkpoint();
      await new Promise((r) => setTimeout(r, 100));
    }
    await a.close();
    await b.close();
    for (let p = 0; p < 6; p++) expectExactSequence(store.applied.get(String(p)) ?? [], 3000, `partition ${p} (events a: ${a.events.join('; ')} / b: ${b.events.join('; ')})`);
    expect(a.events.slice(0, 2)).toEqual(['assigned 0,1,2,3,4,5', 'revoked 0,1,2,3,4,5']);
    expect(b.events.some((e) => e.startsWith('assigned '))).toBe(true);
  });

  it('a partition kept across a rebalance resumes after what was handed out even if the runtime returns no position for it', async () => {
    const topic = await newTopic(4);
    const groupId = `g-${topic}`;
    await produce(topic, 4, 1500);
    const store = new SharedCheckpoints();
    const a = new Driver('a', source(topic, groupId), store);
    // A runtime that forgets positions between revoke and assign (onAssigned answers nothing).
    await a.source.open({
      ...a.context([]),
      onAssigned: async (splits) => {
        a.events.push(`assigned ${splits.join(',')}`);
        return [];
      },
    });
    a.start();
    await new Promise((r) => setTimeout(r, 200));
    const b = new Driver('b', source(topic, groupId), store);
    await b.open([]);
    b.start();
    await waitFor(() => a.events.filter((e) => e.startsWith('assigned')).length >= 2, 30_000, 'A rejoined');
    await produce(topic, 4, 500, 1500);
    const applied = () => [...store.applied.values()].reduce((n, l) => n + l.length, 0);
    const end = Date.now() + 60_000;
    while (applied() < 8000 && Date.now() < end) {
      await a.checkpoint();
      await b.checkpoint();
      await new Promise((r) => setTimeout(r, 50));
    }
    // Let any replay from the start show up.
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 50));
      await a.checkpoint();
      await b.checkpoint();
    }
    await a.close();
    await b.close();
    expect(a.events.filter((e) => e.startsWith('assigned')).at(-1)).not.toBe('assigned ');
    for (let p = 0; p < 4; p++) expectExactSequence(store.applied.get(String(p)) ?? [], 2000, `partition ${p}`);
  });

  it('joins requested at once (a fetcher\'s metadata recovery and the runner both rejoin) run one after the other: nothing is read twice', async () => {
    // kafkajs calls ConsumerGroup.joinAndSync from its runner and, on stale metadata, from inside a
    // fetch (ConsumerGroup.recoverFromFetch) while the runner may be joining too. Two joins whose
    // hooks interleave would each seek to positions read before the other's deliveries.
    const topic = await newTopic(3);
    const groupId = `g-${topic}`;
    await produce(topic, 3, 3000);
    const store = new SharedCheckpoints();
    const a = new Driver('a', source(topic, groupId, { maxBuffered: 300 }), store);
    await a.open([]);
    const group = consumerGroupOf(groupId);
    a.start();
    for (let round = 0; round < 4; round++) {
      await new Promise((r) => setTimeout(r, 100));
      await Promise.all([group.joinAndSync(), group.joinAndSync(), group.joinAndSync()]);
      await a.checkpoint();
    }
    await produce(topic, 3, 500, 3000);
    const applied = () => [...store.applied.values()].reduce((n, l) => n + l.length, 0);
    const deadline = Date.now() + 60_000;
    while (applied() < 10_500 && Date.now() < deadline) {
      await a.checkpoint();
      await new Promise((r) => setTimeout(r, 50));
    }
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 50));
      await a.checkpoint();
    }
    await a.close();
    for (let p = 0; p < 3; p++) expectExactSequence(store.applied.get(String(p)) ?? [], 3500, `partition ${p} (events: ${a.events.join('; ')})`);
    expect(a.events.filter((e) => e.startsWith('assigned')).length).toBeGreaterThanOrEqual(13);
  });

  it('three instances share the partitions; one dies, one joins later; each partition\'s committed history is exactly its produced sequence', async () => {
    const topic = await newTopic(6);
    const groupId = `g-${topic}`;
    const store = new SharedCheckpoints();
    const applied = () => [...store.applied.values()].reduce((n, l) => n + l.length, 0);
    const make = (name: string) => new Driver(name, source(topic, groupId, { maxBuffered: 300 }), store);
    const drivers = [make('a'), make('b'), make('c')];
    await Promise.all(drivers.map((d) => d.open([])));
    for (const d of drivers) d.start();
    let producedPer = 0;
    const checkpointAll = async (ds: Driver[]) => {
      for (const d of ds) await d.checkpoint();
    };
    const step = async (ds: Driver[], per: number) => {
      await produce(topic, 6, per, producedPer);
      producedPer += per;
      const end = Date.now() + 60_000;
      while (applied() < producedPer * 6 && Date.now() < end) {
        await checkpointAll(ds);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await step(drivers, 1000);
    expect(drivers.every((d) => d.events.some((e) => e.startsWith('assigned ') && e !== 'assigned '))).toBe(true);
    // B dies with applied-but-uncheckpointed records: they are lost with it and must be re-read by the new owners.
    await produce(topic, 6, 500, producedPer);
    producedPer += 500;
    await new Promise((r) => setTimeout(r, 100));
    await drivers[1]!.crash();
    const alive = [drivers[0]!, drivers[2]!];
    await step(alive, 500);
    // D joins and takes some partitions back.
    const d = make('d');
    await d.open([]);
    d.start();
    await step([...alive, d], 500);
    await waitFor(() => d.events.some((e) => /^assigned \d/.test(e)), 30_000, 'D got partitions');
    for (const x of [...alive, d]) await x.close();
    for (let p = 0; p < 6; p++) expectExactSequence(store.applied.get(String(p)) ?? [], producedPer, `partition ${p}`);
  });
});
