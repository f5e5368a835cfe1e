/**
 * Engine update throughput and memory per entity for the core issue's example feature set (cc_agg:
 * count + avg over 10m exact, count 7d and avg 7d at 1h precision, max 30d at 1d precision).
 *
 *   node --expose-gc --import tsx bench/engine.ts [--events N] [--entities K] [--mem-entities M] [--checkpoint-ms MS] [--smoke]
 *
 * Throughput: N events over K entities (uniformly random keys), event times spread evenly over
 * `span` days (default 10, so each card sees an event about every day and tiles are exercised),
 * each event up to 30 s out of order (allowedLateness 60 s), applied in batches of 2,000 with a
 * yield to the event loop after each (as the engine's source loop). Checkpoints on, as the engine
 * takes them: every 1 s of wall time a synchronous cut (drain the dirty keys, encode each one) and
 * an asynchronous `FileCheckpointStore.commit` into a temp directory (delta file + manifest, fsync,
 * background compaction) while applying continues; a final checkpoint and close at the end. One
 * decoded-event object is reused (the window state copies what it keeps), key strings are pre-built
 * (decoding is measured by bench/runtime.ts). Reported: events per CPU second (process.cpuUsage,
 * all threads) and per wall second, the checkpoint share (CPU against an apply-only run of the same
 * events in the same process) and the cut's share of wall time. Baseline measured in the same run:
 * a naive Map<string, number[]> that appends [ts, amount] per event (no windows, no checkpoints).
 *
 * Memory: M entities (default 1M) with 1–4 events each (uniform, mean 2.5) within 10 minutes, then
 * a checkpoint cut (drain + encode of every key): heapUsed after gc() minus heapUsed before, divided
 * by M; includes the Map and the key strings.
 * The same for the naive baseline. Prints JSON then a table.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { FileCheckpointStore } from '../core/checkpoint/index.js';
import type { CheckpointEntry } from '../core/contracts/checkpoint-store.js';
import { AggregatedGroupState } from '../core/window/index.js';
import type { AggregatedGroupSpec, SourceSpec } from '../core/model.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const smoke = process.argv.includes('--smoke');
const N = arg('events', smoke ? 600_000 : 2_000_000);
const K = arg('entities', smoke ? 30_000 : 100_000);
const M = arg('mem-entities', smoke ? 100_000 : 1_000_000);
const SPAN_DAYS = arg('span', 10);
/** Checkpoint interval (ms of wall time); the engine's default, `state.checkpointInterval: 1s`. */
const CHECKPOINT_MS = arg('checkpoint-ms', 1000);
const BATCH = 2_000;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error('run with node --expose-gc');
  process.exit(2);
}

const source: SourceSpec = {
  name: 'transactions',
  type: 'http',
  entity: 'card',
  keyField: 'cc_num',
  eventTimeField: 'trans_time',
  fields: [
    { name: 'cc_num', type: 'string', optional: false },
    { name: 'amount', type: 'double', optional: false },
    { name: 'trans_time', type: 'timestamp', optional: false },
    { name: 'merchant', type: 'string', optional: true },
  ],
  allowedLateness: MIN,
  exactlyOnce: true,
  options: {},
};
const spec: AggregatedGroupSpec = {
  kind: 'aggregated',
  name: 'cc_agg',
  entity: 'card',
  source: 'transactions',
  includeCurrent: true,
  derived: [],
  features: [
    { name: 'num_trans_last_10m', agg: 'count', window: { kind: 'sliding', size: 10 * MIN }, precision: 0 },
    { name: 'avg_amt_last_10m', agg: 'avg', field: 'amount', window: { kind: 'sliding', size: 10 * MIN }, precision: 0 },
    { name: 'num_trans_last_1w', agg: 'count', window: { kind: 'sliding', size: 7 * DAY }, precision: HOUR },
    { name: 'avg_amt_last_1w', agg: 'avg', field: 'amount', window: { kind: 'sliding', size: 7 * DAY }, precision: HOUR },
    { name: 'max_amt_last_30d', agg: 'max', field: 'amount', window: { kind: 'sliding', size: 30 * DAY }, precision: DAY },
  ],
};

// Deterministic PRNG (mulberry32) so runs are comparable.
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

// 16-digit card numbers as flat strings (what JSON decoding produces; no cons/sliced strings).
const cardKey = (i: number) => String(4_000_000_000_000_000 + i);
const T0 = Date.parse('2026-01-01T00:00:00Z');

// ---------------------------------------------------------------- throughput data
const rand = rng(42);
const keys = Array.from({ length: K }, (_, i) => cardKey(i));
const evKey = new Int32Array(N);
const evTs = new Float64Array(N);
const evAmt = new Float64Array(N);
const step = (SPAN_DAYS * DAY) / N;
for (let i = 0; i < N; i++) {
  evKey[i] = Math.floor(rand() * K);
  evTs[i] = Math.floor(T0 + i * step - rand() * 30_000);
  evAmt[i] = Math.round(rand() * 50_000) / 100;
}

let engineState: AggregatedGroupState | null = null;

const cpuUs = (c: NodeJS.CpuUsage) => c.user + c.system;

interface EngineRun {
  seconds: number;
  cpuSeconds: number;
  /** Time inside apply batches / checkpoint cuts (drain + encode): wall, and process CPU. */
  cpuUserSeconds: number;
  cpuSystemSeconds: number;
  applySeconds: number;
  applyCpuSeconds: number;
  cutSeconds: number;
  cutCpuSeconds: number;
  checkpoints: number;
  /** Sum over checkpoints of cut → commit resolved (wall, overlaps with applying). */
  commitWallSeconds: number;
  encoded: number;
  encodedBytes: number;
  compactions: number;
  late: number;
  entities: number;
}

/**
 * Applies the events in batches of BATCH (the engine's default batch size), yielding to the event
 * loop after each batch as the engine's source loop does. With `checkpoints`, a 1 s interval timer
 * takes a checkpoint the way core/runtime's Checkpointer does: the cut is synchronous between two
 * batches (drainDirty + encode of every dirty key, the position), then `FileCheckpointStore.commit`
 * runs while applying continues; a tick that finds the previous checkpoint still running is skipped.
 * At the end: a final checkpoint and `close()` (which waits for a running compaction), all timed.
 */
async function runEngine(checkpoints: boolean, count = N): Promise<EngineRun> {
  const st = new AggregatedGroupState(spec, source);
  const ev = { cc_num: '', amount: 0, trans_time: 0 };
  const dir = await mkdtemp(join(tmpdir(), 'fenestra-bench-engine-'));
  const store = new FileCheckpointStore({ dir });
  if (checkpoints) await store.recover(); // what Engine.start does (takes the directory lock)
  let nCheckpoints = 0;
  let encoded = 0;
  let encodedBytes = 0;
  let late = 0;
  let cutMs = 0;
  let cutCpuUs = 0;
  let applyMs = 0;
  let applyCpuUs = 0;
  let commitMs = 0;
  let position = 0;
  let running: Promise<void> | null = null;
  let nextId = 1;
  const checkpoint = (): Promise<void> => {
    const c0 = performance.now();
    const u0 = process.cpuUsage();
    const entries: CheckpointEntry[] = [];
    for (const key of st.drainDirty()) {
      const value = st.encode(key);
      entries.push({ group: spec.name, key, value });
      if (value) {
        encoded++;
        encodedBytes += value.length;
      }
    }
    const positions = { transactions: { 'events-0': position } };
    cutMs += performance.now() - c0;
    cutCpuUs += cpuUs(process.cpuUsage(u0));
    if (entries.length === 0) return Promise.resolve();
    const id = nextId++;
    nCheckpoints++;
    return store
      .commit({ id, createdAt: Date.now(), positions, entries, offlineFiles: [], meta: { layout: { [spec.name]: st.layoutHash } } })
      .finally(() => {
        commitMs += performance.now() - c0;
      });
  };
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const timer = checkpoints
    ? setInterval(() => {
        if (running) return; // checkpoints never overlap
        running = checkpoint().finally(() => {
          running = null;
        });
      }, CHECKPOINT_MS)
    : null;
  for (let b = 0; b < count; b += BATCH) {
    const a0 = performance.now();
    const u0 = process.cpuUsage();
    const end = Math.min(count, b + BATCH);
    for (let i = b; i < end; i++) {
      const key = keys[evKey[i]!]!;
      ev.cc_num = key;
      ev.amount = evAmt[i]!;
      ev.trans_time = evTs[i]!;
      const r = st.apply(key, evTs[i]!, ev);
      if (!r.ok) late++;
    }
    position = end;
    applyMs += performance.now() - a0;
    applyCpuUs += cpuUs(process.cpuUsage(u0));
    await yieldToLoop();
  }
  if (timer) clearInterval(timer);
  if (checkpoints) {
    while (running) await running;
    await checkpoint();
    await store.close();
  }
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const compactions = store.stats().compactions;
  await rm(dir, { recursive: true, force: true });
  engineState = st;
  return {
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    cpuUserSeconds: cpu.user / 1e6,
    cpuSystemSeconds: cpu.system / 1e6,
    applySeconds: applyMs / 1000,
    applyCpuSeconds: applyCpuUs / 1e6,
    cutSeconds: cutMs / 1000,
    cutCpuSeconds: cutCpuUs / 1e6,
    checkpoints: nCheckpoints,
    commitWallSeconds: commitMs / 1000,
    encoded,
    encodedBytes,
    compactions,
    late,
    entities: st.size,
  };
}

function runBaseline(): { seconds: number; cpuSeconds: number } {
  const m = new Map<string, number[]>();
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < N; i++) {
    const key = keys[evKey[i]!]!;
    let a = m.get(key);
    if (!a) m.set(key, (a = []));
    a.push(evTs[i]!, evAmt[i]!);
  }
  const cpu = process.cpuUsage(cpu0);
  return { seconds: (performance.now() - start) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

// ---------------------------------------------------------------- memory
function memCounts(): Uint8Array {
  const r = rng(7);
  const c = new Uint8Array(M);
  for (let i = 0; i < M; i++) c[i] = 1 + Math.floor(r() * 4);
  return c;
}

function measureHeap(build: () => unknown): { bytesPerEntity: number; keep: unknown } {
  gc!();
  gc!();
  const h0 = process.memoryUsage().heapUsed;
  const keep = build();
  gc!();
  gc!();
  const h1 = process.memoryUsage().heapUsed;
  return { bytesPerEntity: (h1 - h0) / M, keep };
}

function memEngine(counts: Uint8Array): AggregatedGroupState {
  const st = new AggregatedGroupState(spec, source);
  const r = rng(9);
  const ev = { cc_num: '', amount: 0, trans_time: 0 };
  for (let i = 0; i < M; i++) {
    const key = cardKey(i);
    let t = T0 + Math.floor(r() * 5 * MIN);
    for (let j = 0; j < counts[i]!; j++) {
      t += Math.floor(r() * 60_000);
      ev.amount = Math.round(r() * 50_000) / 100;
      st.apply(key, t, ev);
    }
  }
  // A checkpoint cut, as the engine takes one after applying: drain and encode every changed key.
  for (const k of st.drainDirty()) st.encode(k);
  return st;
}

function memBaseline(counts: Uint8Array): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const r = rng(9);
  for (let i = 0; i < M; i++) {
    const key = cardKey(i);
    const a: number[] = [];
    let t = T0 + Math.floor(r() * 5 * MIN);
    for (let j = 0; j < counts[i]!; j++) {
      t += Math.floor(r() * 60_000);
      a.push(t, Math.round(r() * 50_000) / 100);
    }
    m.set(key, a);
  }
  return m;
}

// ---------------------------------------------------------------- run
// Warm up both paths so the JIT does not favour whichever runs second.
runBaseline();
const base = runBaseline();
await runEngine(false, Math.min(N, 300_000));
engineState = null;
gc();
gc();
// Apply only (same batches and yields, no checkpoints): the reference the checkpoint share is taken against.
const applyOnly = await runEngine(false);
engineState = null;
gc();
gc();
const heapBefore = process.memoryUsage().heapUsed;
const eng = await runEngine(true);
gc();
gc();
const steadyBytesPerEntity = (process.memoryUsage().heapUsed - heapBefore) / Math.max(1, engineState!.size);
engineState = null;
const counts = memCounts();
let memE = measureHeap(() => memEngine(counts));
const entitiesKept = (memE.keep as AggregatedGroupState).size;
memE = { bytesPerEntity: memE.bytesPerEntity, keep: null };
const memB = measureHeap(() => memBaseline(counts));
memB.keep = null;

const pct = (x: number) => +(100 * x).toFixed(1);
const result = {
  bench: 'engine',
  smoke,
  node: process.version,
  date: new Date().toISOString(),
  config: { events: N, entities: K, spanDays: SPAN_DAYS, allowedLatenessMs: MIN, batch: BATCH, checkpointIntervalMs: CHECKPOINT_MS, memEntities: M, memEventsPerEntity: '1-4 uniform within 10 min' },
  throughput: {
    eventsPerSecond: Math.round(N / eng.seconds),
    eventsPerCpuSecond: Math.round(N / eng.cpuSeconds),
    seconds: +eng.seconds.toFixed(3),
    cpuSeconds: +eng.cpuSeconds.toFixed(3),
    cpuUserSeconds: +eng.cpuUserSeconds.toFixed(3),
    cpuSystemSeconds: +eng.cpuSystemSeconds.toFixed(3),
    applySeconds: +eng.applySeconds.toFixed(3),
    applyCpuSeconds: +eng.applyCpuSeconds.toFixed(3),
    checkpoints: eng.checkpoints,
    cutSeconds: +eng.cutSeconds.toFixed(3),
    cutCpuSeconds: +eng.cutCpuSeconds.toFixed(3),
    cutCpuMicrosPerEncode: +((1e6 * eng.cutCpuSeconds) / Math.max(1, eng.encoded)).toFixed(2),
    commitWallSeconds: +eng.commitWallSeconds.toFixed(3),
    compactions: eng.compactions,
    encodedEntities: eng.encoded,
    avgEncodedBytes: +(eng.encodedBytes / Math.max(1, eng.encoded)).toFixed(1),
    /** 1 − CPU of the apply-only run / CPU of this run: what checkpointing (cut, commit, compaction) costs. */
    checkpointCpuSharePct: pct(1 - applyOnly.cpuSeconds / eng.cpuSeconds),
    /** The synchronous cut (drain + encode) as a share of CPU time and of wall time. */
    cutCpuSharePct: pct(eng.cutCpuSeconds / eng.cpuSeconds),
    cutWallSharePct: pct(eng.cutSeconds / eng.seconds),
    lateRejected: eng.late,
    entities: eng.entities,
    target: 250_000,
  },
  applyOnly: {
    eventsPerSecond: Math.round(N / applyOnly.seconds),
    eventsPerCpuSecond: Math.round(N / applyOnly.cpuSeconds),
    cpuSeconds: +applyOnly.cpuSeconds.toFixed(3),
  },
  baseline: { naiveMapAppendEventsPerSecond: Math.round(N / base.seconds), naiveMapAppendEventsPerCpuSecond: Math.round(N / base.cpuSeconds) },
  loadAverage: loadavg().map((x) => +x.toFixed(2)),
  memory: {
    bytesPerEntity: +memE.bytesPerEntity.toFixed(1),
    entities: entitiesKept,
    baselineNaiveMapBytesPerEntity: +memB.bytesPerEntity.toFixed(1),
    target: 256,
    steadyStateBytesPerEntity: +steadyBytesPerEntity.toFixed(1),
  },
};
console.log(JSON.stringify(result));
const t = result.throughput;
console.table({
  'engine + checkpoints, per CPU second (process CPU time)': { value: `${t.eventsPerCpuSecond.toLocaleString('en')} events/s`, target: '>= 250,000 events/s per core' },
  'engine + checkpoints, wall': { value: `${t.eventsPerSecond.toLocaleString('en')} events/s`, target: '>= 250,000 events/s per core' },
  'apply only (no checkpoints), per CPU second': { value: `${result.applyOnly.eventsPerCpuSecond.toLocaleString('en')} events/s`, target: '-' },
  'baseline (naive Map append), wall': { value: `${result.baseline.naiveMapAppendEventsPerSecond.toLocaleString('en')} events/s`, target: '-' },
  'checkpoint share of CPU (vs apply only)': {
    value: `${t.checkpointCpuSharePct} % (${t.checkpoints} checkpoints, ${t.compactions} compactions, ${t.encodedEntities.toLocaleString('en')} encodes, avg ${t.avgEncodedBytes} B)`,
    target: '-',
  },
  'checkpoint cut (drain + encode), share of CPU': { value: `${t.cutCpuSharePct} % (${t.cutCpuSeconds} s, ${t.cutCpuMicrosPerEncode} µs per entity)`, target: '-' },
  [`memory per entity (${M.toLocaleString('en')} entities)`]: { value: `${result.memory.bytesPerEntity} B`, target: '<= 256 B' },
  [`memory per entity after the throughput run (${K.toLocaleString('en')} entities, ~${Math.round(N / K)} events each over ${SPAN_DAYS} days, tiles)`]: { value: `${result.memory.steadyStateBytesPerEntity} B`, target: '-' },
  'baseline memory (naive Map<string, number[]>)': { value: `${result.memory.baselineNaiveMapBytesPerEntity} B`, target: '-' },
});
