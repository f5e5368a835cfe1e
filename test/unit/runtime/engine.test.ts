import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../config/load.js';
import filePlugin from '../../../adapters/sources/file/index.js';
import { MemoryOnlineStore } from '../../../adapters/online/memory/memory-online-store.js';
import { FileCheckpointStore } from '../../../core/checkpoint/index.js';
import type { CheckpointData } from '../../../core/contracts/checkpoint-store.js';
import type { OnlineStore } from '../../../core/contracts/online-store.js';
import type { Source } from '../../../core/contracts/source.js';
import { Engine, type EngineDeps } from '../../../core/runtime/engine.js';
import type { KeyUpdate } from '../../../core/runtime/api.js';
import { silentLogger } from '../../../core/runtime/logger.js';
import { readEncoded } from '../../../core/window/index.js';
import { StoredGroupState } from '../../../core/stored/index.js';
import type { StoredGroupSpec } from '../../../core/model.js';
import type { AggregatedGroupSpec, EngineSpec } from '../../../core/model.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fenestra-engine-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const at = (hms: string): number => Date.parse(`2024-03-01T${hms}Z`);

function config(features = '      num_trans_last_10m: { agg: count, window: 10m }\n      avg_amt_last_10m:   { agg: avg, field: amount, window: 10m }\n'): string {
  return `
state:
  dir: ./state
  checkpointInterval: 1h
entities:
  card:
    key: cc_num
sources:
  tx:
    type: file
    path: ./events.ndjson
    entity: card
    allowedLateness: 1m
    eventTime: { field: trans_time }
    schema:
      cc_num: string
      amount: double
      trans_time: timestamp
featureGroups:
  cc_agg:
    source: tx
    features:
${features}    derived:
      amt_ratio2: { expr: "request.amount / avg_amt_last_10m" }
`;
}

const EVENTS = [
  { cc_num: 'c1', amount: 50, trans_time: '2024-03-01T22:01:00Z' },
  { cc_num: 'c1', amount: 200, trans_time: '2024-03-01T22:03:59Z' },
  '{"cc_num": "c1", "amount": ',
  { cc_num: 'c1', amount: 50, trans_time: '2024-03-01T22:04:28Z' },
  { cc_num: 'c2', amount: 'ten', trans_time: '2024-03-01T22:04:30Z' },
  { cc_num: 'c1', amount: 500, trans_time: '2024-03-01T22:05:05Z' },
  { cc_num: 'c1', amount: 1, trans_time: '2024-03-01T21:00:00Z' }, // late by more than 1m
  { cc_num: 'c3', amount: 7, trans_time: at('22:00:00') },
];

async function setup(features?: string): Promise<EngineSpec> {
  await writeFile(join(dir, 'events.ndjson'), EVENTS.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join('\n'));
  await writeFile(join(dir, 'fenestra.yaml'), config(features));
  return loadConfig(join(dir, 'fenestra.yaml'));
}

async function engineFor(spec: EngineSpec, extra: Partial<EngineDeps> = {}): Promise<Engine> {
  const source = await filePlugin.create(spec.sources.get('tx')!.options, { logger: silentLogger, baseDir: spec.baseDir, engineVersion: '0.1.0', source: spec.sources.get('tx')! });
  return new Engine(spec, {
    sources: new Map([['tx', source]]),
    checkpointStore: new FileCheckpointStore({ dir: join(spec.state.dir, 'checkpoints') }),
    ...extra,
  });
}

describe('Engine', () => {
  it('applies a file source: window decay, derived features with request fields, dead letters by code', async () => {
    const spec = await setup();
    const engine = await engineFor(spec);
    const updates: KeyUpdate[] = [];
    engine.onUpdate((u) => updates.push(u));
    await engine.start();
    expect(engine.isReady()).toBe(true);
    await engine.drained();
    const r = await engine.read('cc_agg', 'c1', { asOf: at('22:05:05'), request: { amount: 400 } });
    expect(r).toMatchObject({ found: true, version: 4, values: { num_trans_last_10m: 4, avg_amt_last_10m: 200, amt_ratio2: 2 } });
    const later = await engine.read('cc_agg', 'c1', { asOf: at('22:30:00'), features: ['num_trans_last_10m', 'avg_amt_last_10m', 'amt_ratio2'] });
    expect(later.values).toEqual({ num_trans_last_10m: 0, avg_amt_last_10m: null, amt_ratio2: null });
    const many = await engine.readMany('cc_agg', ['c3', 'nobody'], { asOf: at('22:05:00') });
    expect(many.map((m) => [m.key, m.found, m.values['num_trans_last_10m']])).toEqual([['c3', true, 1], ['nobody', false, 0]]);
    await expect(engine.read('nope', 'c1')).rejects.toMatchObject({ code: 'UNKNOWN_GROUP' });
    await expect(engine.readMany('nope', [])).rejects.toMatchObject({ code: 'UNKNOWN_GROUP' });
    await expect(engine.read('cc_agg', 'c1', { features: ['bogus'] })).rejects.toMatchObject({ code: 'UNKNOWN_FEATURE' });
    expect(updates.filter((u) => u.key === 'c1').map((u) => u.version)).toEqual([1, 2, 3, 4]);
    const stats = engine.stats();
    expect(stats.eventsIn).toBe(8);
    expect(stats.eventsApplied).toBe(5);
    expect(stats.deadLettered).toEqual({ EVENT_MALFORMED: 1, EVENT_FIELD_TYPE: 1, EVENT_LATE: 1 });
    expect(stats.deadLetters).toBe(3);
    await engine.stop();
    expect(engine.isReady()).toBe(false);
    const lines = (await readFile(spec.deadLetters.path, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l['code'], l['field']])).toEqual([['EVENT_MALFORMED', null], ['EVENT_FIELD_TYPE', 'amount'], ['EVENT_LATE', 'trans_time']]);
    expect(lines[1]).toMatchObject({ source: 'tx', origin: expect.stringContaining('events.ndjson @ byte'), event: { cc_num: 'c2', amount: 'ten' } });
  });

  it('recovers state and positions: a restart replays nothing and writes no dead letter twice', async () => {
    const spec = await setup();
    const first = await engineFor(spec);
    await first.start();
    await first.drained();
    await first.stop();
    const deadBefore = await readFile(spec.deadLetters.path, 'utf8');
    const second = await engineFor(spec);
    await second.start();
    await second.drained();
    expect(second.stats().eventsIn).toBe(0);
    expect(second.durablePosition('tx', 'events.ndjson')).toBeGreaterThan(0);
    const r = await second.read('cc_agg', 'c1', { asOf: at('22:05:05') });
    expect(r).toMatchObject({ version: 4, values: { num_trans_last_10m: 4, avg_amt_last_10m: 200 } });
    await second.stop();
    expect(await readFile(spec.deadLetters.path, 'utf8')).toBe(deadBefore);
  });

  it('truncates dead letters written after the last checkpoint (they are replayed)', async () => {
    const spec = await setup();
    const first = await engineFor(spec);
    await first.start();
    await first.drained();
    await first.stop();
    const dead = await readFile(spec.deadLetters.path, 'utf8');
    // As if a crashed run had appended dead letters of events after the checkpoint.
    await writeFile(spec.deadLetters.path, `${dead}{"code":"EVENT_LATE","partial":true}\n{"code":"EVE`);
    const second = await engineFor(spec);
    await second.start();
    await second.stop();
    expect(await readFile(spec.deadLetters.path, 'utf8')).toBe(dead);
  });

  it('refuses a checkpoint written for another feature layout (CHECKPOINT_MISMATCH)', async () => {
    const spec = await setup();
    const first = await engineFor(spec);
    await first.start();
    await first.drained();
    await first.stop();
    const changed = await setup('      num_trans_last_10m: { agg: count, window: 10m }\n      avg_amt_last_10m:   { agg: avg, field: amount, window: 20m }\n');
    const second = await engineFor(changed);
    const err = await second.start().then(() => null, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'CHECKPOINT_MISMATCH' });
    expect((err as Error).message).toContain('cc_agg');
  });

  it('keeps a failed checkpoint\'s changes for the next one', async () => {
    const spec = await setup();
    const real = new FileCheckpointStore({ dir: join(spec.state.dir, 'checkpoints') });
    let failNext = true;
    const flaky = {
      recover: () => real.recover(),
      close: () => real.close(),
      commit: async (d: CheckpointData) => {
        if (failNext) {
          failNext = false;
          throw new Error('disk full');
        }
        await real.commit(d);
      },
    };
    const engine = await engineFor(spec, { checkpointStore: flaky });
    await engine.start();
    await engine.drained();
    await expect(engine.checkpoint()).rejects.toThrow('disk full');
    expect(engine.stats().checkpoints.failures).toBe(1);
    await engine.checkpoint();
    await engine.stop();
    const rec = await new FileCheckpointStore({ dir: join(spec.state.dir, 'checkpoints') }).recover();
    expect(new Set([...rec!.entries()].map((e) => e.key))).toEqual(new Set(['c1', 'c3']));
  });

  it('takes a fresh checkpoint id after an ambiguous failure (commit durable, then an error)', async () => {
    const spec = await setup();
    const real = new FileCheckpointStore({ dir: join(spec.state.dir, 'checkpoints') });
    let ambiguous = true;
    const store = {
      recover: () => real.recover(),
      close: () => real.close(),
      commit: async (d: CheckpointData) => {
        await real.commit(d);
        if (ambiguous) {
          ambiguous = false;
          throw new Error('fsync of the directory failed');
        }
      },
    };
    const engine = await engineFor(spec, { checkpointStore: store });
    await engine.start();
    await engine.drained();
    await expect(engine.checkpoint()).rejects.toThrow('fsync');
    await engine.stop(); // final checkpoint succeeds with the next id
    const rec = await new FileCheckpointStore({ dir: join(spec.state.dir, 'checkpoints') }).recover();
    expect(rec!.id).toBe(2);
    expect(new Set([...rec!.entries()].map((e) => e.key))).toEqual(new Set(['c1', 'c3']));
  });

  it('flushes dirty entities to an online store with their versions; values decode to the same features', async () => {
    const spec = await setup();
    const store = new MemoryOnlineStore();
    const engine = await engineFor(spec, { onlineStore: store as OnlineStore });
    await engine.start();
    await engine.drained();
    await engine.flush();
    const [c1, c3, none] = await store.read('cc_agg', ['c1', 'c3', 'nobody'], Date.now());
    expect(none).toBeNull();
    expect(c1!.version).toBe(4);
    expect(c3!.version).toBe(1);
    const g = spec.groups.get('cc_agg') as AggregatedGroupSpec;
    expect(readEncoded(g, spec.sources.get('tx')!, c1!.value, at('22:05:05')).values).toMatchObject({ num_trans_last_10m: 4, avg_amt_last_10m: 200 });
    expect(engine.stats().online).toMatchObject({ enabled: true, healthy: true, failures: 0, pending: 0 });
    await engine.stop();
  });

  it('keeps keys dirty while the online store fails, reports it unhealthy, and catches up after', async () => {
    const spec = await setup();
    const store = new MemoryOnlineStore();
    let down = true;
    const flaky: OnlineStore = {
      open: () => store.open(),
      close: () => store.close(),
      read: (g, k, now) => store.read(g, k, now),
      delete: (g, k, v) => store.delete(g, k, v),
      healthy: async () => !down,
      write: async (records) => {
        if (down) throw new Error('connection refused');
        return store.write(records);
      },
    };
    const engine = await engineFor(spec, { onlineStore: flaky });
    await engine.start();
    await engine.drained();
    await engine.flush();
    expect(engine.stats().online).toMatchObject({ healthy: false, failures: 1, pending: 2, lastError: 'connection refused' });
    down = false;
    await engine.flush();
    expect(engine.stats().online).toMatchObject({ healthy: true, pending: 0, recordsWritten: 2 });
    expect((await store.read('cc_agg', ['c1'], Date.now()))[0]!.version).toBe(4);
    await engine.stop();
  });

  it('checkpoints and flushes groups written outside the sources (stored groups)', async () => {
    const spec = await setup();
    const storedSpec: StoredGroupSpec = {
      kind: 'stored', name: 'cc_batch', entity: 'card', eventTimeField: 'event_time', ttl: 0, derived: [],
      fields: [{ name: 'avg_amt_last_1w', type: 'double', optional: false }],
    };
    const withStored: EngineSpec = { ...spec, groups: new Map([...spec.groups, ['cc_batch', storedSpec]]) };
    const store = new MemoryOnlineStore();
    const stored = new StoredGroupState(storedSpec);
    const engine = await engineFor(withStored, { onlineStore: store as OnlineStore, extraGroups: [stored] });
    await engine.start();
    await engine.drained();
    stored.apply({ op: 'put', key: 'c9', eventTime: 5_000, strings: { avg_amt_last_1w: '12.5' }, expiresAt: 0 });
    await engine.flush();
    expect((await store.read('cc_batch', ['c9'], 6_000))[0]).toMatchObject({ version: 5_000 });
    expect(await engine.read('cc_batch', 'c9', { asOf: 6_000 })).toMatchObject({ found: true, version: 5_000, values: { avg_amt_last_1w: 12.5 } });
    await engine.stop();
    const again = new StoredGroupState(storedSpec);
    const second = await engineFor(withStored, { extraGroups: [again] });
    await second.start();
    expect(await second.read('cc_batch', 'c9', { asOf: 6_000 })).toMatchObject({ found: true, values: { avg_amt_last_1w: 12.5 } });
    await second.stop();
  });

  it('retries failed polls with backoff, and fails the loop (not ready, drained rejects) when they persist', async () => {
    const spec = await setup();
    const make = async (failures: number): Promise<Engine> => {
      const file = await filePlugin.create(spec.sources.get('tx')!.options, { logger: silentLogger, baseDir: spec.baseDir, engineVersion: '0.1.0', source: spec.sources.get('tx')! });
      let left = failures;
      const flaky: Source = {
        open: (ctx) => file.open(ctx),
        finished: () => file.finished(),
        close: () => file.close(),
        poll: async (max, wait) => {
          if (left-- > 0) throw new Error('broker unreachable');
          return file.poll(max);
        },
      };
      return new Engine(spec, {
        sources: new Map([['tx', flaky]]),
        checkpointStore: new FileCheckpointStore({ dir: join(dir, `ck-${failures}`) }),
        pollRetry: { max: 3, baseMs: 5 },
      });
    };
    const recovering = await make(2);
    await recovering.start();
    await recovering.drained();
    expect(recovering.stats().sources['tx']).toMatchObject({ pollErrors: 2, error: null, applied: 5 });
    expect(recovering.isReady()).toBe(true);
    await recovering.stop();
    const failing = await make(100);
    await failing.start();
    await expect(failing.drained()).rejects.toThrow('broker unreachable');
    expect(failing.isReady()).toBe(false);
    expect(failing.stats().sources['tx']).toMatchObject({ pollErrors: 4, error: 'broker unreachable' });
    await failing.stop();
  });
});
