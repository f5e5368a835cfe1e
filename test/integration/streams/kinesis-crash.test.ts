/**
 * Kinesis crash equivalence (issue 4, "must show"): a real engine child process reads a 4-shard
 * stream on kinesalite (in this process) through the kinesis source, checkpointing every 100 ms; the
 * test SIGKILLs it at random moments after READY (every third run it also kills itself inside
 * checkpoint writes), at least 10 times, and midway — while the engine keeps being killed and
 * restarted — splits a shard and writes the second half of the events, which lands in the children.
 * The features of EVERY key must equal an uninterrupted run over a stream holding the same events
 * (split at the same point), and the dead letters must match in number and kind, none twice.
 *
 * Size: FENESTRA_KINESIS_CRASH_EVENTS (default 40,000; kinesalite, a LevelDB-in-memory emulator, is
 * the bottleneck at a few thousand records/s).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeStreamCommand, PutRecordsCommand, SplitShardCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { startKinesalite, type KinesaliteService } from '../../services/kinesalite.js';
import {
  CRASH_GROUPS, CRASH_SCHEMA, countCodes, deadLetterLines, generateStream, mismatchedKeys, rng, runChild, runReference, type Dump, type StreamData, type StreamEvent,
} from './crash-support.js';

const EVENTS = Number(process.env['FENESTRA_KINESIS_CRASH_EVENTS'] ?? 40_000);
const KEYS = Math.max(50, Math.round(EVENTS / 100));
const SHARDS = 4;
const MIN_KILLS = Number(process.env['FENESTRA_KINESIS_CRASH_KILLS'] ?? 10);
const SPLIT_AFTER_KILLS = Math.ceil(MIN_KILLS / 2);
const SEED = Number(process.env['FENESTRA_CRASH_SEED'] ?? 7_2024);

let kinesis: KinesaliteService;
let client: KinesisClient;
let work: string;
let data: StreamData;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  kinesis = await startKinesalite();
  client = kinesis.client();
  work = await mkdtemp(join(tmpdir(), 'fenestra-kinesis-crash-'));
  data = generateStream(EVENTS, KEYS, 1, SEED);
});

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await kinesis?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Last sequence number written to each shard so far, per stream. */
const lastSeq = new Map<string, Map<string, string>>();

async function put(stream: string, events: readonly StreamEvent[]): Promise<void> {
  const last = lastSeq.get(stream) ?? new Map<string, string>();
  lastSeq.set(stream, last);
  for (let i = 0; i < events.length; i += 500) {
    const chunk = events.slice(i, i + 500);
    const res = await client.send(new PutRecordsCommand({ StreamName: stream, Records: chunk.map((e) => ({ PartitionKey: e.card, Data: Buffer.from(e.text) })) }));
    expect(res.FailedRecordCount ?? 0).toBe(0);
    for (const r of res.Records!) {
      const prev = last.get(r.ShardId!);
      if (prev === undefined || BigInt(r.SequenceNumber!) > BigInt(prev)) last.set(r.ShardId!, r.SequenceNumber!);
    }
  }
}

/** Splits the stream's first shard in the middle of its hash range; returns the parent id. */
async function splitFirstShard(stream: string): Promise<string> {
  const desc = await client.send(new DescribeStreamCommand({ StreamName: stream }));
  const s = desc.StreamDescription!.Shards![0]!;
  const mid = (BigInt(s.HashKeyRange!.StartingHashKey!) + BigInt(s.HashKeyRange!.EndingHashKey!)) / 2n;
  await client.send(new SplitShardCommand({ StreamName: stream, ShardToSplit: s.ShardId!, NewStartingHashKey: String(mid) }));
  return s.ShardId!;
}

/** The runner's finish line: every shard's last sequence number (plus, before the split, one that never comes). */
async function writeTargets(stream: string, file: string, final = true): Promise<void> {
  const targets: Record<string, string> = Object.fromEntries(lastSeq.get(stream)!);
  if (!final) targets['shardId-999999999999'] = '1';
  await writeFile(file, JSON.stringify({ tx: targets }));
}

function config(stateDir: string, stream: string): string {
  return `
state:
  dir: ${JSON.stringify(stateDir)}
  checkpointInterval: 100ms
entities:
  card:
    key: cc_num
sources:
  tx:
    type: kinesis
    stream: ${stream}
    region: ${kinesis.region}
    endpoint: ${JSON.stringify(kinesis.endpoint)}
    credentials: { accessKeyId: fenestra, secretAccessKey: fenestra }
    idleWait: 20ms
    shardRefreshInterval: 200ms
${CRASH_SCHEMA}
${CRASH_GROUPS}`;
}

describe('kinesis crash equivalence (kinesalite, real engine child)', () => {
  it(`${EVENTS} events over ${SHARDS} shards with a split midway: every key equals an uninterrupted run after >= ${MIN_KILLS} SIGKILLs`, async () => {
    const started = Date.now();
    const half = Math.floor(EVENTS / 2);
    const first = data.events.slice(0, half);
    const second = data.events.slice(half);

    // Reference stream: first half, split, second half; one uninterrupted run.
    await kinesis.createStream('ref', SHARDS);
    await put('ref', first);
    await splitFirstShard('ref');
    await put('ref', second);
    const refTargets = join(work, 'ref-targets.json');
    await writeTargets('ref', refTargets);
    const { dump: reference, dead: refDead, seconds: refSeconds } = await runReference(children, work, (refDir) => config(refDir, 'ref'), data.end, refTargets);
    const refCounts = countCodes(refDead);
    expect((refCounts['EVENT_MALFORMED'] ?? 0) + (refCounts['EVENT_FIELD_TYPE'] ?? 0) + (refCounts['EVENT_TIME_INVALID'] ?? 0)).toBe(data.malformed);
    const total = Object.values(reference.features['cc_agg']!).reduce((n, k) => n + Number(k.values['num_trans']), 0);
    expect(total + refDead.length).toBe(EVENTS);

    // Crashed stream: first half now; the split and the second half come while the engine is being killed.
    await kinesis.createStream('crash', SHARDS);
    await put('crash', first);
    const targets = join(work, 'crash-targets.json');
    await writeTargets('crash', targets, false);
    const stateDir = join(work, 'crashed');
    const crashConfig = join(work, 'crashed.yaml');
    await writeFile(crashConfig, config(stateDir, 'crash'));
    const out = join(work, 'crashed.json');
    const r = rng(SEED);
    let kills = 0;
    let selfKills = 0;
    let split: Promise<void> | undefined;
    let parent = '';
    for (let attempt = 0; ; attempt++) {
      expect(attempt, 'the crashed run makes no progress').toBeLessThan(MIN_KILLS * 4 + 20);
      const killing = kills < MIN_KILLS;
      const env: Record<string, string> = killing && attempt % 3 === 2 ? { FENESTRA_TEST_FAULT_P: '0.05' } : {};
      const delay = 100 + Math.floor(r() * Math.min(2_000, (refSeconds * 1000) / MIN_KILLS));
      const run = runChild(children, crashConfig, out, data.end, targets, env, killing ? delay : null);
      if (kills === SPLIT_AFTER_KILLS && split === undefined) {
        // Midway, while this run reads: split a shard, write the second half, then publish the final targets.
        split = (async () => {
          parent = await splitFirstShard('crash');
          await put('crash', second);
          await writeTargets('crash', targets);
        })();
      }
      const res = await run;
      if (res.outcome === 'finished') break;
      kills++;
      if (res.outcome === 'killed-itself') selfKills++;
      if (split) await split;
    }
    expect(split, 'the split happened').toBeDefined();
    expect(existsSync(out)).toBe(true);
    const crashed = JSON.parse(await readFile(out, 'utf8')) as Dump;
    const diff = mismatchedKeys(reference, crashed);
    expect(diff.slice(0, 5), `${diff.length} keys differ from the uninterrupted run`).toEqual([]);
    const dead = await deadLetterLines(stateDir);
    expect(new Set(dead).size, 'a dead letter was written twice').toBe(dead.length);
    expect(countCodes(dead)).toEqual(refCounts);
    // The second half went to the split's children and to the untouched shards, not the parent.
    const shardsWritten = [...lastSeq.get('crash')!.keys()];
    expect(shardsWritten.length).toBe(SHARDS + 2);
    expect(kills).toBeGreaterThanOrEqual(MIN_KILLS);
    console.log(
      JSON.stringify({
        test: 'kinesis-crash',
        events: EVENTS,
        keys: KEYS,
        shards: `${SHARDS} + 2 children of ${parent}`,
        kills,
        selfKillsInsideCheckpointWrites: selfKills,
        splitAfterKills: SPLIT_AFTER_KILLS,
        deadLetters: refCounts,
        uninterruptedRunSeconds: refSeconds,
        seconds: (Date.now() - started) / 1000,
      }),
    );
  }, 900_000);
});
