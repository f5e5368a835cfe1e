/**
 * `fenestra/testkit` — the conformance kit for adapter authors.
 *
 * Call a `describe*Conformance(name, ctx)` function at the top level of a vitest test file (vitest is a
 * peer dependency of your suite). The context says how to start the backend, create the adapter, write
 * test data and tear down; the kit registers one `it` per case. Every case documents its purpose, steps
 * and pass condition, and fails with a `ConformanceError` that says what the adapter did wrong
 * (`key k1: version 3 overwrote version 5`). The case bodies are exported too (`onlineStoreCases`,
 * `sourceCases`, `offlineStoreCases`): each is a plain async function of the context.
 *
 * A case that cannot apply to an adapter is never skipped silently: the context declares why (e.g.
 * `singleSplit` for a source with one split per process), the test is named
 * `<title> — not applicable: <reason>` (`caseTitle`), and the case checks the declaration instead.
 * Source checkpoint fixtures are recorded at each release (`recordSourceCheckpointFixture`,
 * `writeSourceCheckpointFixture`) and all of them are replayed by every later version
 * (`readSourceCheckpointFixtures`).
 *
 * @packageDocumentation
 */
export { ConformanceError } from './failure.js';
export { type ConformanceCase, caseTitle, mulberry32 } from './case.js';
export { testLogger } from './logger.js';
export {
  type OnlineStoreConformanceContext,
  describeOnlineStoreConformance,
  onlineStoreCases,
  onlineReplayedBatchChangesNothing,
  onlineOlderNeverOverwritesNewer,
  onlineOneResultPerKey,
  onlineExpiryHonouredOnRead,
  onlineDeleteIsVersioned,
  onlineConcurrentReadsMonotonic,
} from './online-store.js';
export {
  type SourceConformanceContext,
  type ConformanceEvent,
  type SourceAssignment,
  type SourceCheckpointFixture,
  describeSourceConformance,
  sourceCases,
  sourceOrderKeptPerSplit,
  sourceSnapshotRestore,
  sourceRescaleRestore,
  sourcePreviousCodecDecodes,
  recordSourceCheckpointFixture,
  readSourceCheckpointFixtures,
  writeSourceCheckpointFixture,
  standardEvents,
  conformanceSourceSpec,
} from './source.js';
export {
  type OfflineStoreConformanceContext,
  describeOfflineStoreConformance,
  offlineStoreCases,
  offlineStagedInvisible,
  offlineCommitTwiceNoop,
  offlineCrashRecovers,
  conformanceBatch,
} from './offline-store.js';
