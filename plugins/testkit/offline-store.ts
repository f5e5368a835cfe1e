import { describe, it, beforeAll, afterAll } from 'vitest';
import type { OfflineBatch, OfflineStore, StagedFile } from '../../core/contracts/offline-store.js';
import { call, check, show } from './failure.js';
import { uniqueName, type ConformanceCase, caseTitle } from './case.js';

/** What an offline-store author supplies to run the kit against a real backend (a directory, a bucket). */
export interface OfflineStoreConformanceContext {
  /** Start the backend (once). A backend that cannot start must throw saying what is missing. */
  setup?(): Promise<void>;
  /** Stop the backend (once). */
  teardown?(): Promise<void>;
  /**
   * A new, not yet opened store rooted at `location` (a case-unique name the context maps to a
   * directory or key prefix). Two calls with the same location see the same data: the crash case
   * opens a second store where the first one stopped.
   */
  createStore(location: string): OfflineStore | Promise<OfflineStore>;
  /** Whether the object at a store-relative path (as in `StagedFile.staged`/`final`) exists in `location`. */
  exists(location: string, path: string): Promise<boolean>;
  /** Optional: rows in a committed file (as `list` returns it), to check a double commit does not duplicate rows. */
  countRows?(location: string, file: string): Promise<number>;
}

/** A small batch of `rows` rows for `table` (deterministic values). */
export function conformanceBatch(table: string, rows: number, offset = 0): OfflineBatch {
  const t0 = Date.UTC(2026, 0, 1, 10);
  const idx = Array.from({ length: rows }, (_, i) => i + offset);
  return {
    table,
    timeColumn: 'event_time',
    columns: [
      { name: 'key', type: 'string' },
      { name: 'event_time', type: 'timestamp' },
      { name: 'amount', type: 'double' },
      { name: 'count', type: 'long' },
    ],
    data: [idx.map((i) => `card-${i % 7}`), idx.map((i) => t0 + i * 60_000), idx.map((i) => i * 1.5), idx.map((i) => i)],
  };
}

async function withStore<T>(caseId: string, ctx: OfflineStoreConformanceContext, location: string, fn: (s: OfflineStore) => Promise<T>): Promise<T> {
  const store = await call(caseId, 'createStore()', () => ctx.createStore(location));
  await call(caseId, 'open()', () => store.open());
  let failed = true;
  try {
    const result = await fn(store);
    failed = false;
    return result;
  } finally {
    // A close() error must not hide the case's own failure.
    if (failed) await Promise.resolve().then(() => store.close()).catch(() => undefined);
    else await call(caseId, 'close()', () => store.close());
  }
}

function listed(list: readonly string[], file: StagedFile): boolean {
  return list.some((p) => p === file.final || p.endsWith(`/${file.final}`) || p.endsWith(file.final));
}
function leaks(list: readonly string[], file: StagedFile): boolean {
  return list.some((p) => p === file.staged || p.endsWith(`/${file.staged}`));
}

/**
 * **Staged data is invisible until committed.**
 * Purpose: readers (training sets, DuckDB) must never see rows of a checkpoint that did not complete.
 * Steps: stage a 10-row batch of table T for checkpoint 1; list T; commit; list T again.
 * Pass: the staged file reports table T and 10 rows and a final name other than its staged name;
 * before commit, list(T) holds neither path; after commit it holds the final path and not the staged
 * one, and the final object exists.
 */
export const offlineStagedInvisible: ConformanceCase<OfflineStoreConformanceContext> = {
  id: 'offline-store/staged-invisible-until-committed',
  title: 'staged data is invisible until committed',
  async run(ctx) {
    const id = 'offline-store/staged-invisible-until-committed';
    const loc = uniqueName('stage');
    await withStore(id, ctx, loc, async (store) => {
      const table = 'feature/kit_stage';
      const f = await call(id, 'stage()', () => store.stage(conformanceBatch(table, 10), 1, 0));
      check(f.table === table && f.rows === 10, id, () => `stage() of 10 rows of ${table} returned ${show(f)}`);
      check(f.staged !== f.final, id, () => `stage() returned the same staged and final path ${f.final}: staged data would be visible`);
      const before = await call(id, 'list()', () => store.list(table));
      check(!listed(before, f) && !leaks(before, f), id, () => `staged file ${f.staged} (final ${f.final}) is visible before commit: list() returned ${show(before)}`);
      await call(id, 'commit()', () => store.commit([f]));
      const after = await call(id, 'list()', () => store.list(table));
      check(listed(after, f), id, () => `committed file ${f.final} is not listed after commit: list() returned ${show(after)}`);
      check(!leaks(after, f), id, () => `the staged path ${f.staged} is listed after commit: ${show(after)}`);
      check(await ctx.exists(loc, f.final), id, () => `committed file ${f.final} does not exist after commit`);
    });
  },
};

/**
 * **Committing twice is a no-op.**
 * Purpose: recovery re-commits the files of the last checkpoint, some of which were already committed.
 * Steps: stage two files (checkpoint 2, seq 0 and 1); commit both; list; commit both again; commit the
 * first alone again; list.
 * Pass: no commit throws; both lists are equal (same files, no copies); with `countRows`, each file
 * still has its rows once.
 */
export const offlineCommitTwiceNoop: ConformanceCase<OfflineStoreConformanceContext> = {
  id: 'offline-store/commit-twice-is-noop',
  title: 'committing twice is a no-op',
  async run(ctx) {
    const id = 'offline-store/commit-twice-is-noop';
    const loc = uniqueName('twice');
    await withStore(id, ctx, loc, async (store) => {
      const table = 'feature/kit_twice';
      const a = await call(id, 'stage(a)', () => store.stage(conformanceBatch(table, 6), 2, 0));
      const b = await call(id, 'stage(b)', () => store.stage(conformanceBatch(table, 4, 6), 2, 1));
      check(a.final !== b.final, id, () => `two stages of checkpoint 2 (seq 0 and 1) got the same final name ${a.final}`);
      await call(id, 'commit([a, b])', () => store.commit([a, b]));
      const once = [...(await call(id, 'list()', () => store.list(table)))].sort();
      await call(id, 'commit([a, b]) again', () => store.commit([a, b]));
      await call(id, 'commit([a]) again', () => store.commit([a]));
      const twice = [...(await call(id, 'list()', () => store.list(table)))].sort();
      check(listed(once, a) && listed(once, b), id, () => `after commit, list() returned ${show(once)}; expected ${a.final} and ${b.final}`);
      check(show(once) === show(twice), id, () => `committing again changed the listing from ${show(once)} to ${show(twice)}`);
      if (ctx.countRows) {
        for (const [f, rows] of [[a, 6], [b, 4]] as const) {
          const file = twice.find((p) => p === f.final || p.endsWith(f.final))!;
          const n = await call(id, `countRows(${file})`, () => ctx.countRows!(loc, file));
          check(n === rows, id, () => `file ${f.final} holds ${n} rows after a double commit; it was staged with ${rows}`);
        }
      }
    });
  },
};

/**
 * **A crash between stage and commit recovers.**
 * Purpose: the engine may die after staging (or even after the checkpoint listed the files) but before
 * `commit`; recovery must publish exactly what the last checkpoint lists and nothing else.
 * Steps: store A commits f1 (checkpoint 1), stages f2 (checkpoint 2, listed by the "durable" checkpoint)
 * and f3 (checkpoint 3, never checkpointed), then is dropped without close (the crash). Store B opens
 * the same location, commits [f2] (the runtime re-commits the last checkpoint's files), calls
 * recover([f2]), then stages checkpoint 3 seq 0 again.
 * Pass: list holds f1 and f2 and not f3; f3's staged object is gone; f2's staged object does not linger
 * as a listed file; re-staging checkpoint 3 seq 0 yields the same final name as f3 (deterministic names).
 */
export const offlineCrashRecovers: ConformanceCase<OfflineStoreConformanceContext> = {
  id: 'offline-store/crash-between-stage-and-commit-recovers',
  title: 'a crash between stage and commit recovers (orphans removed, listed files kept)',
  async run(ctx) {
    const id = 'offline-store/crash-between-stage-and-commit-recovers';
    const loc = uniqueName('crash');
    const table = 'feature/kit_crash';
    const a = await call(id, 'createStore()', () => ctx.createStore(loc));
    await call(id, 'open()', () => a.open());
    try {
      const f1 = await call(id, 'stage(f1)', () => a.stage(conformanceBatch(table, 5), 1, 0));
      await call(id, 'commit([f1])', () => a.commit([f1]));
      const f2 = await call(id, 'stage(f2)', () => a.stage(conformanceBatch(table, 5, 5), 2, 0));
      const f3 = await call(id, 'stage(f3)', () => a.stage(conformanceBatch(table, 5, 10), 3, 0));
      // The crash: store A is abandoned without commit or close; store B takes over its location.
      await withStore(id, ctx, loc, async (b) => {
        await call(id, 'commit([f2]) on recovery', () => b.commit([f2]));
        await call(id, 'recover([f2])', () => b.recover([f2]));
        const files = await call(id, 'list()', () => b.list(table));
        check(listed(files, f1), id, () => `after recovery, file ${f1.final} committed before the crash is not listed: ${show(files)}`);
        check(listed(files, f2), id, () => `after recovery, file ${f2.final} listed by the last checkpoint is not listed: ${show(files)}`);
        check(!listed(files, f3), id, () => `after recovery, orphan ${f3.final} (staged for checkpoint 3, which never completed) is listed: ${show(files)}`);
        check(!(await ctx.exists(loc, f3.staged)), id, () => `recover() left the orphan staged file ${f3.staged} in place`);
        check(!(await ctx.exists(loc, f3.final)), id, () => `the orphan's final path ${f3.final} exists after recovery`);
        const again = await call(id, 'stage(checkpoint 3 seq 0) again', () => b.stage(conformanceBatch(table, 5, 10), 3, 0));
        check(again.final === f3.final, id, () => `re-staging checkpoint 3 seq 0 gave final name ${again.final}, before the crash it was ${f3.final}; final names must be deterministic`);
      });
    } finally {
      // Release store A's resources only now (a crashed process would hold none).
      await a.close().catch(() => undefined);
    }
  },
};

/** Every offline-store case, in the order `describeOfflineStoreConformance` registers them. */
export const offlineStoreCases: readonly ConformanceCase<OfflineStoreConformanceContext>[] = [
  offlineStagedInvisible,
  offlineCommitTwiceNoop,
  offlineCrashRecovers,
];

/** Registers the offline-store conformance suite as a vitest `describe` block in the caller's test file. */
export function describeOfflineStoreConformance(name: string, ctx: OfflineStoreConformanceContext): void {
  describe(`offline-store conformance: ${name}`, () => {
    beforeAll(async () => { await ctx.setup?.(); });
    afterAll(async () => { await ctx.teardown?.(); });
    for (const c of offlineStoreCases) it(caseTitle(c, ctx), () => c.run(ctx));
  });
}
