import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { CompressionTypes, type Producer } from 'kafkajs';
import { rng } from '../../crash/gen-events.js';

export { rng };

export const ROOT = resolve(import.meta.dirname, '../../..');
export const RUNNER = join(ROOT, 'test/integration/streams/run-stream-engine.ts');
export const T0 = Date.UTC(2024, 0, 1);

/** One generated transaction, already serialised (malformed ones are not valid events). */
export interface StreamEvent {
  /** Split index (Kafka partition, or Kinesis hash-key bucket) — one card's events stay in one split. */
  readonly split: number;
  readonly card: string;
  readonly text: string;
  readonly bad: boolean;
}

export interface StreamData {
  readonly events: StreamEvent[];
  readonly malformed: number;
  /** Instant after the last event (the fixed `asOf` of the dumps). */
  readonly end: number;
}

/**
 * `n` card transactions over `keys` cards spread over `splits` splits by card number; event times
 * out of order within the allowed lateness (up to 4 minutes back), ~1% 10–60 minutes back (late for
 * busy cards: EVENT_LATE), ~0.3% malformed (broken JSON, wrong types, bad times).
 */
export function generateStream(n: number, keys: number, splits: number, seed: number): StreamData {
  const r = rng(seed);
  const events: StreamEvent[] = [];
  let clock = T0;
  let malformed = 0;
  for (let i = 0; i < n; i++) {
    clock += Math.floor(r() * 600);
    const cardNo = Math.floor(r() * keys);
    const card = `card-${String(cardNo).padStart(5, '0')}`;
    let ts = clock - Math.floor(r() * 4 * 60_000);
    if (r() < 0.01) ts = clock - 10 * 60_000 - Math.floor(r() * 50 * 60_000);
    const amount = Math.round(r() * 50_000) / 100;
    const merchant = `m${Math.floor(r() * 40)}`;
    const bad = r() < 0.003;
    let text: string;
    if (!bad) text = JSON.stringify({ cc_num: card, amount, trans_time: ts, merchant });
    else {
      malformed++;
      const kind = Math.floor(r() * 3);
      text = kind === 0 ? `{"cc_num":"${card}","amount":${amount},"trans_time":` : kind === 1 ? JSON.stringify({ cc_num: card, amount: 'lots', trans_time: ts }) : JSON.stringify({ cc_num: card, amount, trans_time: 'tomorrow' });
    }
    events.push({ split: cardNo % splits, card, text, bad });
  }
  return { events, malformed, end: clock + 60_000 };
}

/** Sends events to their Kafka partitions (`split`), 5,000 per request, acknowledged by all replicas; each partition gets its events in order. */
export async function produceToPartitions(producer: Producer, topic: string, events: readonly StreamEvent[]): Promise<void> {
  const CHUNK = 5_000;
  for (let off = 0; off < events.length; off += CHUNK) {
    const slice = events.slice(off, off + CHUNK);
    await producer.sendBatch({
      topicMessages: [{ topic, messages: slice.map((e) => ({ partition: e.split, value: e.text })) }],
      acks: -1,
      compression: CompressionTypes.None,
    });
  }
}

/** The feature groups the crash tests compare (exact and tiled windows, every aggregation kind). */
export const CRASH_GROUPS = `
featureGroups:
  cc_agg:
    source: tx
    features:
      num_trans_last_10m: { agg: count, window: 10m }
      avg_amt_last_10m:   { agg: avg, field: amount, window: 10m }
      num_trans_last_1w:  { agg: count, window: 7d }
      avg_amt_last_1w:    { agg: avg, field: amount, window: 7d, precision: 1h }
      max_amt_last_30d:   { agg: max, field: amount, window: 30d, precision: 1d }
      std_amt_1d:         { agg: stddev, field: amount, window: 1d, precision: 15m }
      merchants_1d:       { agg: count_distinct, field: merchant, window: 1d }
      last_merchant:      { agg: last, field: merchant, window: lifetime }
      total_amt:          { agg: sum, field: amount, window: lifetime }
      num_trans:          { agg: count, window: lifetime }
`;

export const CRASH_SCHEMA = `
    entity: card
    allowedLateness: 5m
    eventTime:
      field: trans_time
    schema:
      cc_num: string
      amount: double
      trans_time: timestamp
      merchant: { type: string, optional: true }
`;

export interface RunResult {
  readonly outcome: 'finished' | 'killed-by-test' | 'killed-itself';
  readonly stderr: string;
  /** ms from spawn to READY (recovery + source open, which includes the group join). */
  readonly readyMs: number | null;
}

/** Runs the engine child once; SIGKILLs it `killAfterMs` after READY (unless null). */
export function runChild(children: Set<ChildProcess>, config: string, out: string, asOf: number, targets: string, env: Record<string, string>, killAfterMs: number | null, timeoutMs = 600_000): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', RUNNER, config, out, String(asOf), targets], {
      cwd: ROOT,
      env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let stdout = '';
    let stderr = '';
    let killedByTest = false;
    let readyMs: number | null = null;
    let timer: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (readyMs === null && stdout.includes('READY')) {
        readyMs = Date.now() - t0;
        if (killAfterMs !== null) timer = setTimeout(() => (killedByTest = child.kill('SIGKILL')), killAfterMs);
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      children.delete(child);
      clearTimeout(timer);
      clearTimeout(guard);
      if (code === 0 && stdout.includes('DONE')) resolvePromise({ outcome: 'finished', stderr, readyMs });
      else if (signal === 'SIGKILL' && (killedByTest || stderr.includes('fault: SIGKILL'))) resolvePromise({ outcome: killedByTest ? 'killed-by-test' : 'killed-itself', stderr, readyMs });
      else reject(new Error(`engine child exited with code ${code} signal ${signal} after ${Date.now() - t0} ms:\n${stderr.slice(-4000)}`));
    });
  });
}

export interface Dump {
  features: Record<string, Record<string, { version: number; values: Record<string, unknown> }>>;
  /** The same, read back from the external online store (when the config has one). */
  online?: Record<string, Record<string, { version: number; values: Record<string, unknown> }>>;
}

export interface ReferenceRun {
  readonly dump: Dump;
  /** Its dead letters, as `deadLetterLines` gives them. */
  readonly dead: string[];
  /** Wall time of the run. */
  readonly seconds: number;
}

/**
 * The uninterrupted run every crash test compares against: writes `config(<work>/ref)` to
 * `<work>/ref.yaml`, runs the engine child once to the end (it must finish), and returns its dump and
 * dead letters.
 */
export async function runReference(children: Set<ChildProcess>, work: string, config: (stateDir: string) => string, asOf: number, targets: string): Promise<ReferenceRun> {
  const stateDir = join(work, 'ref');
  const configFile = join(work, 'ref.yaml');
  const out = join(work, 'ref.json');
  await writeFile(configFile, config(stateDir));
  const started = Date.now();
  expect((await runChild(children, configFile, out, asOf, targets, {}, null)).outcome).toBe('finished');
  const seconds = (Date.now() - started) / 1000;
  return { dump: JSON.parse(await readFile(out, 'utf8')) as Dump, dead: await deadLetterLines(stateDir), seconds };
}

export function mismatchedKeys(a: Dump, b: Dump): string[] {
  const out: string[] = [];
  for (const [g, keys] of Object.entries(a.features)) {
    const other = b.features[g] ?? {};
    for (const k of new Set([...Object.keys(keys), ...Object.keys(other)])) {
      if (JSON.stringify(keys[k]) !== JSON.stringify(other[k])) out.push(`${g}/${k}: ${JSON.stringify(keys[k])} vs ${JSON.stringify(other[k])}`);
    }
  }
  return out;
}

/** Dead letters as a sorted list of `origin code` lines (the order of splits interleaving may differ between runs). */
export async function deadLetterLines(stateDir: string): Promise<string[]> {
  const text = await readFile(join(stateDir, 'dead-letters.ndjson'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const d = JSON.parse(l) as { origin: string; code: string };
      return `${d.origin} ${d.code}`;
    })
    .sort();
}

export function countCodes(lines: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of lines) {
    const code = l.slice(l.lastIndexOf(' ') + 1);
    out[code] = (out[code] ?? 0) + 1;
  }
  return out;
}
