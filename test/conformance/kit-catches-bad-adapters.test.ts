import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConformanceError,
  onlineStoreCases,
  onlineOlderNeverOverwritesNewer,
  onlineExpiryHonouredOnRead,
  onlineOneResultPerKey,
  onlineConcurrentReadsMonotonic,
  offlineStoreCases,
  offlineStagedInvisible,
  offlineCrashRecovers,
  offlineCommitTwiceNoop,
  sourceCases,
  sourceSnapshotRestore,
  sourceRescaleRestore,
  sourceOrderKeptPerSplit,
  sourcePreviousCodecDecodes,
  recordSourceCheckpointFixture,
  caseTitle,
  onlineReplayedBatchChangesNothing,
  onlineDeleteIsVersioned,
  type OnlineStoreConformanceContext,
  type OfflineStoreConformanceContext,
  type SourceConformanceContext,
  type SourceCheckpointFixture,
} from '../../plugins/testkit/index.js';
import type { OnlineStore } from '../../plugins/sdk/index.js';
import { MemoryOnlineStore } from '../../adapters/online/memory/index.js';
import {
  CompactingReadStore, EqualVersionWinsStore, GroupBlindStore, LaggingReplicaStore, LastWriteWinsStore, NoExpiryStore, UnguardedDeleteStore,
  WallClockExpiryStore,
} from './support/bad-online-stores.js';
import { ArraySource, bySplit, type ArraySourceFault } from './support/array-source.js';
import { DirOfflineStore, type DirOfflineFault } from './support/dir-offline-store.js';

// The kit's cases are run as plain functions: against correct adapters they must pass, against
// deliberately broken ones they must fail with a ConformanceError whose message names the fault.

function onlineCtx(make: () => OnlineStore): OnlineStoreConformanceContext {
  return { createStore: () => make() };
}

interface SourceCtxOptions {
  readonly splits?: number;
  readonly timeoutMs?: number;
  /** Positions are opaque per-data-set tokens (like Kinesis sequence numbers); the context reports them. */
  readonly tokens?: boolean;
  /** Report the tokens through assignedTokens() (default: when `tokens`). */
  readonly reportTokens?: boolean;
  readonly singleSplit?: { reason: string };
  readonly version?: string;
}

let datasetNonce = 0;
function sourceCtx(fault: ArraySourceFault, fixtures: SourceCheckpointFixture[] = [], o: SourceCtxOptions = {}): SourceConformanceContext {
  const splits = o.splits ?? 3;
  const datasets = new Map<string, { events: ReturnType<typeof bySplit>; tokens?: string[][] }>();
  return {
    splits,
    bounded: true,
    fixtures,
    timeoutMs: o.timeoutMs ?? 5_000,
    ...(o.singleSplit === undefined ? {} : { singleSplit: o.singleSplit }),
    ...(o.version === undefined ? {} : { version: o.version }),
    async writeData(caseId, events) {
      const bs = bySplit(events, splits);
      const nonce = ++datasetNonce;
      datasets.set(caseId, { events: bs, ...(o.tokens ? { tokens: bs.map((evs, i) => evs.map((_, q) => `4959${String(nonce).padStart(6, '0')}${i}${String(q).padStart(4, '0')}`)) } : {}) });
      return caseId;
    },
    createSource: (ds, assignment) => {
      const d = datasets.get(ds as string)!;
      return new ArraySource(d.events, assignment, fault, d.tokens);
    },
    ...(o.tokens && o.reportTokens !== false
      ? {
          assignedTokens: (ds: unknown) => {
            const d = datasets.get(ds as string)!;
            return Object.fromEntries(d.events.flatMap((evs, i) => evs.map((e, q) => [e.id, d.tokens![i]![q]!] as const)));
          },
        }
      : {}),
  };
}

const roots: string[] = [];
function offlineCtx(fault: DirOfflineFault): OfflineStoreConformanceContext {
  const root = mkdtempSync(join(tmpdir(), 'fenestra-kit-offline-'));
  roots.push(root);
  return {
    createStore: (loc) => new DirOfflineStore(join(root, loc), fault),
    exists: async (loc, path) => existsSync(join(root, loc, path)),
  };
}
afterAll(() => { for (const r of roots) rmSync(r, { recursive: true, force: true }); });

async function failure(p: Promise<void>): Promise<ConformanceError> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e, 'the case passed, but the adapter is broken').toBeInstanceOf(ConformanceError);
  return e as ConformanceError;
}

describe('the kit passes correct adapters', () => {
  for (const c of onlineStoreCases) it(`memory online store: ${c.title}`, () => c.run(onlineCtx(() => new MemoryOnlineStore())));
  for (const c of offlineStoreCases) it(`directory offline store: ${c.title}`, () => c.run(offlineCtx('none')));
  it('array source: every case, with a fixture recorded by the same version', async () => {
    const fixture = await recordSourceCheckpointFixture(sourceCtx('none'), '0.1.0', 10, { 0: 3, 1: 0, 2: 10 });
    expect(fixture.positions).toEqual({ 'split-0': 3, 'split-2': 10 });
    for (const c of sourceCases) await c.run(sourceCtx('none', [fixture]));
  });
  it('array source with server-assigned positions: a recorded fixture names its tokens and replays onto a fresh data set', async () => {
    const fixture = await recordSourceCheckpointFixture(sourceCtx('none', [], { tokens: true }), '0.1.0', 10, { 0: 3, 1: 0, 2: 10 });
    expect(Object.keys(fixture.positions).sort()).toEqual(['split-0', 'split-2']);
    expect(Object.values(fixture.assigned ?? {}).sort()).toEqual(['s0-e2', 's2-e9']);
    // The version check re-records and compares with the tokens abstracted: a fresh data set has other tokens.
    for (const c of sourceCases) await c.run(sourceCtx('none', [fixture], { tokens: true, version: '0.1.0' }));
  });
  it('a single-split source that declares so: the rescale case is named not applicable, and checks the declaration', async () => {
    const ctx = sourceCtx('none', [], { splits: 1, singleSplit: { reason: 'one log per process' } });
    expect(caseTitle(sourceRescaleRestore, ctx)).toBe(`${sourceRescaleRestore.title} — not applicable: one log per process`);
    expect(caseTitle(sourceSnapshotRestore, ctx)).toBe(sourceSnapshotRestore.title);
    await sourceRescaleRestore.run(ctx);
  });
});

describe('the kit catches broken online stores', () => {
  it('an older version overwriting a newer one fails with the key and both versions', async () => {
    const e = await failure(onlineOlderNeverOverwritesNewer.run(onlineCtx(() => new LastWriteWinsStore())));
    expect(e.message).toContain('key k1: version 3 overwrote version 5');
    expect(e.caseId).toBe('online-store/older-never-overwrites-newer');
  });
  it('a store that ignores expiry fails naming the expired key', async () => {
    const e = await failure(onlineExpiryHonouredOnRead.run(onlineCtx(() => new NoExpiryStore())));
    expect(e.message).toMatch(/key [xz]: expired/);
  });
  it('a store that drops misses from read results fails on the result count', async () => {
    const e = await failure(onlineOneResultPerKey.run(onlineCtx(() => new CompactingReadStore())));
    expect(e.message).toContain('read of 6 keys ["c","missing","a","c","b","other"] returned 4 results');
  });
  it('a store that lets an equal version replace the stored record fails the replay case', async () => {
    const e = await failure(onlineReplayedBatchChangesNothing.run(onlineCtx(() => new EqualVersionWinsStore())));
    expect(e.message).toContain('replaying the same batch reported {"applied":20,"skipped":0}, expected {"applied":0,"skipped":20}');
  });
  it('a delete that ignores its version fails naming the removed version', async () => {
    const e = await failure(onlineDeleteIsVersioned.run(onlineCtx(() => new UnguardedDeleteStore())));
    expect(e.message).toContain('key d: delete with version 6 removed version 7');
  });
  it('a store that checks expiry against the wall clock instead of `now` fails', async () => {
    const e = await failure(onlineExpiryHonouredOnRead.run(onlineCtx(() => new WallClockExpiryStore())));
    expect(e.message).toMatch(/key x: expired at \d+, but read at \d+ gave version 1 value "x" \(expiry must be checked on read with `now`\)/);
  });
  it('a store that does not scope keys by group fails naming the leaked record', async () => {
    const e = await failure(onlineOneResultPerKey.run(onlineCtx(() => new GroupBlindStore())));
    expect(e.message).toContain('key a (position 2): expected "G/a", read version 9 value "H/a"');
  });
  it('a store whose reads can go back to an older version fails naming both versions', async () => {
    const e = await failure(onlineConcurrentReadsMonotonic.run(onlineCtx(() => new LaggingReplicaStore())));
    expect(e.message).toMatch(/key m\d: a read returned version \d+ after an earlier read had returned version \d+/);
  });
});

describe('the kit catches broken sources', () => {
  it('a source that loses events across restore fails naming the lost events', async () => {
    const e = await failure(sourceSnapshotRestore.run(sourceCtx('lose')));
    expect(e.message).toMatch(/event\(s\) were lost across restore at \{.*\}: event s\d-e\d+ \(split index \d, seq \d+\)/);
    expect(e.message).toContain('were never delivered');
  });
  it('a source that duplicates events across restore fails naming the duplicate', async () => {
    const e = await failure(sourceSnapshotRestore.run(sourceCtx('duplicate')));
    expect(e.message).toMatch(/event s\d-e\d+ \(split index \d, seq \d+\) was delivered twice: before the snapshot .* and again after restore/);
  });
  it('losing events when restored onto a different number of instances is caught', async () => {
    const e = await failure(sourceRescaleRestore.run(sourceCtx('lose')));
    expect(e.message).toContain('were lost across restores (the checkpoint after 2 instance(s)');
  });
  it('instances that ignore their assignment (two read one split) fail with the duplicate', async () => {
    const e = await failure(sourceRescaleRestore.run(sourceCtx('overlap')));
    expect(e.message).toMatch(/event s\d-e\d+ \(split index \d, seq \d+\) was delivered twice: on instance \d of 2 .* and again on instance \d of 2/);
  });
  it('a source that delivers a split after revoking it fails naming the split', async () => {
    const e = await failure(sourceOrderKeptPerSplit.run(sourceCtx('revoke-leak')));
    expect(e.message).toMatch(/instance 0 of 1 delivered event s0-e0 \(split index 0, seq 0\) of split split-0 after revoking that split/);
  });
  it('a source that reorders a split fails naming the split', async () => {
    const e = await failure(sourceOrderKeptPerSplit.run(sourceCtx('reorder')));
    expect(e.message).toMatch(/split split-\d: event s\d-e\d+ .* came after seq \d+; records of one split must keep their order/);
  });
  it('a source whose positions changed meaning since the stored fixture fails', async () => {
    // A fixture as a previous version with 0-based "last read" positions would have written it.
    const old: SourceCheckpointFixture = { version: '0.0.9', splits: 3, perSplit: 10, positions: { 'split-0': 2, 'split-1': 4 }, consumed: { 0: 3, 1: 5 } };
    const e = await failure(sourcePreviousCodecDecodes.run(sourceCtx('none', [old])));
    expect(e.message).toContain('after restoring the version 0.0.9 checkpoint');
  });
  it('a source that resumes where it stopped instead of at the restored position fails (records handed out after the checkpoint)', async () => {
    const e = await failure(sourceSnapshotRestore.run(sourceCtx('resume-where-stopped')));
    expect(e.message).toMatch(/event\(s\) were lost across restore at \{.*\}: .* — exactly the \d+ event\(s\) handed out after the checkpoint, before the close: the source resumed where it had stopped/);
  });
  it('a split that no instance owns when rescaled fails the phase naming the split', async () => {
    const e = await failure(sourceRescaleRestore.run(sourceCtx('orphan-split', [], { timeoutMs: 1_000 })));
    expect(e.message).toMatch(/on 3 instances, split index\(es\) 2 \(\d+ of the 16 events this phase waits for\) did not progress in 1000 ms: no instance reads them/);
  });
  it('a context that declares singleSplit but has several splits fails the rescale case', async () => {
    const e = await failure(sourceRescaleRestore.run(sourceCtx('none', [], { singleSplit: { reason: 'just because' } })));
    expect(e.message).toContain('declares singleSplit ("just because") but spreads the kit\'s events over 3 splits');
  });
  it('a one-split context that does not declare singleSplit fails the rescale case saying how to declare it', async () => {
    const e = await failure(sourceRescaleRestore.run(sourceCtx('none', [], { splits: 1 })));
    expect(e.message).toContain('declares singleSplit with the reason');
  });
  it('a fixture with server-assigned tokens cannot be replayed without assignedTokens()', async () => {
    const fixture = await recordSourceCheckpointFixture(sourceCtx('none', [], { tokens: true }), '0.1.0', 10, { 0: 3, 1: 5 });
    const e = await failure(sourcePreviousCodecDecodes.run(sourceCtx('none', [fixture], { tokens: true, reportTokens: false })));
    expect(e.message).toContain('names server-assigned tokens, but the context has no assignedTokens()');
  });
  it('a source whose token positions changed meaning since the stored fixture fails', async () => {
    // Recorded by a version whose position was the token of the *next* record to read (not the last applied).
    const rec = await recordSourceCheckpointFixture(sourceCtx('none', [], { tokens: true }), '0.0.9', 10, { 0: 3, 1: 5 });
    const shifted: SourceCheckpointFixture = {
      ...rec,
      consumed: { 0: 2, 1: 4 },
    };
    const e = await failure(sourcePreviousCodecDecodes.run(sourceCtx('none', [shifted], { tokens: true })));
    expect(e.message).toMatch(/2 event\(s\) were lost across restore at the version 0\.0\.9 positions \{"split-0":"\d+","split-1":"\d+"\}: event s0-e2 \(split index 0, seq 2\), event s1-e4/);
  });
  it('a context whose version has no stored fixture fails saying what to record', async () => {
    const old = await recordSourceCheckpointFixture(sourceCtx('none'), '0.0.9', 10, { 0: 3 });
    const e = await failure(sourcePreviousCodecDecodes.run(sourceCtx('none', [old], { version: '0.1.0' })));
    expect(e.message).toContain('no fixture was recorded by version 0.1.0 (the version under test; stored: ["0.0.9"])');
  });
  it('a stored fixture of the running version that this code no longer writes fails (format changed without a new version)', async () => {
    const now = await recordSourceCheckpointFixture(sourceCtx('none'), '0.1.0', 10, { 0: 3, 1: 5 });
    // The same consumed counts, but positions in another (older) format that still decodes: 0-based "last read" + 1 as strings.
    const stale: SourceCheckpointFixture = { ...now, positions: Object.fromEntries(Object.entries(now.positions).map(([k, v]) => [k, String(v)])) };
    const e = await failure(sourcePreviousCodecDecodes.run(sourceCtx('none', [stale], { version: '0.1.0' })));
    expect(e.message).toContain('the checkpoint format changed without a new version');
  });
  it('a context without a fixture fails rather than skip', async () => {
    const e = await failure(sourcePreviousCodecDecodes.run(sourceCtx('none', [])));
    expect(e.message).toContain('supplies no checkpoint fixture');
  });
});

describe('the kit catches broken offline stores', () => {
  it('staging straight to the final path is visible before commit', async () => {
    const e = await failure(offlineStagedInvisible.run(offlineCtx('visible-staging')));
    expect(e.message).toMatch(/returned the same staged and final path|is visible before commit/);
  });
  it('a recover() that keeps orphans fails naming the orphan', async () => {
    const e = await failure(offlineCrashRecovers.run(offlineCtx('keeps-orphans')));
    expect(e.message).toMatch(/recover\(\) left the orphan staged file _staging\/.*cp-3-0/);
  });
  it('final names that are not a function of (table, checkpoint, seq) fail the crash case', async () => {
    const e = await failure(offlineCrashRecovers.run(offlineCtx('random-names')));
    expect(e.message).toMatch(/re-staging checkpoint 3 seq 0 gave final name .*, before the crash it was .*; final names must be deterministic/);
  });
  it('a recover() that deletes committed history fails naming the file', async () => {
    const e = await failure(offlineCrashRecovers.run(offlineCtx('recover-deletes-committed')));
    expect(e.message).toMatch(/after recovery, file feature\/kit_crash\/cp-1-0\.ndjson committed before the crash is not listed/);
  });
  it('a commit that copies again on a second commit fails', async () => {
    const e = await failure(offlineCommitTwiceNoop.run(offlineCtx('commit-copies')));
    expect(e.message).toContain('committing again changed the listing');
  });
});
