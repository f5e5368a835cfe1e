/**
 * The split-ownership protocol (core/runtime/split-ownership.ts) through two real Engines sharing a
 * directory registry, with a source whose splits a test "consumer group" assigns and revokes (as the
 * Kafka source does through its rebalance hooks): a revoked split moves to the peer with its entities
 * and position, several splits taken from one peer at once, the giver drops them only after the
 * taker's claim, and a claim whose checkpoint does not hold the split is refused with
 * SPLIT_HANDOFF_FAILED naming where it looked.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DirectorySplitRegistry } from '../../../core/checkpoint/index.js';
import type { SplitState } from '../../../core/contracts/position.js';
import type { Source, SourceContext, SourceRecord } from '../../../core/contracts/source.js';
import { Engine } from '../../../core/runtime/engine.js';
import { cardSpec, type Tx } from '../../integration/online/support/card-spec.js';

/** A source over fixed per-split arrays; which splits it reads is decided by `assign` / `revoke`. */
class CoordinatedSource implements Source {
  readonly assignsSplits = true;
  private ctx: SourceContext | undefined;
  private readonly next = new Map<string, number>();

  constructor(private readonly data: ReadonlyMap<string, readonly Tx[]>) {}

  async open(ctx: SourceContext): Promise<void> {
    this.ctx = ctx;
    expect(ctx.restored, 'moving splits get their positions from onAssigned only').toEqual([]);
  }

  async assign(splits: readonly string[]): Promise<readonly SplitState[]> {
    const positions = await this.ctx!.onAssigned(splits);
    for (const s of splits) this.next.set(s, Number(positions.find((p) => p.id === s)?.position ?? 0));
    return positions;
  }

  async revoke(splits: readonly string[]): Promise<void> {
    for (const s of splits) this.next.delete(s);
    await this.ctx!.onRevoked(splits);
  }

  async poll(max: number): Promise<readonly SourceRecord[]> {
    const out: SourceRecord[] = [];
    for (const [split, at] of this.next) {
      const events = this.data.get(split) ?? [];
      let i = at;
      for (; i < events.length && out.length < max; i++) out.push({ split, position: i + 1, value: events[i] });
      this.next.set(split, i);
    }
    return out;
  }

  finished(): boolean {
    return false;
  }

  async close(): Promise<void> {}
}

const T0 = 1_700_000_000_000;
/** Split s holds cards `s-0`..`s-4`, 20 events each split, one second apart. */
const DATA = new Map(
  ['0', '1', '2'].map((s) => [s, Array.from({ length: 20 }, (_, i): Tx => ({ cc_num: `${s}-${i % 5}`, amt: 10 * (i + 1), trans_time: T0 + i * 1000 }))]),
);
const AS_OF = T0 + 60_000;

let root: string;
const engines: Engine[] = [];
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'fenestra-ownership-'));
});
afterEach(async () => {
  for (const e of engines.splice(0)) await e.stop().catch(() => undefined);
  await rm(root, { recursive: true, force: true });
});

async function instance(name: string): Promise<{ engine: Engine; source: CoordinatedSource; registry: DirectorySplitRegistry }> {
  const spec = cardSpec(join(root, name), { type: 'embedded', options: {} });
  const registry = new DirectorySplitRegistry(join(root, 'shared'), name);
  const source = new CoordinatedSource(DATA);
  const engine = new Engine({ ...spec, state: { ...spec.state, shared: join(root, 'shared'), instanceId: name } }, {
    sources: new Map([['tx', source]]),
    checkpointStore: registry.openCheckpointStore(),
    splitRegistry: registry,
    pollWaitMs: 5,
  });
  engines.push(engine);
  await engine.start();
  return { engine, source, registry };
}

async function until(what: string, ok: () => boolean | Promise<boolean>): Promise<void> {
  const end = Date.now() + 30_000;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`not within 30 s: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const cards = (split: string) => Array.from({ length: 5 }, (_, i) => `${split}-${i}`);
const counted = (e: Engine) => e.stats().eventsApplied;

async function features(e: Engine, split: string): Promise<unknown[]> {
  return (await e.readMany('cc_agg', cards(split), { asOf: AS_OF })).map((r) => [r.found, r.version, r.values]);
}

describe('split ownership between two engines sharing a directory', () => {
  it('moves revoked splits to the peer with their entities and positions, several from one peer at once, and the giver drops them after the claim', async () => {
    const a = await instance('a');
    const b = await instance('b');
    await a.source.assign(['0', '1', '2']);
    await b.source.assign([]);
    await until('a applied every event', () => counted(a.engine) === 60);
    const before = { '1': await features(a.engine, '1'), '2': await features(a.engine, '2') };
    expect((before['1'][0] as [boolean])[0]).toBe(true);

    await a.source.revoke(['1', '2']);
    const positions = await b.source.assign(['1', '2']); // both loaded from a's one checkpoint
    expect(positions).toEqual([
      { id: '1', position: 20 },
      { id: '2', position: 20 },
    ]);
    expect(await features(b.engine, '1')).toEqual(before['1']);
    expect(await features(b.engine, '2')).toEqual(before['2']);
    expect(b.engine.stats().splits!['tx']).toMatchObject({ takenOver: 2, entitiesLoaded: 10, owned: 2, held: 2 });
    expect(await b.registry.latestClaim('tx', '1')).toMatchObject({ epoch: 2, instance: 'b' });
    // Nothing is replayed: b read from position 20, so no event is counted twice.
    await new Promise((r) => setTimeout(r, 100));
    expect(counted(b.engine)).toBe(0);

    // a holds the given-up splits until it sees b's claims, then drops them (deletions checkpointed).
    await until('a dropped splits 1 and 2', () => a.engine.stats().splits!['tx']!.held === 1);
    expect([...a.engine.entityKeys('cc_agg')].sort()).toEqual(cards('0'));
    expect(a.engine.stats().splits!['tx']).toMatchObject({ dropped: 2, owned: 1 });
    await a.engine.checkpoint();

    // Split 1 comes back to a: a's copy was dropped, so it is loaded from b — still the same features.
    await b.source.revoke(['1']);
    await a.source.assign(['0', '1']);
    expect(await features(a.engine, '1')).toEqual(before['1']);
    expect(await a.registry.latestClaim('tx', '1')).toMatchObject({ epoch: 3, instance: 'a' });
    expect(a.engine.stats().splits!['tx']).toMatchObject({ kept: 1 }); // split 0: its own claim, kept as is
  });

  it('refuses to take over a split whose claimed checkpoint does not hold it, with SPLIT_HANDOFF_FAILED naming where it looked', async () => {
    const b = await instance('b');
    // A claim by an instance that never checkpointed the split (its checkpoint does not exist).
    await new DirectorySplitRegistry(join(root, 'shared'), 'ghost').claim('tx', '0', 5);
    const err = await b.source.assign(['0']).then(
      () => null,
      (e: unknown) => e as { code?: string; message?: string; path?: string },
    );
    expect(err).toMatchObject({ code: 'SPLIT_HANDOFF_FAILED', path: 'tx/0' });
    expect(err!.message).toContain('instance "ghost" claimed it at epoch 5');
    expect(err!.message).toContain(join(root, 'shared', 'instances', 'ghost', 'checkpoints'));
    expect(await b.registry.latestClaim('tx', '0')).toMatchObject({ epoch: 5, instance: 'ghost' }); // nothing claimed over it
  });
});


