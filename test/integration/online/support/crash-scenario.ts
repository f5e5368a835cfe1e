/**
 * The online-store crash scenario shared by the Redis and DynamoDB fault tests: the real engine
 * flushes to a real store that is killed mid-stream and started again. While it is down flushes fail
 * and the engine keeps its keys dirty; once it is back they are flushed. Every card's record, read
 * back through a fresh store and finalized with core/window's readEncoded, must equal a brute-force
 * oracle of the events (nothing lost, nothing counted twice) and carry the card's event count as version.
 */
import { expect } from 'vitest';
import { join } from 'node:path';
import type { OnlineStore } from '../../../../core/contracts/online-store.js';
import { Engine } from '../../../../core/runtime/engine.js';
import { FileCheckpointStore } from '../../../../core/checkpoint/file-store.js';
import { readEncoded } from '../../../../core/window/index.js';
import { MIN, cardSpec, ccAgg, oracle, sameValues, transactions, txSource } from './card-spec.js';
import { GatedArraySource } from './gated-source.js';

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface CrashScenario {
  readonly dir: string;
  /** The store the engine flushes to (not opened). */
  makeStore(): OnlineStore;
  kill(): Promise<void>;
  restart(): Promise<void>;
  /** Total events (default 6000: a third before the crash, a third during, a third after). */
  readonly events?: number;
}

export async function runCrashScenario(s: CrashScenario): Promise<void> {
  const third = Math.floor((s.events ?? 6000) / 3);
  // Cards 5… appear only before the crash: they survive it only if the store kept what it acknowledged.
  const before = transactions(third, Math.max(10, Math.floor(third / 20)), 1_700_000_000_000, 7, '5');
  const txs = [...before, ...transactions(2 * third, Math.max(10, Math.floor(third / 7)), before[before.length - 1]!.trans_time, 11, '4')];
  const source = new GatedArraySource(txs, third);
  const engine = new Engine(cardSpec(s.dir, { type: 'test', options: {} }, 25), {
    sources: new Map([['tx', source]]),
    checkpointStore: new FileCheckpointStore({ dir: join(s.dir, 'checkpoints') }),
    onlineStore: s.makeStore(),
    batchSize: 250,
  });
  await engine.start();
  try {
    const st = () => engine.stats();
    await until('first third applied and flushed', () => st().eventsApplied === third && st().online.pending === 0 && st().online.flushes > 0);
    // Half of the second third streams while the store is killed (whatever of it is in flight then);
    // the other half is released only once the store is down, so keys are certainly dirty while it is
    // (on a loaded machine the kill could otherwise land after all of the second third was flushed).
    source.release(third + Math.floor(third / 2));
    await new Promise((r) => setTimeout(r, 5));
    await s.kill();
    source.release(2 * third);
    await until('second third applied', () => st().eventsApplied === 2 * third);
    await until('flushes failing while the store is down', () => st().online.failures >= 2 && !st().online.healthy);
    expect(st().online.pending).toBeGreaterThan(0);
    await s.restart();
    source.release(txs.length);
    await engine.drained();
    await until('everything flushed after the restart', () => st().online.pending === 0 && st().online.healthy, 60_000);
    expect(st().eventsApplied).toBe(txs.length);
  } finally {
    await engine.stop();
  }

  const reader = s.makeStore();
  await reader.open();
  try {
    const cards = [...new Set(txs.map((t) => t.cc_num))].sort();
    const lastTs = txs[txs.length - 1]!.trans_time;
    const rows = await reader.read('cc_agg', cards, Date.now());
    const mismatches: string[] = [];
    for (const asOf of [lastTs, lastTs + 7 * MIN, lastTs + 61 * MIN]) {
      rows.forEach((row, i) => {
        const card = cards[i]!;
        const want = oracle(txs, card, asOf);
        if (row === null) {
          mismatches.push(`${card}: missing in the store`);
          return;
        }
        if (row.version !== want.version) mismatches.push(`${card}: version ${row.version}, want ${want.version}`);
        const got = readEncoded(ccAgg, txSource, row.value, asOf);
        if (!sameValues(got.values, want.values)) mismatches.push(`${card} @${asOf}: ${JSON.stringify(got.values)} != oracle ${JSON.stringify(want.values)}`);
      });
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
  } finally {
    await reader.close();
  }
}
