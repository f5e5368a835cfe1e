/**
 * Scale-out with state (issue 4, "Rebalance: 3 instances; kill one, later add one; final state equals
 * the oracle"): real engine processes in one consumer group share state (`state.shared`) and a real
 * redis-server. Run twice: with a shared directory (DirectorySplitRegistry + FileCheckpointStore) and
 * with `state.shared: s3://…` on a real s3rver (S3SplitRegistry: claims and every member's checkpoints
 * are S3 objects; dead letters stay in each member's `state.dir`). Partitions move between members
 * with their state: a member that gives a partition up checkpoints it; the member that receives it
 * loads that partition's entities and position from the previous owner's checkpoint (also when the
 * previous owner was SIGKILLed with uncheckpointed work, which is then replayed from the checkpointed
 * position).
 *
 * Steps: produce 40% of the events; start members a, b, c; once a quarter is durable, produce 30% more
 * and SIGKILL b mid-stream; once half is durable, start a new member d and restart b (from its own
 * state directory: the partitions it held were claimed by others meanwhile, so it must drop its stale
 * copy), then produce the rest;
 * wait until the consumer group's committed offsets (made after checkpoints) reach the end of every
 * partition; stop everyone gracefully. Then every key read back from Redis, as of a fixed instant,
 * must equal an uninterrupted single-instance run over the same events, and the dead letters of all
 * members together must be exactly the reference's: 0 lost, 0 counted twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { loadConfig } from '../../../config/load.js';
import { RedisOnlineStore } from '../../../adapters/online/redis/store.js';
import type { SplitStats } from '../../../core/runtime/api.js';
import { OnlineFeatureReader } from '../../../core/runtime/online-reader.js';
import { testLogger } from '../../../plugins/testkit/logger.js';
import { startKafka, type KafkaService } from '../../services/kafka.js';
import { startRedis, type RedisServer } from '../../services/redis.js';
import { startS3rver, type S3rverHandle } from '../../services/s3rver.js';
import { makeS3Client } from '../../../adapters/s3/client.js';
import { S3Prefix } from '../../../adapters/s3/prefix.js';
import { CRASH_GROUPS, CRASH_SCHEMA, deadLetterLines, generateStream, mismatchedKeys, produceToPartitions, ROOT, rng, runReference, type Dump, type ReferenceRun, type StreamData } from './crash-support.js';

const EVENTS = Number(process.env['FENESTRA_SCALE_OUT_EVENTS'] ?? 60_000);
const KEYS = 600;
const PARTITIONS = 8;
const SEED = 7_1234;
const MEMBER = join(ROOT, 'test/integration/streams/run-group-member.ts');

const BUCKET = 'fenestra-shared';

let kafka: KafkaService;
let redis: RedisServer;
let s3: S3rverHandle;
let client: Kafka;
let producer: Producer;
let work: string;
let data: StreamData;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  kafka = await startKafka();
  redis = await startRedis();
  s3 = await startS3rver({ buckets: [BUCKET] });
  work = await mkdtemp(join(tmpdir(), 'fenestra-scale-out-'));
  data = generateStream(EVENTS, KEYS, PARTITIONS, SEED);
  client = new Kafka({ clientId: 'scale-out-test', brokers: [...kafka.brokers], logLevel: logLevel.NOTHING });
  producer = client.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 }); // a retried send must not append twice
  await producer.connect();
}, 300_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await producer?.disconnect().catch(() => undefined);
  await kafka?.stop();
  await redis?.stop();
  await s3?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** `state.shared` and, for an s3:// URL, the `state.s3` block (s3rver's endpoint and credentials). */
function sharedYaml(shared: string, instanceId: string): string {
  const lines = [`  shared: ${JSON.stringify(shared)}`, `  instanceId: ${instanceId}`];
  if (shared.startsWith('s3://')) {
    lines.push(
      '  s3:',
      `    endpoint: ${JSON.stringify(s3.endpoint)}`,
      `    region: ${s3.region}`,
      '    forcePathStyle: true',
      `    credentials: { accessKeyId: ${s3.accessKeyId}, secretAccessKey: ${s3.secretAccessKey} }`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function config(o: { stateDir: string; topic: string; groupId: string; shared?: string; instanceId?: string; online: boolean }): string {
  return `
state:
  dir: ${JSON.stringify(o.stateDir)}
  checkpointInterval: 300ms
  flushInterval: 50ms
${o.shared ? sharedYaml(o.shared, o.instanceId!) : ''}${o.online ? `online:
  type: redis
  url: ${redis.url}
  keyPrefix: "${o.groupId}:"
` : ''}entities:
  card:
    key: cc_num
sources:
  tx:
    type: kafka
    brokers: ${JSON.stringify(kafka.brokers)}
    topic: ${o.topic}
    groupId: ${o.groupId}
    sessionTimeout: 6s
    heartbeatInterval: 500ms
    rebalanceTimeout: 20s
    maxBuffered: 2000
${CRASH_SCHEMA}
${CRASH_GROUPS}`;
}

interface Member {
  readonly name: string;
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

function startMember(name: string, configFile: string): Member {
  const child = spawn(process.execPath, ['--import', 'tsx', MEMBER, configFile], {
    cwd: ROOT,
    env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  let onReady: () => void = () => undefined;
  let onFail: (e: Error) => void = () => undefined;
  const ready = new Promise<void>((res, rej) => ((onReady = res), (onFail = rej)));
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (stdout.includes('READY')) onReady();
  });
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((res) =>
    child.on('exit', (code, signal) => {
      children.delete(child);
      onFail(new Error(`member ${name} exited (code ${code}, signal ${signal}) before READY:\n${stderr.slice(-4000)}`));
      res({ code, signal, stdout, stderr });
    }),
  );
  return { name, child, ready, exited };
}

async function waitCommitted(groupId: string, topic: string, atLeast: number, timeoutMs: number, members: readonly Member[]): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = 0;
  while (Date.now() < end) {
    last = await kafka.committed(groupId, topic); // the engine commits only after checkpoints
    if (last >= atLeast) return;
    for (const m of members) {
      if (m.child.exitCode !== null || m.child.signalCode !== null) {
        const r = await m.exited;
        if (r.signal !== 'SIGKILL') throw new Error(`member ${m.name} died (code ${r.code}, signal ${r.signal}):\n${r.stderr.slice(-4000)}`);
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the group committed ${last} of ${atLeast} offsets within ${timeoutMs} ms`);
}

let referenceRun: Promise<ReferenceRun> | null = null;

/** One uninterrupted instance over the whole topic (run once, shared by the variants). */
function uninterruptedRun(): Promise<ReferenceRun> {
  return (referenceRun ??= (async () => {
    const refTopic = 'scale-ref';
    await kafka.createTopic(refTopic, PARTITIONS);
    await produceToPartitions(producer, refTopic, data.events);
    const targets = join(work, 'targets.json');
    const perPartition = new Array<number>(PARTITIONS).fill(0);
    for (const e of data.events) perPartition[e.split]!++;
    await writeFile(targets, JSON.stringify({ tx: Object.fromEntries(perPartition.map((n, p) => [String(p), n])) }));
    const run = await runReference(children, work, (stateDir) => config({ stateDir, topic: refTopic, groupId: 'ref', online: false }), data.end, targets);
    expect(Object.keys(run.dump.features['cc_agg']!).length).toBe(KEYS);
    expect(run.dead.length).toBeGreaterThan(0);
    return run;
  })());
}

describe.each(['directory', 's3'] as const)('kafka scale-out with state (real broker, real engine processes, shared %s, real redis)', (kind) => {
  it(`${EVENTS} events over ${PARTITIONS} partitions: 3 members, one SIGKILLed, two more join; Redis equals an uninterrupted run for every key`, async () => {
    const { dump: reference, dead: refDead } = await uninterruptedRun();

    // --- the group: a, b, c; b killed mid-stream; d joins and b comes back ---
    const topic = `scale-out-${kind}`;
    const groupId = `scale-out-${kind}`;
    await kafka.createTopic(topic, PARTITIONS);
    const home = join(work, kind);
    let shared: string;
    if (kind === 's3') {
      shared = `s3://${BUCKET}/${kind}/`;
    } else {
      shared = join(home, 'shared');
      await mkdir(shared, { recursive: true });
    }
    const memberConfig = async (name: string): Promise<string> => {
      const file = join(home, `${name}.yaml`);
      await mkdir(home, { recursive: true });
      await writeFile(file, config({ stateDir: join(home, name), topic, groupId, shared, instanceId: name, online: true }));
      return file;
    };
    const cut1 = Math.floor(EVENTS * 0.4);
    const cut2 = Math.floor(EVENTS * 0.7);
    await produceToPartitions(producer, topic, data.events.slice(0, cut1));
    const a = startMember('a', await memberConfig('a'));
    const b = startMember('b', await memberConfig('b'));
    const c = startMember('c', await memberConfig('c'));
    await Promise.all([a.ready, b.ready, c.ready]);
    await waitCommitted(groupId, topic, Math.floor(EVENTS * 0.25), 120_000, [a, b, c]);
    await produceToPartitions(producer, topic, data.events.slice(cut1, cut2));
    await new Promise((r) => setTimeout(r, 200 + Math.floor(rng(SEED)() * 800)));
    b.child.kill('SIGKILL');
    expect((await b.exited).signal).toBe('SIGKILL');
    await waitCommitted(groupId, topic, Math.floor(EVENTS * 0.5), 120_000, [a, c]);
    const d = startMember('d', await memberConfig('d'));
    const b2 = startMember('b', await memberConfig('b'));
    await Promise.all([d.ready, b2.ready]);
    await produceToPartitions(producer, topic, data.events.slice(cut2));
    const live = [a, c, d, b2];
    await waitCommitted(groupId, topic, EVENTS, 180_000, live);
    // One after the other: each leave moves the leaver's partitions, with their state, to the others.
    const results: Array<Awaited<Member['exited']>> = [];
    for (const m of live) {
      m.child.kill('SIGTERM');
      results.push(await m.exited);
    }
    const stats = results.map((r, i) => {
      expect(r.code, `member ${live[i]!.name} stopped cleanly:\n${r.stderr.slice(-3000)}`).toBe(0);
      const line = r.stdout.split('\n').find((l) => l.startsWith('STOPPED '));
      expect(line, `member ${live[i]!.name} reported its stats`).toBeDefined();
      const parsed = JSON.parse(line!.slice('STOPPED '.length)) as { instance: string; eventsIn: number; splits: Record<string, SplitStats> };
      return { ...parsed, splits: parsed.splits['tx']! };
    });
    // The test cannot pass without partitions having moved with their state.
    const takenOver = stats.reduce((n, s) => n + s.splits.takenOver, 0);
    const loaded = stats.reduce((n, s) => n + s.splits.entitiesLoaded, 0);
    expect(takenOver, 'partitions taken over from a peer').toBeGreaterThan(0);
    expect(loaded, 'entities loaded from a peer\'s checkpoint').toBeGreaterThan(0);
    expect(stats.every((s) => s.splits.keyConflicts === 0)).toBe(true);
    // b came back holding partitions that others had claimed meanwhile: it dropped its stale copies.
    expect(stats.find((s) => s.instance === 'b')!.splits.dropped, 'b dropped the partitions taken over while it was down').toBeGreaterThan(0);
    // The members that joined late took partitions and consumed from them.
    for (const late of ['d', 'b']) expect(stats.find((s) => s.instance === late)!.eventsIn, `member ${late} consumed events`).toBeGreaterThan(0);

    // --- every key, read back from the shared store, equals the uninterrupted run ---
    const spec = await loadConfig(join(home, 'a.yaml'));
    const store = new RedisOnlineStore({ url: redis.url, keyPrefix: `${groupId}:` }, testLogger());
    await store.open();
    const reader = new OnlineFeatureReader(spec, store);
    const keys = Object.keys(reference.features['cc_agg']!);
    const reads = await reader.readMany('cc_agg', keys, { asOf: data.end });
    await store.close();
    const fromRedis: Dump = { features: { cc_agg: Object.fromEntries(reads.map((r) => [r.key, { version: r.version, values: r.values }])) } };
    const diff = mismatchedKeys(reference, fromRedis);
    expect(diff.slice(0, 5), `${diff.length} of ${keys.length} keys in Redis differ from the uninterrupted run`).toEqual([]);

    // --- dead letters: each member's file (as of its last checkpoint), together, equal the reference's ---
    const dead = (await Promise.all(['a', 'b', 'c', 'd'].map((n) => deadLetterLines(join(home, n))))).flat().sort();
    expect(dead.length, 'dead letters lost or written twice').toBe(refDead.length);
    expect(dead).toEqual(refDead);

    // --- where the shared state lived: claims and every member's checkpoints in S3, nothing local ---
    if (kind === 's3') {
      const client = makeS3Client(s3.s3);
      try {
        const root = new S3Prefix(client, BUCKET, kind);
        expect(await root.child('splits/tx').list(), 'one claim object per partition').toEqual([...Array(PARTITIONS).keys()].map((p) => `${p}.json`).sort());
        for (const n of ['a', 'b', 'c', 'd']) {
          const objects = await root.child(`instances/${n}/checkpoints`).list();
          expect(objects, `member ${n}'s checkpoints in S3 (lease released at its clean stop)`).toContain('MANIFEST');
          expect(objects).not.toContain('LEASE');
          expect(existsSync(join(home, n, 'checkpoints')), `member ${n} kept no local checkpoint store`).toBe(false);
        }
      } finally {
        client.destroy();
      }
    }
    console.log(JSON.stringify({ test: 'kafka-scale-out', shared: kind, events: EVENTS, keys: KEYS, partitions: PARTITIONS, members: stats }));
  }, 600_000);
});
