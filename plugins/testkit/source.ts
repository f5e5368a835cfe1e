import { describe, it, beforeAll, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Position, SplitState } from '../../core/contracts/position.js';
import type { Source, SourceContext, SourceRecord } from '../../core/contracts/source.js';
import type { SourceSpec } from '../../core/model.js';
import { call, check, ConformanceError, show } from './failure.js';
import { uniqueName, type ConformanceCase } from './case.js';
import { testLogger } from './logger.js';

/**
 * One test event the kit asks the backend to hold. `split` is the split *index* (0 … splits−1) the
 * context must put it in (a partition, a shard, a file); `seq` is its order within that split.
 */
export interface ConformanceEvent {
  readonly id: string;
  readonly split: number;
  readonly seq: number;
  readonly key: string;
  readonly ts: number;
  readonly amount: number;
}

/** Which share of the splits one source instance owns when the kit runs several at once. */
export interface SourceAssignment {
  readonly instance: number;
  readonly instances: number;
}

/**
 * A checkpoint written by an earlier version of the adapter, stored with the author's tests:
 * the positions that version emitted after consuming `consumed[i]` events of split index i of the
 * kit's standard data set (`standardEvents(splits, perSplit)`). Record one with
 * `recordSourceCheckpointFixture` when a version ships, and keep it forever.
 */
export interface SourceCheckpointFixture {
  /** The adapter version (or position codec version) that wrote it, e.g. "1.0.0". */
  readonly version: string;
  readonly splits: number;
  readonly perSplit: number;
  /** The positions as the checkpoint stored them: split id → position. */
  readonly positions: Readonly<Record<string, Position>>;
  /** Split index → events of that split consumed before the checkpoint. */
  readonly consumed: Readonly<Record<string, number>>;
}

/** What a source author supplies to run the kit against a real backend. */
export interface SourceConformanceContext {
  /** How many splits the kit spreads its events over (at least 2; 3 or more exercises rescaling better). */
  readonly splits: number;
  /** Start the backend (once). A backend that cannot start must throw saying what is missing. */
  setup?(): Promise<void>;
  /** Stop the backend (once). */
  teardown?(): Promise<void>;
  /**
   * Create a fresh, isolated data set (a topic, a directory, a stream) named after `caseId`, holding
   * `events`, each in the split with index `event.split`, in `seq` order. Returns a handle that is
   * passed back to `createSource`.
   */
  writeData(caseId: string, events: readonly ConformanceEvent[]): Promise<unknown>;
  /**
   * A new, not yet opened source over the data set. With `assignment` the instance must own only its
   * share of the splits (instance i of n), so that the n instances together own every split exactly
   * once; for the rescale case the kit runs 2 instances, then 3, then 1. The `dataDir` the kit passes
   * to `open` is the same directory for the same instance index across restores within a case.
   */
  createSource(dataset: unknown, assignment: SourceAssignment): Source | Promise<Source>;
  /**
   * Turn a record's `value` into the kit's event; default: a JSON object as it is, or bytes/a string
   * parsed as JSON.
   */
  decode?(value: unknown): ConformanceEvent;
  /** Bounded sources (files) report `finished()`; unbounded ones are read until every event arrived. */
  readonly bounded: boolean;
  /** Checkpoints written by earlier versions of the adapter (at least one: the current version's). */
  readonly fixtures: readonly SourceCheckpointFixture[];
  /** How long to wait for events before declaring them lost (default 20 s). */
  readonly timeoutMs?: number;
}

/** The kit's deterministic data set: `perSplit` events in each of `splits` splits. */
export function standardEvents(splits: number, perSplit: number): ConformanceEvent[] {
  const out: ConformanceEvent[] = [];
  const t0 = Date.UTC(2026, 0, 1);
  for (let s = 0; s < splits; s++) {
    for (let q = 0; q < perSplit; q++) {
      out.push({ id: `s${s}-e${q}`, split: s, seq: q, key: `card-${(s * 7 + q) % 5}`, ts: t0 + q * 1000 + s, amount: q + s / 10 });
    }
  }
  return out;
}

/** The SourceSpec the kit opens sources with (fields of ConformanceEvent). */
export function conformanceSourceSpec(name: string, type: string): SourceSpec {
  return {
    name, type, entity: 'card', keyField: 'key', eventTimeField: 'ts', allowedLateness: 0, exactlyOnce: true, options: {},
    fields: [
      { name: 'id', type: 'string', optional: false },
      { name: 'split', type: 'int', optional: false },
      { name: 'seq', type: 'int', optional: false },
      { name: 'key', type: 'string', optional: false },
      { name: 'ts', type: 'timestamp', optional: false },
      { name: 'amount', type: 'double', optional: false },
    ],
  };
}

function defaultDecode(value: unknown): ConformanceEvent {
  if (value instanceof Uint8Array) return JSON.parse(Buffer.from(value).toString('utf8')) as ConformanceEvent;
  if (typeof value === 'string') return JSON.parse(value) as ConformanceEvent;
  return value as ConformanceEvent;
}

interface Delivered {
  readonly record: SourceRecord;
  readonly event: ConformanceEvent;
}

/**
 * The checkpoint the instances of one phase share, as the runtime's checkpoint store is shared: it
 * starts from the restored positions and holds the position of the last record applied per split,
 * whichever instance applied it. Rebalance hooks read it (`onAssigned` returns it for the splits
 * assigned), so a split that moves between instances mid-phase resumes where the other one stopped.
 */
class PhaseCheckpoint {
  readonly positions: Map<string, Position>;
  constructor(restored: readonly SplitState[]) {
    this.positions = new Map(restored.map((s) => [s.id, s.position] as const));
  }

  /** As stored by a checkpoint: JSON round-tripped. */
  snapshot(): SplitState[] {
    return JSON.parse(JSON.stringify([...this.positions].map(([id, position]) => ({ id, position })))) as SplitState[];
  }

  describe(): string {
    return show(Object.fromEntries(this.positions));
  }
}

/** One opened source instance plus what it has delivered. */
class Reader {
  readonly delivered: Delivered[] = [];
  /** Splits this instance gave up through `onRevoked`: delivering one of them afterwards is a fault. */
  private readonly revoked = new Set<string>();
  private constructor(private readonly caseId: string, readonly source: Source, private readonly decode: (v: unknown) => ConformanceEvent,
    private readonly checkpoint: PhaseCheckpoint, private readonly name: string) {}

  static async open(caseId: string, ctx: SourceConformanceContext, dataset: unknown, dataRoot: string, assignment: SourceAssignment,
    checkpoint: PhaseCheckpoint): Promise<Reader> {
    const source = await call(caseId, 'createSource()', () => ctx.createSource(dataset, assignment));
    // The same directory for the same instance index across restores: it is the source's durable space.
    const dataDir = join(dataRoot, `instance-${assignment.instance}`);
    mkdirSync(dataDir, { recursive: true });
    let reader: Reader | undefined;
    const sctx: SourceContext = {
      spec: conformanceSourceSpec(`kit_${assignment.instance}`, 'conformance'),
      restored: checkpoint.snapshot(),
      logger: testLogger({ caseId, instance: assignment.instance }),
      dataDir,
      onRevoked: async (splits) => {
        for (const s of splits) reader?.revoked.add(s);
      },
      onAssigned: async (splits) => {
        for (const s of splits) reader?.revoked.delete(s);
        return checkpoint.snapshot().filter((s) => splits.includes(s.id));
      },
    };
    reader = new Reader(caseId, source, ctx.decode ?? defaultDecode, checkpoint, `instance ${assignment.instance} of ${assignment.instances}`);
    await call(caseId, 'open()', () => source.open(sctx));
    return reader;
  }

  /** One poll of up to `max` records; records are "applied" and their positions kept, as the runtime does. */
  async pollOnce(max: number, waitMs: number): Promise<number> {
    const batch = await call(this.caseId, `poll(${max}, ${waitMs})`, () => this.source.poll(max, waitMs));
    check(Array.isArray(batch), this.caseId, () => `poll() returned ${show(batch)}, not an array`);
    check(batch.length <= max, this.caseId, () => `poll(${max}) returned ${batch.length} records, more than max`);
    for (const record of batch) {
      const p = record.position;
      check(typeof record.split === 'string' && record.split.length > 0, this.caseId, () => `a record has split ${show(record.split)}; split ids are non-empty strings`);
      check((typeof p === 'string' || (typeof p === 'number' && Number.isFinite(p))), this.caseId,
        () => `split ${record.split}: position ${show(p)} is neither a string nor a finite number (positions are stored as JSON)`);
      let event: ConformanceEvent;
      try {
        event = this.decode(record.value);
      } catch (e) {
        throw new ConformanceError(this.caseId, `split ${record.split}: record value ${show(record.value)} does not decode: ${(e as Error).message}`);
      }
      check(!this.revoked.has(record.split), this.caseId,
        () => `${this.name} delivered ${label(event)} of split ${record.split} after revoking that split (onRevoked)`);
      this.delivered.push({ record, event });
      this.checkpoint.positions.set(record.split, p);
    }
    return batch.length;
  }

  async close(): Promise<void> {
    await call(this.caseId, 'close()', () => this.source.close());
  }
}

/** Runs `fn` with a fresh directory for the sources' `dataDir`s, removed afterwards. */
async function withDataRoot(fn: (root: string) => Promise<void>): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'fenestra-kit-'));
  try {
    await fn(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Polls the readers until `expected` events arrived in total (or they are finished), then checks nothing more comes. */
async function drain(caseId: string, ctx: SourceConformanceContext, readers: readonly Reader[], expected: number, already: number): Promise<void> {
  const deadline = Date.now() + (ctx.timeoutMs ?? 20_000);
  const total = (): number => already + readers.reduce((n, r) => n + r.delivered.length, 0);
  for (;;) {
    let got = 0;
    for (const r of readers) got += await r.pollOnce(16, 50);
    if (ctx.bounded) {
      if (got === 0 && readers.every((r) => r.source.finished())) return;
    } else if (total() >= expected) {
      // Give late duplicates a chance to show up.
      for (const r of readers) await r.pollOnce(16, 200);
      return;
    }
    if (Date.now() > deadline) {
      throw new ConformanceError(caseId, `after ${ctx.timeoutMs ?? 20_000} ms only ${total()} of ${expected} events were delivered${ctx.bounded ? ' and the source is not finished()' : ''}`);
    }
  }
}

function label(e: ConformanceEvent): string {
  return `event ${e.id} (split index ${e.split}, seq ${e.seq})`;
}

/** Checks that `phases` together delivered every event exactly once, naming what was lost or duplicated. */
function checkExactlyOnce(caseId: string, events: readonly ConformanceEvent[], phases: ReadonlyArray<{ name: string; delivered: readonly Delivered[] }>,
  where: string): void {
  const seen = new Map<string, string>();
  for (const phase of phases) {
    for (const d of phase.delivered) {
      const prev = seen.get(d.event.id);
      check(prev === undefined, caseId, () => `${label(d.event)} was delivered twice: ${prev} and again ${phase.name} (${where})`);
      seen.set(d.event.id, `${phase.name} (split ${d.record.split}, position ${show(d.record.position)})`);
    }
  }
  const lost = events.filter((e) => !seen.has(e.id));
  check(lost.length === 0, caseId, () => `${lost.length} event(s) were lost ${where}: ${lost.slice(0, 5).map(label).join(', ')}${lost.length > 5 ? ', ...' : ''} were never delivered`);
  const unknown = [...seen.keys()].filter((id) => !events.some((e) => e.id === id));
  check(unknown.length === 0, caseId, () => `delivered events that were never written: ${unknown.slice(0, 5).join(', ')}`);
}

/** Checks split order: within one split id, seq increases and every event comes from one written split. */
function checkSplitOrder(caseId: string, delivered: readonly Delivered[]): void {
  const last = new Map<string, ConformanceEvent>();
  for (const d of delivered) {
    const prev = last.get(d.record.split);
    if (prev !== undefined) {
      check(prev.split === d.event.split, caseId, () => `split ${d.record.split} delivered events of two different written splits (${label(prev)} and ${label(d.event)})`);
      check(d.event.seq > prev.seq, caseId, () => `split ${d.record.split}: ${label(d.event)} came after seq ${prev.seq}; records of one split must keep their order`);
    }
    last.set(d.record.split, d.event);
  }
}

/**
 * **Order is kept per split.**
 * Purpose: per-entity lateness and versions are deterministic only if one split's records come in order.
 * Steps: write `splits` × 40 events; open one source (instance 0 of 1); poll in small batches to the end.
 * Pass: every event arrives once; within each split id the events' `seq` increases and all come from
 * the same written split; positions are strings or finite numbers.
 */
export const sourceOrderKeptPerSplit: ConformanceCase<SourceConformanceContext> = {
  id: 'source/order-kept-per-split',
  title: 'records of one split are delivered in split order',
  run: (ctx) => withDataRoot(async (root) => {
    const id = 'source/order-kept-per-split';
    const events = standardEvents(ctx.splits, 40);
    const ds = await call(id, 'writeData()', () => ctx.writeData(uniqueName('order'), events));
    const r = await Reader.open(id, ctx, ds, root, { instance: 0, instances: 1 }, new PhaseCheckpoint([]));
    try {
      await drain(id, ctx, [r], events.length, 0);
    } finally {
      await r.close();
    }
    checkSplitOrder(id, r.delivered);
    checkExactlyOnce(id, events, [{ name: 'in the single read', delivered: r.delivered }], 'in a read without restore');
  }),
};

/**
 * **Snapshot → close → restore loses and duplicates nothing.**
 * Purpose: recovery seeks each split to the checkpointed position; a position must name exactly the
 * next record.
 * Steps: write `splits` × 30 events; read about 40% of them in small polls; take the positions of the
 * last record delivered per split (through JSON, as the checkpoint stores them); close; open a new
 * source with those positions as `restored`; read to the end.
 * Pass: the two phases together deliver every event exactly once, in split order in each phase.
 */
export const sourceSnapshotRestore: ConformanceCase<SourceConformanceContext> = {
  id: 'source/snapshot-restore-exactly-once',
  title: 'snapshot → close → restore loses and duplicates nothing',
  run: (ctx) => withDataRoot(async (root) => {
    const id = 'source/snapshot-restore-exactly-once';
    const events = standardEvents(ctx.splits, 30);
    const ds = await call(id, 'writeData()', () => ctx.writeData(uniqueName('snap'), events));
    const before = new PhaseCheckpoint([]);
    const first = await Reader.open(id, ctx, ds, root, { instance: 0, instances: 1 }, before);
    const target = Math.floor(events.length * 0.4);
    const deadline = Date.now() + (ctx.timeoutMs ?? 20_000);
    try {
      while (first.delivered.length < target) {
        await first.pollOnce(5, 50);
        if (Date.now() > deadline) throw new ConformanceError(id, `after ${ctx.timeoutMs ?? 20_000} ms only ${first.delivered.length} of ${events.length} events were delivered`);
      }
    } finally {
      await first.close();
    }
    const restored = before.snapshot();
    const second = await Reader.open(id, ctx, ds, root, { instance: 0, instances: 1 }, new PhaseCheckpoint(restored));
    try {
      await drain(id, ctx, [second], events.length, first.delivered.length);
    } finally {
      await second.close();
    }
    checkSplitOrder(id, first.delivered);
    checkSplitOrder(id, second.delivered);
    checkExactlyOnce(id, events, [
      { name: 'before the snapshot', delivered: first.delivered },
      { name: 'after restore', delivered: second.delivered },
    ], `across restore at ${show(Object.fromEntries(restored.map((s) => [s.id, s.position])))}`);
  }),
};

/**
 * **Restoring onto more or fewer instances covers every split.**
 * Purpose: a restart may run a different number of instances (a rebalance, a scale-up); the splits,
 * partitioned differently, must still resume exactly where the checkpoint left them.
 * Steps: write `splits` × 24 events; run 2 instances, reading about a third; take the checkpoint (the
 * last applied position per split, whichever instance applied it); close; restore onto 3 instances
 * (each given the whole checkpoint) and read to about two thirds; checkpoint; close; restore onto
 * 1 instance and read to the end. Within a phase the instances share the checkpoint as the runtime's
 * store is shared: a consumer-group source that moves a split between instances gets its latest
 * position from `onAssigned`, and must not deliver a split after `onRevoked`.
 * Pass: across the three phases every event is delivered exactly once (two instances reading one
 * split would deliver it twice), in split order within each instance.
 */
export const sourceRescaleRestore: ConformanceCase<SourceConformanceContext> = {
  id: 'source/restore-onto-more-or-fewer-instances',
  title: 'restoring onto more or fewer instances covers every split exactly once',
  run: (ctx) => withDataRoot(async (root) => {
    const id = 'source/restore-onto-more-or-fewer-instances';
    check(ctx.splits >= 2, id, () => `context declares ${ctx.splits} split(s); the rescale case needs at least 2`);
    const events = standardEvents(ctx.splits, 24);
    const ds = await call(id, 'writeData()', () => ctx.writeData(uniqueName('rescale'), events));
    const phases: Array<{ name: string; delivered: Delivered[] }> = [];
    let restored: SplitState[] = [];
    const restoredAt: string[] = [];
    const plan = [
      { instances: 2, until: Math.floor(events.length / 3) },
      { instances: 3, until: Math.floor((events.length * 2) / 3) },
      { instances: 1, until: events.length },
    ];
    let before = 0;
    for (const step of plan) {
      const readers: Reader[] = [];
      const checkpoint = new PhaseCheckpoint(restored);
      for (let i = 0; i < step.instances; i++) readers.push(await Reader.open(id, ctx, ds, root, { instance: i, instances: step.instances }, checkpoint));
      try {
        if (step.until === events.length) {
          await drain(id, ctx, readers, events.length, before);
        } else {
          const deadline = Date.now() + (ctx.timeoutMs ?? 20_000);
          while (before + readers.reduce((n, r) => n + r.delivered.length, 0) < step.until) {
            for (const r of readers) await r.pollOnce(3, 30);
            if (Date.now() > deadline) throw new ConformanceError(id, `on ${step.instances} instances, after ${ctx.timeoutMs ?? 20_000} ms only ${before + readers.reduce((n, r) => n + r.delivered.length, 0)} of ${events.length} events were delivered`);
          }
        }
      } finally {
        for (const r of readers) await r.close();
      }
      readers.forEach((r, i) => {
        checkSplitOrder(id, r.delivered);
        phases.push({ name: `on instance ${i} of ${step.instances}`, delivered: r.delivered });
        before += r.delivered.length;
      });
      restored = checkpoint.snapshot();
      restoredAt.push(`the checkpoint after ${step.instances} instance(s) ${checkpoint.describe()}`);
    }
    checkExactlyOnce(id, events, phases, `across restores (${restoredAt.join('; ')})`);
  }),
};

/**
 * **A checkpoint written by the previous codec version still decodes.**
 * Purpose: an upgrade must resume from the checkpoint the old version wrote; changing the position
 * format silently would replay or skip data.
 * Steps: for each stored fixture, write the kit's standard data set of its shape; open a source with the
 * fixture's positions as `restored`; read to the end.
 * Pass: for each split index i exactly the events with seq ≥ consumed[i] are delivered, once each,
 * in order. Fails when the context supplies no fixture.
 */
export const sourcePreviousCodecDecodes: ConformanceCase<SourceConformanceContext> = {
  id: 'source/previous-codec-checkpoint-decodes',
  title: 'a checkpoint written by the previous codec version still decodes',
  run: (ctx) => withDataRoot(async (root) => {
    const id = 'source/previous-codec-checkpoint-decodes';
    check(ctx.fixtures.length > 0, id, () => 'the context supplies no checkpoint fixture: record one with recordSourceCheckpointFixture() and store it with the tests');
    for (const fx of ctx.fixtures) {
      const events = standardEvents(fx.splits, fx.perSplit);
      const ds = await call(id, 'writeData()', () => ctx.writeData(uniqueName(`fixture_${fx.version.replace(/\W/g, '_')}`), events));
      const restored: SplitState[] = Object.entries(fx.positions).map(([sid, position]) => ({ id: sid, position }));
      const r = await Reader.open(id, ctx, ds, root, { instance: 0, instances: 1 }, new PhaseCheckpoint(restored));
      const expected = events.filter((e) => e.seq >= (fx.consumed[String(e.split)] ?? 0));
      try {
        await drain(id, ctx, [r], expected.length, 0);
      } finally {
        await r.close();
      }
      for (const d of r.delivered) {
        const consumed = fx.consumed[String(d.event.split)] ?? 0;
        check(d.event.seq >= consumed, id, () => `after restoring the version ${fx.version} checkpoint (positions ${show(fx.positions)}), ${label(d.event)} was delivered again although that checkpoint had consumed ${consumed} event(s) of split index ${d.event.split}`);
      }
      checkSplitOrder(id, r.delivered);
      checkExactlyOnce(id, expected, [{ name: `after restoring the version ${fx.version} checkpoint`, delivered: r.delivered }],
        `across restore at the version ${fx.version} positions ${show(fx.positions)}`);
    }
  }),
};

/**
 * Reads the standard data set with the current adapter until `consumed[i]` events of each split index
 * were delivered and returns the fixture (positions as the checkpoint stores them). Store its JSON with
 * your tests when you release a version; the kit replays it in every later version.
 */
export async function recordSourceCheckpointFixture(ctx: SourceConformanceContext, version: string, perSplit: number,
  consumed: Readonly<Record<string, number>>): Promise<SourceCheckpointFixture> {
  const id = 'source/record-fixture';
  const events = standardEvents(ctx.splits, perSplit);
  const ds = await ctx.writeData(uniqueName('record'), events);
  const root = mkdtempSync(join(tmpdir(), 'fenestra-kit-'));
  const r = await Reader.open(id, ctx, ds, root, { instance: 0, instances: 1 }, new PhaseCheckpoint([]));
  const positions: Record<string, Position> = {};
  const counts = new Map<number, number>();
  try {
    await drain(id, ctx, [r], events.length, 0);
  } finally {
    await r.close();
    rmSync(root, { recursive: true, force: true });
  }
  for (const d of r.delivered) {
    const n = (counts.get(d.event.split) ?? 0) + 1;
    counts.set(d.event.split, n);
    if (n === (consumed[String(d.event.split)] ?? 0)) positions[d.record.split] = d.record.position;
  }
  return { version, splits: ctx.splits, perSplit, positions, consumed };
}

/** Every source case, in the order `describeSourceConformance` registers them. */
export const sourceCases: readonly ConformanceCase<SourceConformanceContext>[] = [
  sourceOrderKeptPerSplit,
  sourceSnapshotRestore,
  sourceRescaleRestore,
  sourcePreviousCodecDecodes,
];

/** Registers the source conformance suite as a vitest `describe` block in the caller's test file. */
export function describeSourceConformance(name: string, ctx: SourceConformanceContext): void {
  describe(`source conformance: ${name}`, () => {
    beforeAll(async () => { await ctx.setup?.(); });
    afterAll(async () => { await ctx.teardown?.(); });
    for (const c of sourceCases) it(c.title, () => c.run(ctx));
  });
}
