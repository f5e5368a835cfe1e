/**
 * Exactly-once in process (fast; the SIGKILL version is test/crash): an engine applies k records,
 * checkpoints, applies m more (not durable), and "crashes" — its last checkpoint fails after the dead
 * letters were written, and it is abandoned. A second engine recovers from the same state directory
 * and finishes. For any k and m, every key's features, versions and the dead-letter file equal an
 * uninterrupted run's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadConfig } from '../../../config/load.js';
import filePlugin from '../../../adapters/sources/file/index.js';
import { FileCheckpointStore } from '../../../core/checkpoint/index.js';
import type { CheckpointData, CheckpointStore } from '../../../core/contracts/checkpoint-store.js';
import type { Source } from '../../../core/contracts/source.js';
import { Engine } from '../../../core/runtime/engine.js';
import { silentLogger } from '../../../core/runtime/logger.js';
import type { EngineSpec } from '../../../core/model.js';

const EVENTS = 1_500;
const T0 = Date.UTC(2024, 5, 1);
let base: string;
let template: string;

function events(): string {
  let seed = 7;
  const r = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  const lines: string[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const key = `k${Math.floor(r() * 40)}`;
    let ts = T0 + i * 20_000 - Math.floor(r() * 60_000);
    if (r() < 0.03) ts -= 30 * 60_000; // late
    if (r() < 0.02) lines.push(`{"cc_num":"${key}","amount":`);
    else if (r() < 0.02) lines.push(JSON.stringify({ cc_num: key, amount: 'x', trans_time: ts }));
    else lines.push(JSON.stringify({ cc_num: key, amount: Math.round(r() * 1000) / 10, trans_time: ts }));
  }
  return `${lines.join('\n')}\n`;
}

const CONFIG = `
state: { dir: ./state, checkpointInterval: 1h }
entities: { card: { key: cc_num } }
sources:
  tx:
    type: file
    path: ./events.ndjson
    entity: card
    allowedLateness: 2m
    eventTime: { field: trans_time }
    schema: { cc_num: string, amount: double, trans_time: timestamp }
featureGroups:
  g:
    source: tx
    features:
      n_10m:   { agg: count, window: 10m }
      avg_1h:  { agg: avg, field: amount, window: 1h }
      max_1d:  { agg: max, field: amount, window: 1d, precision: 1h }
      sd_life: { agg: stddev, field: amount, window: lifetime }
`;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'fenestra-eo-'));
  template = join(base, 'template');
  await (await import('node:fs/promises')).mkdir(template);
  await writeFile(join(template, 'events.ndjson'), events());
  await writeFile(join(template, 'fenestra.yaml'), CONFIG);
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

/** The file source, delivering at most `limit` records (then "nothing now", never finished). */
class Gate implements Source {
  limit = Number.POSITIVE_INFINITY;
  delivered = 0;
  constructor(private readonly inner: Source) {}
  open: Source['open'] = (ctx) => this.inner.open(ctx);
  close: Source['close'] = () => this.inner.close();
  finished(): boolean {
    return this.delivered < this.limit && this.inner.finished();
  }
  async poll(max: number, waitMs: number) {
    const n = Math.min(max, this.limit - this.delivered);
    if (n <= 0) {
      await new Promise((r) => setTimeout(r, Math.min(waitMs, 2)));
      return [];
    }
    const recs = await this.inner.poll(n, waitMs);
    this.delivered += recs.length;
    return recs;
  }
}

/** The real store; after `crash` every commit fails (the process "dies" before its manifest). */
class Crashable implements CheckpointStore {
  crashed = false;
  constructor(readonly real: FileCheckpointStore) {}
  recover() {
    return this.real.recover();
  }
  async commit(d: CheckpointData) {
    if (this.crashed) throw new Error('crashed');
    await this.real.commit(d);
  }
  close() {
    return this.real.close();
  }
}

async function engineIn(dir: string): Promise<{ engine: Engine; gate: Gate; store: Crashable; spec: EngineSpec }> {
  const spec = await loadConfig(join(dir, 'fenestra.yaml'));
  const s = spec.sources.get('tx')!;
  const gate = new Gate(await filePlugin.create(s.options, { logger: silentLogger, baseDir: spec.baseDir, engineVersion: '0.1.0', source: s }));
  const store = new Crashable(new FileCheckpointStore({ dir: join(spec.state.dir, 'checkpoints'), minCompactBytes: 0, maxDeltas: 2 }));
  const engine = new Engine(spec, { sources: new Map([['tx', gate]]), checkpointStore: store, batchSize: 97 });
  return { engine, gate, store, spec };
}

async function dump(engine: Engine): Promise<string> {
  const keys = [...engine.entityKeys('g')].sort();
  const reads = await engine.readMany('g', keys, { asOf: T0 + EVENTS * 20_000 });
  return JSON.stringify(reads.map((r) => [r.key, r.version, r.values]));
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 1));
}

describe('exactly-once across an in-process crash', () => {
  it('recovers to the uninterrupted result for any crash point (property)', async () => {
    const refDir = join(base, 'ref');
    await cp(template, refDir, { recursive: true });
    const ref = await engineIn(refDir);
    await ref.engine.start();
    await ref.engine.drained();
    const expected = await dump(ref.engine);
    await ref.engine.stop();
    const expectedDead = await readFile(ref.spec.deadLetters.path, 'utf8');
    expect(expectedDead.split('\n').length).toBeGreaterThan(30);

    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: EVENTS }), fc.integer({ min: 0, max: 400 }), fc.integer({ min: 1, max: 3 }), async (k, m, checkpoints) => {
        const dir = join(base, `run-${run++}`);
        await cp(template, dir, { recursive: true });
        // First life: k records over a few checkpoints, m more, then a crash.
        const a = await engineIn(dir);
        a.gate.limit = 0;
        await a.engine.start();
        for (let c = 1; c <= checkpoints; c++) {
          a.gate.limit = Math.round((k * c) / checkpoints);
          await until(() => a.engine.stats().eventsIn === Math.min(a.gate.limit, EVENTS));
          await a.engine.checkpoint();
        }
        a.gate.limit = k + m;
        await until(() => a.engine.stats().eventsIn === Math.min(k + m, EVENTS));
        a.store.crashed = true;
        await a.engine.stop().catch(() => undefined); // the final checkpoint fails: nothing after k is durable
        await a.store.real.idle(); // a dead process runs no background compaction (one process per state dir)
        // Second life: recover and finish.
        const b = await engineIn(dir);
        await b.engine.start();
        await b.engine.drained();
        expect(b.engine.stats().eventsIn).toBe(EVENTS - k);
        expect(await dump(b.engine)).toBe(expected);
        await b.engine.stop();
        expect(await readFile(b.spec.deadLetters.path, 'utf8')).toBe(expectedDead);
        await rm(dir, { recursive: true, force: true });
      }),
      { numRuns: 25 },
    );
  });
});
