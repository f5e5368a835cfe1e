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
  type OnlineStoreConformanceContext,
  type OfflineStoreConformanceContext,
  type SourceConformanceContext,
  type SourceCheckpointFixture,
} from '../../plugins/testkit/index.js';
import type { OnlineStore } from '../../plugins/sdk/index.js';
import { MemoryOnlineStore } from '../../adapters/online/memory/index.js';
import { CompactingReadStore, LaggingReplicaStore, LastWriteWinsStore, NoExpiryStore } from './support/bad-online-stores.js';
import { ArraySource, bySplit, type ArraySourceFault } from './support/array-source.js';
import { DirOfflineStore, type DirOfflineFault } from './support/dir-offline-store.js';

// The kit's cases are run as plain functions: against correct adapters they must pass, against
// deliberately broken ones they must fail with a ConformanceError whose message names the fault.

function onlineCtx(make: () => OnlineStore): OnlineStoreConformanceContext {
  return { createStore: () => make() };
}

function sourceCtx(fault: ArraySourceFault, fixtures: SourceCheckpointFixture[] = []): SourceConformanceContext {
  const datasets = new Map<string, ReturnType<typeof bySplit>>();
  return {
    splits: 3,
    bounded: true,
    fixtures,
    timeoutMs: 5_000,
    async writeData(caseId, events) {
      datasets.set(caseId, bySplit(events, 3));
      return caseId;
    },
    createSource: (ds, assignment) => new ArraySource(datasets.get(ds as string)!, assignment, fault),
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
  it('a commit that copies again on a second commit fails', async () => {
    const e = await failure(offlineCommitTwiceNoop.run(offlineCtx('commit-copies')));
    expect(e.message).toContain('committing again changed the listing');
  });
});
