/**
 * Kafka end to end (issue 4): a real single-node Kafka broker (KRaft, Maven Central jars, started by
 * test/services/kafka.ts), the `kafka` source and the Engine with exactly-once on (positions and
 * state checkpointed atomically every 1 s into the FileCheckpointStore, offsets committed to the group
 * after each checkpoint).
 *
 * 1. Throughput: N events pre-produced into 8 partitions, consumed from the start until every
 *    partition's checkpointed position reached its end, against baselines measured in the same run
 *    on the same topic: `kafkajs only` (a consumer counting messages: the client's floor) and
 *    `source only` (the kafka source polled and its JSON parsed, no engine).
 * 2. Freshness at a steady 10,000 events/s: the time from the producer's timestamp to the event being
 *    readable (the engine's update notification, fired once the batch is applied and `read` returns
 *    it). The producer's timestamp is its *scheduled* send time, so producer stalls count against us
 *    (coordinated omission corrected); HDR histogram, p50/p99/p99.9.
 *
 *   node --import tsx bench/kafka.ts [--events N] [--rate R] [--seconds S] [--smoke]
 *
 * Prints JSON then a table; writes bench/results/kafka.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { startKafka, type KafkaService } from '../test/services/kafka.js';
import kafkaPlugin from '../adapters/sources/kafka/index.js';
import { loadConfig } from '../config/load.js';
import { FileCheckpointStore } from '../core/checkpoint/index.js';
import type { Source } from '../core/contracts/source.js';
import type { EngineSpec } from '../core/model.js';
import { Engine } from '../core/runtime/engine.js';
import { silentLogger } from '../core/runtime/logger.js';
import { ENGINE_VERSION } from '../core/version.js';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const smoke = process.argv.includes('--smoke');
const N = arg('events', smoke ? 100_000 : 1_000_000);
const K = arg('entities', smoke ? 10_000 : 100_000);
const RATE = arg('rate', 10_000);
const SECONDS = arg('seconds', smoke ? 3 : 20);
/** Leading seconds of the 10k/s run not recorded (JIT of the broker and of Node, connections, first segments). */
const WARM_SECONDS = arg('warmup', smoke ? 1 : 3);
const PARTITIONS = 8;
const T0 = Date.parse('2026-01-01T00:00:00Z');

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function config(dir: string, brokers: readonly string[], topic: string, groupId: string): string {
  return `
state:
  dir: ${JSON.stringify(join(dir, `state-${groupId}`))}
  checkpointInterval: 1s
entities:
  card: { key: cc_num }
sources:
  tx:
    type: kafka
    brokers: ${JSON.stringify(brokers)}
    topic: ${topic}
    groupId: ${groupId}
    fetchMaxWait: 20ms
    entity: card
    allowedLateness: 1m
    eventTime: { field: trans_time }
    schema:
      cc_num: string
      amount: double
      trans_time: timestamp
      merchant: { type: string, optional: true }
featureGroups:
  cc_agg:
    source: tx
    features:
      num_trans_last_10m: { agg: count, window: 10m }
      avg_amt_last_10m:   { agg: avg, field: amount, window: 10m }
      num_trans_last_1w:  { agg: count, window: 7d }
      avg_amt_last_1w:    { agg: avg, field: amount, window: 7d, precision: 1h }
      max_amt_last_30d:   { agg: max, field: amount, window: 30d, precision: 1d }
`;
}

async function specFor(dir: string, kafka: KafkaService, topic: string, groupId: string): Promise<EngineSpec> {
  const file = join(dir, `${groupId}.yaml`);
  await writeFile(file, config(dir, kafka.brokers, topic, groupId));
  return loadConfig(file);
}

async function kafkaSource(spec: EngineSpec): Promise<Source> {
  const s = spec.sources.get('tx')!;
  return kafkaPlugin.kind === 'source'
    ? kafkaPlugin.create(s.options, { logger: silentLogger, baseDir: spec.baseDir, engineVersion: ENGINE_VERSION, source: s })
    : Promise.reject(new Error('kafka plugin is not a source'));
}

async function produceBulk(client: Kafka, topic: string): Promise<void> {
  const producer = client.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const r = rng(42);
  const step = (10 * 86_400_000) / N;
  const CHUNK = 4_000;
  for (let i = 0; i < N; ) {
    const byPartition: Array<Array<{ value: string; partition: number }>> = Array.from({ length: PARTITIONS }, () => []);
    for (const end = Math.min(N, i + CHUNK * PARTITIONS); i < end; i++) {
      const card = Math.floor(r() * K);
      const ts = Math.floor(T0 + i * step - r() * 30_000);
      byPartition[card % PARTITIONS]!.push({
        partition: card % PARTITIONS,
        value: `{"cc_num":"c${card}","amount":${Math.round(r() * 50_000) / 100},"trans_time":${ts},"merchant":"m${i % 50}"}`,
      });
    }
    await producer.sendBatch({ topicMessages: byPartition.filter((m) => m.length > 0).map((messages) => ({ topic, messages })), acks: 1, compression: CompressionTypes.None });
  }
  await producer.disconnect();
}

async function ends(client: Kafka, topic: string): Promise<Record<string, string>> {
  const admin = client.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  return Object.fromEntries(offsets.map((o) => [String(o.partition), o.high]));
}

/** Baseline: a bare kafkajs consumer counting every message of the topic. */
async function kafkajsOnly(client: Kafka, topic: string): Promise<number> {
  const consumer = client.consumer({ groupId: 'bench-kafkajs-only', maxWaitTimeInMs: 20, maxBytesPerPartition: 1_048_576 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let count = 0;
  const t0 = performance.now();
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      count += batch.messages.length;
      if (count >= N) done();
    },
  });
  await finished;
  const sec = (performance.now() - t0) / 1000;
  await consumer.disconnect();
  return sec;
}

/** Baseline: the kafka source polled (JSON parsed), no engine. */
async function sourceOnly(spec: EngineSpec): Promise<number> {
  const src = await kafkaSource(spec);
  const t0 = performance.now();
  await src.open({ spec: spec.sources.get('tx')!, restored: [], logger: silentLogger, dataDir: tmpdir(), onRevoked: async () => undefined, onAssigned: async () => [] });
  let count = 0;
  while (count < N) count += (await src.poll(2000, 100)).length;
  const sec = (performance.now() - t0) / 1000;
  await src.close();
  return sec;
}

/** The engine with checkpoints, from the start of the topic until every partition's end is checkpointed. */
async function engineRun(spec: EngineSpec, target: Record<string, string>) {
  const engine = new Engine(spec, { sources: new Map([['tx', await kafkaSource(spec)]]), checkpointStore: new FileCheckpointStore({ dir: join(spec.state.dir, 'checkpoints') }), batchSize: 2000 });
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await engine.start();
  const done = () => Object.entries(target).every(([p, end]) => engine.durablePosition('tx', p) === end);
  while (!done()) await new Promise((r) => setTimeout(r, 20));
  const sec = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const stats = engine.stats();
  await engine.stop();
  return { sec, cpuSec: (cpu.user + cpu.system) / 1e6, checkpoints: stats.checkpoints.count, applied: stats.eventsApplied, deadLetters: stats.deadLetters };
}

/** Freshness at a steady rate: scheduled send time → engine update notification, per event. */
async function freshness(client: Kafka, spec: EngineSpec, topic: string) {
  const engine = new Engine(spec, { sources: new Map([['tx', await kafkaSource(spec)]]), checkpointStore: new FileCheckpointStore({ dir: join(spec.state.dir, 'checkpoints') }), batchSize: 2000 });
  await engine.start();
  const hist = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  const actual = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  // Baseline in the same run: the broker's own produce → ack latency (acks=1) of the same sends.
  const acked = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  // Per card: scheduled and actual send times (µs, performance clock) of its events, in order; the engine's
  // version of a card is its applied-event count, so update (card, v) is the v-th event of the card.
  const scheduled = new Map<string, number[]>();
  const sentAt = new Map<string, number[]>();
  let seen = 0;
  engine.onUpdate((u) => {
    const now = performance.now() * 1000;
    const i = u.version - 1;
    const s = scheduled.get(u.key)?.[i];
    const a = sentAt.get(u.key)?.[i];
    if (s === undefined || a === undefined || Number.isNaN(s)) return;
    hist.recordValue(Math.max(1, Math.round(now - s)));
    actual.recordValue(Math.max(1, Math.round(now - a)));
    seen++;
  });
  const producer = client.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  // Event-loop stalls of this process (engine, source, producer share it) during the run.
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  const r = rng(7);
  const total = RATE * (SECONDS + WARM_SECONDS);
  const tickMs = 5;
  const perTick = Math.max(1, Math.round((RATE * tickMs) / 1000));
  const start = performance.now() + 50;
  let sent = 0;
  let warm = true;
  const inflight = new Set<Promise<unknown>>();
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * RATE));
    if (due <= sent) {
      await new Promise((res) => setTimeout(res, Math.max(0, start + ((sent + perTick) / RATE) * 1000 - performance.now())));
      continue;
    }
    const messages = [];
    for (; sent < due; sent++) {
      const cardNo = Math.floor(r() * K);
      const card = `f${cardNo}`;
      const sched = (start + (sent / RATE) * 1000) * 1000;
      if (warm && sent >= RATE * WARM_SECONDS) {
        warm = false;
        loopDelay.enable();
      }
      const list = scheduled.get(card) ?? [];
      const alist = sentAt.get(card) ?? [];
      if (!scheduled.has(card)) {
        scheduled.set(card, list);
        sentAt.set(card, alist);
      }
      list.push(warm ? Number.NaN : sched);
      alist.push(performance.now() * 1000);
      messages.push({ partition: cardNo % PARTITIONS, value: `{"cc_num":"${card}","amount":${Math.round(r() * 50_000) / 100},"trans_time":${Date.now()},"merchant":"m${sent % 50}"}` });
    }
    const sendAt = performance.now();
    const record = !warm;
    const p = producer.send({ topic, messages, acks: 1, compression: CompressionTypes.None }).then(() => {
      if (record) acked.recordValue(Math.max(1, Math.round((performance.now() - sendAt) * 1000)));
    });
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  }
  await Promise.all(inflight);
  const deadline = performance.now() + 30_000;
  const expected = total - RATE * WARM_SECONDS;
  while (seen < expected && performance.now() < deadline) await new Promise((res) => setTimeout(res, 20));
  await producer.disconnect();
  loopDelay.disable();
  const ck = engine.stats().checkpoints;
  await engine.stop();
  const q = (h: hdr.Histogram, p: number) => Math.round(h.getValueAtPercentile(p) / 10) / 100; // µs → ms, 2 decimals
  return {
    rate: RATE,
    seconds: SECONDS,
    warmupSeconds: WARM_SECONDS,
    samples: seen,
    expected,
    scheduled: { p50: q(hist, 50), p99: q(hist, 99), p999: q(hist, 99.9), max: q(hist, 100) },
    actualSend: { p50: q(actual, 50), p99: q(actual, 99), p999: q(actual, 99.9), max: q(actual, 100) },
    brokerAck: { p50: q(acked, 50), p99: q(acked, 99), p999: q(acked, 99.9), max: q(acked, 100) },
    // Checkpoints meanwhile: their synchronous cut (encoding every dirty entity) pauses ingestion.
    checkpoints: { count: ck.count, avgMs: ck.count ? Math.round((ck.totalDurationMs / ck.count) * 10) / 10 : 0 },
    eventLoopDelayMs: { p50: Math.round(loopDelay.percentile(50) / 1e4) / 100, p99: Math.round(loopDelay.percentile(99) / 1e4) / 100, max: Math.round(loopDelay.max / 1e4) / 100 },
  };
}

const dir = await mkdtemp(join(tmpdir(), 'fenestra-bench-kafka-'));
let kafka: KafkaService | undefined;
try {
  kafka = await startKafka({ heap: '1g' });
  const client = new Kafka({ clientId: 'bench', brokers: [...kafka.brokers], logLevel: logLevel.NOTHING });
  await kafka.createTopic('bench-bulk', PARTITIONS);
  await kafka.createTopic('bench-fresh', PARTITIONS);
  const p0 = performance.now();
  await produceBulk(client, 'bench-bulk');
  const produceSec = (performance.now() - p0) / 1000;
  const target = await ends(client, 'bench-bulk');

  const rawSec = await kafkajsOnly(client, 'bench-bulk');
  const srcSec = await sourceOnly(await specFor(dir, kafka, 'bench-bulk', 'bench-source-only'));
  // The first engine run in the process pays V8's warm-up (70-79k/s where later runs give 90-115k/s
  // here): run it twice on fresh state and judge the second, as a long-running daemon runs; both shown.
  const cold = await engineRun(await specFor(dir, kafka, 'bench-bulk', 'bench-engine-cold'), target);
  const eng = await engineRun(await specFor(dir, kafka, 'bench-bulk', 'bench-engine'), target);
  const fresh = await freshness(client, await specFor(dir, kafka, 'bench-fresh', 'bench-fresh'), 'bench-fresh');

  const result = {
    bench: 'kafka',
    smoke,
    broker: `Apache Kafka ${kafka.version} (KRaft, single node, 127.0.0.1)`,
    events: N,
    entities: K,
    partitions: PARTITIONS,
    produce: { seconds: produceSec, eventsPerSec: Math.round(N / produceSec) },
    kafkajsOnly: { seconds: rawSec, eventsPerSec: Math.round(N / rawSec) },
    sourceOnly: { seconds: srcSec, eventsPerSec: Math.round(N / srcSec) },
    engineExactlyOnceCold: { seconds: cold.sec, eventsPerSec: Math.round(N / cold.sec), eventsPerCpuSec: Math.round(N / cold.cpuSec), checkpoints: cold.checkpoints, applied: cold.applied, deadLetters: cold.deadLetters },
    engineExactlyOnce: { seconds: eng.sec, eventsPerSec: Math.round(N / eng.sec), eventsPerCpuSec: Math.round(N / eng.cpuSec), checkpoints: eng.checkpoints, applied: eng.applied, deadLetters: eng.deadLetters },
    freshness: fresh,
    targets: { 'throughput >= 100000 events/s': N / eng.sec >= 100_000, 'freshness p99 <= 20 ms': fresh.scheduled.p99 <= 20 },
  };
  console.log(JSON.stringify(result));
  if (!smoke) {
    const out = fileURLToPath(new URL('./results/', import.meta.url));
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'kafka.json'), JSON.stringify(result, null, 2));
  }
  console.table([
    { run: 'produce (setup)', seconds: produceSec.toFixed(2), 'events/s': result.produce.eventsPerSec },
    { run: 'kafkajs consumer only (baseline)', seconds: rawSec.toFixed(2), 'events/s': result.kafkajsOnly.eventsPerSec },
    { run: 'kafka source only, JSON (baseline)', seconds: srcSec.toFixed(2), 'events/s': result.sourceOnly.eventsPerSec },
    { run: 'engine, exactly-once (checkpoints 1 s), first run in the process', seconds: cold.sec.toFixed(2), 'events/s': result.engineExactlyOnceCold.eventsPerSec },
    { run: 'engine, exactly-once (checkpoints 1 s), second run (judged)', seconds: eng.sec.toFixed(2), 'events/s': result.engineExactlyOnce.eventsPerSec },
  ]);
  console.table([
    { freshness: `scheduled send → readable @ ${RATE}/s`, 'p50 ms': fresh.scheduled.p50, 'p99 ms': fresh.scheduled.p99, 'p99.9 ms': fresh.scheduled.p999, 'max ms': fresh.scheduled.max, samples: fresh.samples },
    { freshness: 'actual send → readable', 'p50 ms': fresh.actualSend.p50, 'p99 ms': fresh.actualSend.p99, 'p99.9 ms': fresh.actualSend.p999, 'max ms': fresh.actualSend.max, samples: fresh.samples },
    { freshness: 'baseline: broker produce → ack (acks=1)', 'p50 ms': fresh.brokerAck.p50, 'p99 ms': fresh.brokerAck.p99, 'p99.9 ms': fresh.brokerAck.p999, 'max ms': fresh.brokerAck.max, samples: '-' },
  ]);
  console.table([{ 'checkpoints during the freshness run': fresh.checkpoints.count, 'avg checkpoint ms': fresh.checkpoints.avgMs, 'event-loop delay p99 ms': fresh.eventLoopDelayMs.p99, 'event-loop delay max ms': fresh.eventLoopDelayMs.max }]);
  console.table(Object.entries(result.targets).map(([target, met]) => ({ target, met })));
  if (fresh.samples < fresh.expected) throw new Error(`freshness: only ${fresh.samples} of ${fresh.expected} events became readable`);
} finally {
  await kafka?.stop();
  await rm(dir, { recursive: true, force: true });
}
