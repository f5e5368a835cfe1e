/**
 * End-to-end runtime throughput: the Engine consuming an NDJSON file through the `file` source
 * (read, decode, apply to the core issue's example feature set, positions) with checkpoints on
 * (every 1 s into the FileCheckpointStore, compaction included) and dead letters, versus baselines
 * measured in the same run on the same events:
 *   - `parse only`: the file source reading the file and JSON.parse of every line (the I/O floor);
 *   - `apply only`: AggregatedGroupState.apply on pre-decoded events (no engine, no checkpoints).
 * Then recovery: the time a fresh Engine takes to `start()` from the final checkpoint (all entities).
 *
 *   node --expose-gc --import tsx bench/runtime.ts [--events N] [--entities K] [--smoke]
 *
 * Prints JSON then a table.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { loadConfig } from '../config/load.js';
import filePlugin from '../adapters/sources/file/index.js';
import { FileCheckpointStore } from '../core/checkpoint/index.js';
import type { Source } from '../core/contracts/source.js';
import { Engine } from '../core/runtime/engine.js';
import { silentLogger } from '../core/runtime/logger.js';
import { makeDecoder } from '../core/event/decode.js';
import { AggregatedGroupState } from '../core/window/index.js';
import type { AggregatedGroupSpec, EngineSpec } from '../core/model.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const smoke = process.argv.includes('--smoke');
const N = arg('events', smoke ? 100_000 : 1_000_000);
const K = arg('entities', smoke ? 10_000 : 100_000);
const SPAN_DAYS = 10;
const DAY = 86_400_000;

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

const CONFIG = `
state:
  dir: ./state
  checkpointInterval: 1s
entities:
  card: { key: cc_num }
sources:
  transactions:
    type: file
    path: ./events.ndjson
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
    source: transactions
    features:
      num_trans_last_10m: { agg: count, window: 10m }
      avg_amt_last_10m:   { agg: avg, field: amount, window: 10m }
      num_trans_last_1w:  { agg: count, window: 7d }
      avg_amt_last_1w:    { agg: avg, field: amount, window: 7d, precision: 1h }
      max_amt_last_30d:   { agg: max, field: amount, window: 30d, precision: 1d }
`;

async function writeEvents(path: string): Promise<void> {
  const r = rng(42);
  const T0 = Date.parse('2026-01-01T00:00:00Z');
  const step = (SPAN_DAYS * DAY) / N;
  const out = createWriteStream(path);
  let chunk = '';
  for (let i = 0; i < N; i++) {
    const key = `4${String(100_000_000_000_000 + Math.floor(r() * K)).slice(1)}`;
    const ts = Math.floor(T0 + i * step - r() * 30_000);
    chunk += `{"cc_num":"${key}","amount":${Math.round(r() * 50_000) / 100},"trans_time":${ts},"merchant":"m${i % 50}"}\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
}

async function openFileSource(spec: EngineSpec): Promise<Source> {
  const s = spec.sources.get('transactions')!;
  return filePlugin.create(s.options, { logger: silentLogger, baseDir: spec.baseDir, engineVersion: '0.1.0', source: s });
}

function cpuSeconds(c: NodeJS.CpuUsage): number {
  return (c.user + c.system) / 1e6;
}

const dir = await mkdtemp(join(tmpdir(), 'fenestra-bench-runtime-'));
try {
  await writeFile(join(dir, 'fenestra.yaml'), CONFIG);
  await writeEvents(join(dir, 'events.ndjson'));
  const spec = await loadConfig(join(dir, 'fenestra.yaml'));
  const group = spec.groups.get('cc_agg') as AggregatedGroupSpec;
  const sourceSpec = spec.sources.get('transactions')!;

  let parseSec = 0;
  let parseCpu = 0;
  let applySec = 0;
  let applyCpu = 0;
  // Baseline 1: read + JSON.parse only.
  const parsed: Array<Record<string, unknown>> = [];
  {
    const src = await openFileSource(spec);
    await src.open({ spec: sourceSpec, restored: [], logger: silentLogger, dataDir: dir, onRevoked: async () => undefined, onAssigned: async () => [] });
    globalThis.gc?.();
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (;;) {
      const recs = await src.poll(2000, 0);
      if (recs.length === 0 && src.finished()) break;
      for (const r of recs) parsed.push(JSON.parse(r.value as string) as Record<string, unknown>);
    }
    parseSec = (performance.now() - t0) / 1000;
    parseCpu = cpuSeconds(process.cpuUsage(c0));
    await src.close();
  }
  // Baseline 2: apply only, on pre-decoded events.
  {
    const decode = makeDecoder(sourceSpec);
    const decoded = parsed.map((p) => decode(p)).flatMap((d) => (d.ok ? [d] : []));
    parsed.length = 0;
    const st = new AggregatedGroupState(group, sourceSpec);
    globalThis.gc?.();
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (const d of decoded) st.apply(d.key, d.ts, d.event);
    applySec = (performance.now() - t0) / 1000;
    applyCpu = cpuSeconds(process.cpuUsage(c0));
  }
  // The engine, end to end, checkpoints on.
  const ckDir = join(spec.state.dir, 'checkpoints');
  const ckStore = new FileCheckpointStore({ dir: ckDir });
  const engine = new Engine(spec, { sources: new Map([['transactions', await openFileSource(spec)]]), checkpointStore: ckStore });
  globalThis.gc?.();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await engine.start();
  await engine.drained();
  await engine.stop();
  const engineSec = (performance.now() - t0) / 1000;
  const engineCpu = cpuSeconds(process.cpuUsage(c0));
  const stats = engine.stats();
  const store = ckStore.stats();
  // Recovery of every entity from the last checkpoint.
  const again = new Engine(spec, { sources: new Map([['transactions', await openFileSource(spec)]]), checkpointStore: new FileCheckpointStore({ dir: ckDir }) });
  const r0 = performance.now();
  await again.start();
  const recoverSec = (performance.now() - r0) / 1000;
  const entities = again.stats().entities['cc_agg'] ?? 0;
  await again.stop();

  const result = {
    bench: 'runtime',
    node: process.version,
    date: new Date().toISOString(),
    loadAverage: loadavg().map((x) => +x.toFixed(2)),
    events: N,
    entities,
    parseOnly: { seconds: parseSec, eventsPerSec: Math.round(N / parseSec), eventsPerCpuSec: Math.round(N / parseCpu) },
    applyOnly: { seconds: applySec, eventsPerSec: Math.round(N / applySec), eventsPerCpuSec: Math.round(N / applyCpu) },
    engine: {
      seconds: engineSec,
      eventsPerSec: Math.round(N / engineSec),
      eventsPerCpuSec: Math.round(N / engineCpu),
      applied: stats.eventsApplied,
      deadLetters: stats.deadLetters,
      checkpoints: stats.checkpoints.count,
      checkpointAvgMs: stats.checkpoints.count ? stats.checkpoints.totalDurationMs / stats.checkpoints.count : 0,
      compactions: store.compactions,
    },
    recovery: { seconds: recoverSec, entitiesPerSec: Math.round(entities / recoverSec) },
  };
  console.log(JSON.stringify(result));
  console.table([
    { run: 'parse only (baseline)', seconds: parseSec.toFixed(2), 'events/s': result.parseOnly.eventsPerSec, 'events/cpu-s': result.parseOnly.eventsPerCpuSec },
    { run: 'apply only (baseline)', seconds: applySec.toFixed(2), 'events/s': result.applyOnly.eventsPerSec, 'events/cpu-s': result.applyOnly.eventsPerCpuSec },
    { run: 'engine + checkpoints', seconds: engineSec.toFixed(2), 'events/s': result.engine.eventsPerSec, 'events/cpu-s': result.engine.eventsPerCpuSec },
    { run: `recovery (${entities} entities)`, seconds: recoverSec.toFixed(2), 'events/s': '-', 'events/cpu-s': '-' },
  ]);
  console.table([{ checkpoints: result.engine.checkpoints, 'avg checkpoint ms': result.engine.checkpointAvgMs.toFixed(1), compactions: result.engine.compactions, 'dead letters': result.engine.deadLetters }]);
} finally {
  await rm(dir, { recursive: true, force: true });
}
