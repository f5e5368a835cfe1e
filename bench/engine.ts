/**
 * Engine update throughput and memory per entity for the core issue's example feature set (cc_agg:
 * count + avg over 10m exact, count 7d and avg 7d at 1h precision, max 30d at 1d precision).
 *
 *   node --expose-gc --import tsx bench/engine.ts [--events N] [--entities K] [--mem-entities M] [--smoke]
 *
 * Throughput: N events over K entities (uniformly random keys), event times spread evenly over
 * `span` days (default 10, so each card sees an event about every day and tiles are exercised),
 * each event up to 30 s out of order (allowedLateness 60 s). Checkpoints on: every 1 s of wall time
 * the bench drains the dirty keys and encodes each one. One decoded-event object is reused (the
 * window state copies what it keeps), key strings are pre-built. Baseline measured in the same run:
 * a naive Map<string, number[]> that appends [ts, amount] per event (no windows, no checkpoints).
 *
 * Memory: M entities (default 1M) with 1–4 events each (uniform, mean 2.5) within 10 minutes:
 * heapUsed after gc() minus heapUsed before, divided by M; includes the Map and the key strings.
 * The same for the naive baseline. Prints JSON then a table.
 */
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

function runEngine(): { seconds: number; cpuSeconds: number; checkpoints: number; encoded: number; encodedBytes: number; late: number; entities: number; checkpointSeconds: number } {
  const st = new AggregatedGroupState(spec, source);
  const ev = { cc_num: '', amount: 0, trans_time: 0 };
  let checkpoints = 0;
  let encoded = 0;
  let encodedBytes = 0;
  let late = 0;
  let cpTime = 0;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  let nextCp = start + 1000;
  const checkpoint = () => {
    const c0 = performance.now();
    for (const k of st.drainDirty()) {
      const b = st.encode(k);
      if (b) {
        encoded++;
        encodedBytes += b.length;
      }
    }
    checkpoints++;
    cpTime += performance.now() - c0;
  };
  for (let i = 0; i < N; i++) {
    const key = keys[evKey[i]!]!;
    ev.cc_num = key;
    ev.amount = evAmt[i]!;
    ev.trans_time = evTs[i]!;
    const r = st.apply(key, evTs[i]!, ev);
    if (!r.ok) late++;
    if ((i & 1023) === 0 && performance.now() >= nextCp) {
      checkpoint();
      nextCp = performance.now() + 1000;
    }
  }
  checkpoint();
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  engineState = st;
  return { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, checkpoints, encoded, encodedBytes, late, entities: st.size, checkpointSeconds: cpTime / 1000 };
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
  st.drainDirty();
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
// Warm up both paths on a slice so the JIT does not favour whichever runs second.
runBaseline();
const base = runBaseline();
gc();
gc();
const heapBefore = process.memoryUsage().heapUsed;
const eng = runEngine();
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

const result = {
  bench: 'engine',
  smoke,
  node: process.version,
  config: { events: N, entities: K, spanDays: SPAN_DAYS, allowedLatenessMs: MIN, memEntities: M, memEventsPerEntity: '1-4 uniform within 10 min' },
  throughput: {
    eventsPerSecond: Math.round(N / eng.seconds),
    eventsPerCpuSecond: Math.round(N / eng.cpuSeconds),
    seconds: +eng.seconds.toFixed(3),
    cpuSeconds: +eng.cpuSeconds.toFixed(3),
    checkpoints: eng.checkpoints,
    checkpointSeconds: +eng.checkpointSeconds.toFixed(3),
    encodedEntities: eng.encoded,
    avgEncodedBytes: +(eng.encodedBytes / Math.max(1, eng.encoded)).toFixed(1),
    lateRejected: eng.late,
    entities: eng.entities,
    target: 250_000,
  },
  baseline: { naiveMapAppendEventsPerSecond: Math.round(N / base.seconds), naiveMapAppendEventsPerCpuSecond: Math.round(N / base.cpuSeconds) },
  loadAverage: (await import('node:os')).loadavg().map((x) => +x.toFixed(2)),
  memory: {
    bytesPerEntity: +memE.bytesPerEntity.toFixed(1),
    entities: entitiesKept,
    baselineNaiveMapBytesPerEntity: +memB.bytesPerEntity.toFixed(1),
    target: 256,
    steadyStateBytesPerEntity: +steadyBytesPerEntity.toFixed(1),
  },
};
console.log(JSON.stringify(result));
console.table({
  'engine (apply + checkpoint encode), wall': { value: `${result.throughput.eventsPerSecond.toLocaleString('en')} events/s`, target: '>= 250,000 events/s per core' },
  'engine, per CPU second (process CPU time)': { value: `${result.throughput.eventsPerCpuSecond.toLocaleString('en')} events/s`, target: '>= 250,000 events/s per core' },
  'baseline (naive Map append), wall': { value: `${result.baseline.naiveMapAppendEventsPerSecond.toLocaleString('en')} events/s`, target: '-' },
  'checkpoint encode share': { value: `${((100 * eng.checkpointSeconds) / eng.seconds).toFixed(1)} % (${eng.checkpoints} checkpoints, ${eng.encoded.toLocaleString('en')} encodes, avg ${result.throughput.avgEncodedBytes} B)`, target: '-' },
  [`memory per entity (${M.toLocaleString('en')} entities)`]: { value: `${result.memory.bytesPerEntity} B`, target: '<= 256 B' },
  [`memory per entity after the throughput run (${K.toLocaleString('en')} entities, ~${Math.round(N / K)} events each over ${SPAN_DAYS} days, tiles)`]: { value: `${result.memory.steadyStateBytesPerEntity} B`, target: '-' },
  'baseline memory (naive Map<string, number[]>)': { value: `${result.memory.baselineNaiveMapBytesPerEntity} B`, target: '-' },
});
