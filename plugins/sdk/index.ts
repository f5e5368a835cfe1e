/**
 * `fenestra/plugin` — the public API for adapter authors.
 *
 * A plugin is an ES module whose default export is made by {@link definePlugin}:
 *
 * ```ts
 * import { definePlugin, type OnlineStore } from 'fenestra/plugin';
 * export default definePlugin({
 *   name: '@acme/fenestra-online-pg', kind: 'online-store', engine: '^0.1.0',
 *   configSchema: { type: 'object', required: ['url'], properties: { url: { type: 'string' } } },
 *   create: (config, ctx) => new PgOnlineStore(config, ctx),
 * });
 * ```
 *
 * A config names it with one line (`online: { type: "@acme/fenestra-online-pg", url: ... }`). The
 * loader resolves the package or path from the config file's directory, checks the brand put on by
 * `definePlugin`, checks `engine` (a semver range) against the running Fenestra, checks `kind`
 * against the place it is used, validates the config block against `configSchema` (errors are
 * reported with their full config path) and refuses `exactlyOnce: true` from a source whose
 * `capabilities.exactlyOnce` is false.
 *
 * ## Rules every adapter follows (the contracts below state them in full)
 *
 * - **Ordering.** A source returns the records of one split in split order; splits may interleave.
 *   An online store returns exactly one read result per requested key, in request order.
 * - **Idempotency.** The runtime, not the plugin, owns positions: it stores them in its checkpoint
 *   and hands them back on recovery (`SourceContext.restored`); replaying from a restored position
 *   yields the same records. Online writes are conditional on `version` (strictly newer wins) so
 *   replayed or retried batches change nothing. Offline `commit` is idempotent and `recover`
 *   removes staged files that no checkpoint lists.
 * - **Threading.** All calls come from the one Node event loop. `Source.poll` is never called
 *   concurrently with itself, `checkpointed` or `close`. `OnlineStore.read` may run concurrently
 *   with itself and with one in-flight `write`; two `write`s never overlap. Offline store calls are
 *   serialized.
 * - **Errors.** Throw {@link FenestraError} with a stable code from {@link ERROR_CODES} where one
 *   fits (`STORE_UNAVAILABLE` for a backend that cannot be reached); any other error is reported as
 *   the adapter's failure and retried by the runtime where the contract says so.
 *
 * Prove an adapter with the conformance kit in `fenestra/testkit` (see docs/ADAPTERS.md).
 * Import only from `fenestra/plugin` and `fenestra/testkit`: deep imports are not part of the API.
 *
 * @packageDocumentation
 */

export { definePlugin, isPlugin, PLUGIN_BRAND } from '../../core/contracts/plugin.js';
export type {
  Plugin,
  PluginBrand,
  PluginKind,
  PluginContext,
  PluginDefinition,
  SourcePluginDefinition,
  OnlineStorePluginDefinition,
  OfflineStorePluginDefinition,
} from '../../core/contracts/plugin.js';

export type { Position, SplitState, PositionMap } from '../../core/contracts/position.js';
/** What a source emits for a record it cannot parse: the engine dead-letters it with the reason and moves on. */
export { MalformedRecord } from '../../core/event/malformed.js';
export type { Source, SourceRecord, SourceContext, SourceCapabilities } from '../../core/contracts/source.js';
export type {
  OnlineStore,
  OnlineRecord,
  OnlineWriteResult,
  OnlineStoreContext,
} from '../../core/contracts/online-store.js';
export type {
  OfflineStore,
  OfflineBatch,
  OfflineColumn,
  StagedFile,
  OfflineStoreContext,
} from '../../core/contracts/offline-store.js';
export type {
  CheckpointStore,
  CheckpointData,
  CheckpointEntry,
  RecoveredState,
} from '../../core/contracts/checkpoint-store.js';
export type { Logger } from '../../core/contracts/logger.js';
export type { SourceSpec, FieldSpec, FieldType } from '../../core/model.js';

export { FenestraError, isFenestraError, ERROR_CODES } from '../../core/errors.js';
export type { ErrorCode } from '../../core/errors.js';
export { ENGINE_VERSION } from '../../core/version.js';
/** Durations (`500ms`, `10m`, `1h30m`) and instants (epoch ms or ISO-8601) parsed as the config does. */
export { parseDuration, formatDuration, parseInstant } from '../../core/time/duration.js';
