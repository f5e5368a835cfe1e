import { describe, it, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import type { Position, SplitState } from '../../core/contracts/position.js';
import type { Source, SourceContext, SourceRecord } from '../../core/contracts/source.js';
import type { SourceSpec } from '../../core/model.js';
import { call, check, ConformanceError, show } from './failure.js';
import { caseTitle, uniqueName, type ConformanceCase } from './case.js';
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
  /**
   * Only for backends that assign positions when data is written (Kinesis sequence numbers): each
   * server-assigned token that occurs in `positions`, mapped to the id of the event the backend had
   * assigned it to. Replaying the fixture onto a freshly written data set, the kit replaces each token
   * in the positions by the token the backend assigned to the same event this time (see
   * `SourceConformanceContext.assignedTokens`); everything around the tokens — split ids, the shape
   * of each position — stays exactly as the old version wrote it, so that is what must still decode.
   * `recordSourceCheckpointFixture` fills it in.
   */
  readonly assigned?: Readonly<Record<string, string>>;
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
  /**
   * Declare this only when the adapter has exactly one split per process, so there is no split set to
   * spread over more or fewer instances (a push source's write-ahead log lives in one daemon). The
   * rescale case then reports itself not applicable with `reason`, and checks the declaration instead:
   * the context must declare `splits: 1`, and one instance must deliver every event exactly once, all
   * from a single split id.
   */
  readonly singleSplit?: { readonly reason: string };
  /**
   * Only for backends that assign positions when data is written (a Kinesis sequence number, a log
   * offset chosen by a server): the token the backend assigned to each event of `dataset`, by event id.
   * Recorded fixtures then name which event each token stood for, and are replayed onto a fresh data
   * set by substituting the tokens assigned this time. Leave it out when positions are a function of
   * the data alone (Kafka offsets of a fresh topic, byte offsets of a file).
   */
  assignedTokens?(dataset: unknown): Promise<Readonly<Record<string, string>>> | Readonly<Record<string, string>>;
  /**
   * The version of the adapter under test. When given, the previous-codec case also requires a fixture
   * recorded by this version and checks that this code still writes exactly that checkpoint (so a
   * changed position format cannot ship without a new version and a new fixture, which the next
   * version then checks).
   */
  readonly version?: string;
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
async function withDataRoot<T>(fn: (root: string) => Promise<T>): Promise<T> {
  const root = mkdtempSync(join(tmpdir(), 'fenestra-kit-'));
  try {
    return await fn(root);
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

/**
 * Opens one instance (0 of 1) restored at `restored`, reads until `expected` events arrived (or the
 * source finished), closes it, and returns what it delivered.
 */
async function readAll(caseId: string, ctx: SourceConformanceContext, dataset: unknown, dataRoot: string, restored: readonly SplitState[],
  expected: number): Promise<Delivered[]> {
  const r = await Reader.open(caseId, ctx, dataset, dataRoot, { instance: 0, instances: 1 }, new PhaseCheckpoint(restored));
  try {
    await drain(caseId, ctx, [r], expected, 0);
  } finally {
    await r.close();
  }
  return r.delivered;
}

function label(e: ConformanceEvent): string {
  return `event ${e.id} (split index ${e.split}, seq ${e.seq})`;
}

/** Checks that `phases` together delivered every event exactly once, naming what was lost or duplicated. */
function checkExactlyOnce(caseId: string, events: readonly ConformanceEvent[], phases: ReadonlyArray<{ name: string; delivered: readonly Delivered[] }>,
  where: string, lostHint: (lost: readonly ConformanceEvent[]) => string = () => ''): void {
  const seen = new Map<string, string>();
  for (const phase of phases) {
    for (const d of phase.delivered) {
      const prev = seen.get(d.event.id);
      check(prev === undefined, caseId, () => `${label(d.event)} was delivered twice: ${prev} and again ${phase.name} (${where})`);
      seen.set(d.event.id, `${phase.name} (split ${d.record.split}, position ${show(d.record.position)})`);
    }
  }
  const lost = events.filter((e) => !seen.has(e.id));
  check(lost.length === 0, caseId, () => `${lost.length} event(s) were lost ${where}: ${lost.slice(0, 5).map(label).join(', ')}${lost.length > 5 ? ', ...' : ''} were never delivered${lostHint(lost)}`);
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
    const delivered = await readAll(id, ctx, ds, root, [], events.length);
    checkSplitOrder(id, delivered);
    checkExactlyOnce(id, events, [{ name: 'in the single read', delivered }], 'in a read without restore');
  }),
};

/**
 * **Snapshot → close → restore loses and duplicates nothing.**
 * Purpose: recovery seeks each split to the checkpointed position; a position must name exactly the
 * next record, and the source must resume there — not where it stopped handing records out.
 * Steps: write `splits` × 30 events; read about 40% of them in small polls; take the positions of the
 * last record delivered per split (through JSON, as the checkpoint stores them) and report them with
 * `checkpointed()`, as the runtime does once a checkpoint is durable; read about 10% more (records
 * handed out after the checkpoint: a crash now loses their effect); close; open a new source with the
 * checkpoint's positions as `restored`; read to the end.
 * Pass: the events up to the checkpoint plus the events after restore are every event exactly once
 * (so each record handed out after the checkpoint is delivered again after restore), in split order
 * in each phase.
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
    const tail = Math.max(1, Math.floor(events.length * 0.1));
    const timeoutMs = ctx.timeoutMs ?? 20_000;
    let restored: SplitState[] = [];
    let applied = 0;
    try {
      let deadline = Date.now() + timeoutMs;
      while (first.delivered.length < target) {
        await first.pollOnce(5, 50);
        if (Date.now() > deadline) throw new ConformanceError(id, `after ${timeoutMs} ms only ${first.delivered.length} of ${events.length} events were delivered`);
      }
      restored = before.snapshot();
      applied = first.delivered.length;
      const durable = Object.fromEntries(restored.map((s) => [s.id, s.position]));
      await call(id, `checkpointed(${show(durable)})`, () => first.source.checkpointed?.(durable));
      deadline = Date.now() + timeoutMs;
      while (first.delivered.length < applied + tail) {
        await first.pollOnce(5, 50);
        if (Date.now() > deadline) {
          throw new ConformanceError(id, `after the checkpoint at ${show(durable)}, ${first.delivered.length - applied} more event(s) were delivered in ${timeoutMs} ms (${events.length - applied} were left)`);
        }
      }
    } finally {
      await first.close();
    }
    const second = await Reader.open(id, ctx, ds, root, { instance: 0, instances: 1 }, new PhaseCheckpoint(restored));
    try {
      await drain(id, ctx, [second], events.length, applied);
    } finally {
      await second.close();
    }
    const at = show(Object.fromEntries(restored.map((s) => [s.id, s.position])));
    checkSplitOrder(id, first.delivered);
    checkSplitOrder(id, second.delivered);
    const handedOutAfter = new Set(first.delivered.slice(applied).map((d) => d.event.id));
    checkExactlyOnce(id, events, [
      { name: 'before the snapshot', delivered: first.delivered.slice(0, applied) },
      { name: 'after restore', delivered: second.delivered },
    ], `across restore at ${at}`, (lost) => {
      const tail = lost.filter((e) => handedOutAfter.has(e.id)).length;
      if (tail === 0) return '';
      return tail === handedOutAfter.size && tail === lost.length
        ? ` — exactly the ${tail} event(s) handed out after the checkpoint, before the close: the source resumed where it had stopped, not at the restored position`
        : ` (${tail} of them had been handed out after the checkpoint, before the close)`;
    });
  }),
};

/** The rescale case for a source that declared `singleSplit`: the declaration is checked, not trusted. */
async function checkSingleSplit(id: string, ctx: SourceConformanceContext, reason: string): Promise<void> {
  check(ctx.splits === 1, id, () => `the context declares singleSplit ("${reason}") but spreads the kit's events over ${ctx.splits} splits; only an adapter with one split per process may declare it`);
  await withDataRoot(async (root) => {
    const events = standardEvents(1, 24);
    const ds = await call(id, 'writeData()', () => ctx.writeData(uniqueName('single'), events));
    const delivered = await readAll(id, ctx, ds, root, [], events.length);
    const ids = [...new Set(delivered.map((d) => d.record.split))];
    check(ids.length <= 1, id, () => `the context declares singleSplit ("${reason}"), but one instance delivered records of ${ids.length} splits ${show(ids)}`);
    checkSplitOrder(id, delivered);
    checkExactlyOnce(id, events, [{ name: 'on the single instance', delivered }], 'on the single instance of a single-split source');
  });
}

/**
 * **Restoring onto more or fewer instances covers every split.**
 * Purpose: a restart may run a different number of instances (a rebalance, a scale-up); the splits,
 * partitioned differently, must still resume exactly where the checkpoint left them, and every split
 * must be owned by some instance in every phase.
 * Steps: write `splits` × 24 events; run 2 instances until every split index has delivered at least 8
 * of its events; take the checkpoint (the last applied position per split, whichever instance applied
 * it); close; restore onto 3 instances (each given the whole checkpoint) until every split index has
 * delivered at least 16; checkpoint; close; restore onto 1 instance and read to the end. Within a phase
 * the instances share the checkpoint as the runtime's store is shared: a consumer-group source that
 * moves a split between instances gets its latest position from `onAssigned`, and must not deliver a
 * split after `onRevoked`.
 * Pass: in each phase every split progresses (a split no instance owns fails the phase, naming it);
 * across the three phases every event is delivered exactly once (two instances reading one split would
 * deliver it twice), in split order within each instance.
 * Not applicable to a source that declares `singleSplit` (one split per process): the declaration is
 * checked instead (see `SourceConformanceContext.singleSplit`).
 */
export const sourceRescaleRestore: ConformanceCase<SourceConformanceContext> = {
  id: 'source/restore-onto-more-or-fewer-instances',
  title: 'restoring onto more or fewer instances covers every split exactly once',
  notApplicable: (ctx) => ctx.singleSplit === undefined ? undefined : ctx.singleSplit.reason,
  run: async (ctx) => {
    const id = 'source/restore-onto-more-or-fewer-instances';
    if (ctx.singleSplit !== undefined) return checkSingleSplit(id, ctx, ctx.singleSplit.reason);
    check(ctx.splits >= 2, id, () => `context declares ${ctx.splits} split(s); the rescale case needs at least 2 (an adapter with one split per process declares singleSplit with the reason)`);
    await withDataRoot(async (root) => {
      const perSplit = 24;
      const events = standardEvents(ctx.splits, perSplit);
      const ds = await call(id, 'writeData()', () => ctx.writeData(uniqueName('rescale'), events));
      const phases: Array<{ name: string; delivered: Delivered[] }> = [];
      let restored: SplitState[] = [];
      const restoredAt: string[] = [];
      const plan = [
        { instances: 2, upTo: perSplit / 3 },
        { instances: 3, upTo: (perSplit * 2) / 3 },
        { instances: 1, upTo: perSplit },
      ];
      const timeoutMs = ctx.timeoutMs ?? 20_000;
      let before = 0;
      for (const step of plan) {
        const readers: Reader[] = [];
        const checkpoint = new PhaseCheckpoint(restored);
        for (let i = 0; i < step.instances; i++) readers.push(await Reader.open(id, ctx, ds, root, { instance: i, instances: step.instances }, checkpoint));
        try {
          if (step.upTo === perSplit) {
            await drain(id, ctx, readers, events.length, before);
          } else {
            const count = (split: number): number =>
              [...phases.map((p) => p.delivered), ...readers.map((r) => r.delivered)].reduce((n, ds2) => n + ds2.filter((d) => d.event.split === split).length, 0);
            const short = (): number[] => Array.from({ length: ctx.splits }, (_, s) => s).filter((s) => count(s) < step.upTo);
            const deadline = Date.now() + timeoutMs;
            while (short().length > 0) {
              for (const r of readers) await r.pollOnce(3, 30);
              if (Date.now() > deadline) {
                const owners = readers.map((r, i) => `instance ${i} delivered split ids ${show([...new Set(r.delivered.map((d) => d.record.split))])}`).join(', ');
                throw new ConformanceError(id, `on ${step.instances} instances, split index(es) ${short().map((s) => `${s} (${count(s)} of the ${step.upTo} events this phase waits for)`).join(', ')} did not progress in ${timeoutMs} ms: no instance reads them (${owners})`);
              }
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
    });
  },
};

/**
 * `json` with each server-assigned token that occurs in it replaced by `by(token, eventId)`, longest
 * token first (so a token that is part of a longer one never breaks the longer one).
 */
function replaceTokens(json: string, assigned: Readonly<Record<string, string>>, by: (token: string, eventId: string) => string): string {
  for (const [token, eventId] of Object.entries(assigned).sort(([a], [b]) => b.length - a.length)) {
    if (json.includes(token)) json = json.split(token).join(by(token, eventId));
  }
  return json;
}

/** Positions as an order-independent string, server-assigned tokens replaced by the event they stood for. */
function positionTemplate(positions: Readonly<Record<string, Position>>, assigned: Readonly<Record<string, string>> | undefined): string {
  const json = JSON.stringify(Object.fromEntries(Object.entries(positions).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
  return replaceTokens(json, assigned ?? {}, (_, eventId) => `<token of ${eventId}>`);
}

/**
 * The fixture's positions as they apply to a freshly written data set: unchanged, or with each
 * server-assigned token replaced by the token the backend assigned to the same event this time.
 */
async function fixturePositions(id: string, ctx: SourceConformanceContext, fx: SourceCheckpointFixture, ds: unknown): Promise<Record<string, Position>> {
  const entries = Object.entries(fx.assigned ?? {});
  if (entries.length === 0) return { ...fx.positions };
  check(ctx.assignedTokens !== undefined, id, () => `the version ${fx.version} fixture names server-assigned tokens, but the context has no assignedTokens() to map them onto a fresh data set`);
  const now = await call(id, 'assignedTokens()', () => ctx.assignedTokens!(ds));
  const out: Record<string, Position> = {};
  for (const [split, position] of Object.entries(fx.positions)) {
    out[split] = JSON.parse(replaceTokens(JSON.stringify(position), fx.assigned!, (_, eventId) => {
      const fresh = now[eventId];
      check(fresh !== undefined, id, () => `assignedTokens() names no token for event ${eventId}, which the version ${fx.version} fixture's position of split ${split} refers to`);
      return fresh;
    })) as Position;
  }
  for (const [token, eventId] of entries) {
    check(Object.values(fx.positions).some((p) => JSON.stringify(p).includes(token)), id,
      () => `the version ${fx.version} fixture maps token ${token} to event ${eventId}, but no position contains it: the fixture is damaged`);
  }
  return out;
}

/**
 * **A checkpoint written by the previous codec version still decodes.**
 * Purpose: an upgrade must resume from the checkpoint the old version wrote; changing the position
 * format silently would replay or skip data.
 * Steps: for each stored fixture, write the kit's standard data set of its shape; open a source with the
 * fixture's positions as `restored` (server-assigned tokens mapped onto the new data set, see
 * `SourceCheckpointFixture.assigned`); read to the end. When the context declares its `version`, also:
 * a fixture of that version must be stored, and recording one now at the same point must give the same
 * positions.
 * Pass: for each fixture and split index i exactly the events with seq ≥ consumed[i] are delivered,
 * once each, in order; the running version's fixture is present and is what this code writes. Fails
 * when the context supplies no fixture.
 */
export const sourcePreviousCodecDecodes: ConformanceCase<SourceConformanceContext> = {
  id: 'source/previous-codec-checkpoint-decodes',
  title: 'a checkpoint written by the previous codec version still decodes',
  run: (ctx) => withDataRoot(async (root) => {
    const id = 'source/previous-codec-checkpoint-decodes';
    const fixtures = ctx.fixtures;
    check(fixtures.length > 0, id, () => 'the context supplies no checkpoint fixture: record one with recordSourceCheckpointFixture() and store it with the tests');
    const current = ctx.version === undefined ? undefined : fixtures.find((f) => f.version === ctx.version);
    check(ctx.version === undefined || current !== undefined, id,
      () => `no fixture was recorded by version ${ctx.version} (the version under test; stored: ${show(fixtures.map((f) => f.version))}): record it with recordSourceCheckpointFixture(ctx, "${ctx.version}", ...) and store it with the tests, so that the next version checks it`);
    for (const [k, fx] of fixtures.entries()) {
      const events = standardEvents(fx.splits, fx.perSplit);
      const ds = await call(id, 'writeData()', () => ctx.writeData(uniqueName(`fixture_${fx.version.replace(/\W/g, '_')}`), events));
      const positions = await fixturePositions(id, ctx, fx, ds);
      const restored: SplitState[] = Object.entries(positions).map(([sid, position]) => ({ id: sid, position }));
      const expected = events.filter((e) => e.seq >= (fx.consumed[String(e.split)] ?? 0));
      const delivered = await readAll(id, ctx, ds, join(root, `fixture-${k}`), restored, expected.length);
      for (const d of delivered) {
        const consumed = fx.consumed[String(d.event.split)] ?? 0;
        check(d.event.seq >= consumed, id, () => `after restoring the version ${fx.version} checkpoint (positions ${show(positions)}), ${label(d.event)} was delivered again although that checkpoint had consumed ${consumed} event(s) of split index ${d.event.split}`);
      }
      checkSplitOrder(id, delivered);
      checkExactlyOnce(id, expected, [{ name: `after restoring the version ${fx.version} checkpoint`, delivered }],
        `across restore at the version ${fx.version} positions ${show(positions)}`);
    }
    if (current !== undefined) {
      check(current.splits === ctx.splits, id, () => `the version ${current.version} fixture has ${current.splits} splits, the context ${ctx.splits}: record it again with this context`);
      const now = await recordSourceCheckpointFixture(ctx, current.version, current.perSplit, current.consumed);
      const stored = positionTemplate(current.positions, current.assigned);
      const written = positionTemplate(now.positions, now.assigned);
      check(stored === written, id,
        () => `version ${current.version}'s stored fixture holds positions ${stored}, but this code writes ${written} at the same point: the checkpoint format changed without a new version (keep the stored fixture, give the change a new version and record a fixture for it)`);
    }
  }),
};

/**
 * Reads the standard data set with the current adapter until `consumed[i]` events of each split index
 * were delivered and returns the fixture (positions as the checkpoint stores them, and for backends that
 * assign positions at write time, which event each assigned token in them stood for). Store its JSON
 * with your tests when you release a version (`writeSourceCheckpointFixture`); the kit replays it in
 * every later version.
 */
export async function recordSourceCheckpointFixture(ctx: SourceConformanceContext, version: string, perSplit: number,
  consumed: Readonly<Record<string, number>>): Promise<SourceCheckpointFixture> {
  const id = 'source/record-fixture';
  const events = standardEvents(ctx.splits, perSplit);
  const ds = await ctx.writeData(uniqueName('record'), events);
  const delivered = await withDataRoot((root) => readAll(id, ctx, ds, root, [], events.length));
  const positions: Record<string, Position> = {};
  const counts = new Map<number, number>();
  for (const d of delivered) {
    const n = (counts.get(d.event.split) ?? 0) + 1;
    counts.set(d.event.split, n);
    if (n === (consumed[String(d.event.split)] ?? 0)) positions[d.record.split] = d.record.position;
  }
  const assigned: Record<string, string> = {};
  if (ctx.assignedTokens !== undefined) {
    const tokens = await ctx.assignedTokens(ds);
    const json = Object.values(positions).map((p) => JSON.stringify(p));
    for (const [eventId, token] of Object.entries(tokens)) {
      if (token !== '' && json.some((j) => j.includes(token))) assigned[token] = eventId;
    }
  }
  return { version, splits: ctx.splits, perSplit, positions, consumed, ...(Object.keys(assigned).length > 0 ? { assigned } : {}) };
}

function fixtureFileName(prefix: string, version: string): string {
  return `${prefix}-checkpoint-${version}.json`;
}

/**
 * Every stored fixture `<prefix>-checkpoint-<version>.json` in `dir`, oldest version first: pass them
 * all as `fixtures`, so each version keeps checking the checkpoints of every version before it.
 */
export function readSourceCheckpointFixtures(dir: string | URL, prefix: string): SourceCheckpointFixture[] {
  const path = typeof dir === 'string' ? dir : fileURLToPath(dir);
  if (!existsSync(path)) return [];
  const head = `${prefix}-checkpoint-`;
  const out = readdirSync(path)
    .filter((n) => n.startsWith(head) && n.endsWith('.json') && semver.valid(n.slice(head.length, -'.json'.length)) !== null)
    .map((n) => {
      const fx = JSON.parse(readFileSync(join(path, n), 'utf8')) as SourceCheckpointFixture;
      if (fx.version !== n.slice(head.length, -'.json'.length)) throw new Error(`fixture ${n} holds version ${fx.version}`);
      return fx;
    });
  return out.sort((a, b) => semver.compare(a.version, b.version));
}

/**
 * Stores `fixture` as `<dir>/<prefix>-checkpoint-<version>.json` and returns the path. A fixture is kept
 * forever once stored: this refuses to replace a stored one with different content.
 */
export function writeSourceCheckpointFixture(dir: string | URL, prefix: string, fixture: SourceCheckpointFixture): string {
  const path = join(typeof dir === 'string' ? dir : fileURLToPath(dir), fixtureFileName(prefix, fixture.version));
  const text = `${JSON.stringify(fixture, null, 2)}\n`;
  if (existsSync(path)) {
    const old = readFileSync(path, 'utf8');
    if (old !== text) throw new Error(`${path} already holds version ${fixture.version}'s fixture with other content; stored fixtures are never replaced (give the change a new version)`);
    return path;
  }
  writeFileSync(path, text);
  return path;
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
    for (const c of sourceCases) it(caseTitle(c, ctx), () => c.run(ctx));
  });
}
