import type { EngineApi, EngineStats, KeyUpdate } from '../core/runtime/api.js';
import type { Engine } from '../core/runtime/engine.js';
import type { OnlineFeatureReader } from '../core/runtime/online-reader.js';
import type { CountingDeadLetterSink } from './dead-letter-counts.js';
import type { OnlineHealth } from './online-health.js';

export interface ServingParts {
  /** With `online.reads: store`: feature reads (and stored-record reads) come from the online store. */
  readonly reader?: OnlineFeatureReader;
  /** The online store's probe; a failed probe makes `stats().online.healthy` false. */
  readonly health?: OnlineHealth;
  /** The engine's dead-letter sink, counting by source and code. */
  readonly deadLetters?: CountingDeadLetterSink;
  /** With reads from the store: change listeners hear of a change once the store has it. */
  readonly afterStore?: (listener: (u: KeyUpdate) => void) => (u: KeyUpdate) => void;
}

/**
 * The EngineApi the daemon's routes get (daemon/server.ts is given it, the routes are unchanged):
 * the engine, with feature and stored-record reads from the online store when configured
 * (`parts.reader`, core/runtime/online-reader.ts), and `stats()` completed with what the daemon knows besides the engine — the store
 * probe's verdict in `online.healthy` / `online.lastError`, and dead letters by source and code — and,
 * with reads from the store, `onUpdate` listeners (WebSocket subscriptions) told of a change once the
 * store has it.
 *
 * A plain object of the EngineApi members, each resolved once here: the feature routes call `read` /
 * `readMany` / `readRows` on every request, so no lookup (or Proxy trap) is left on that path.
 */
export function servingApi(engine: Engine, parts: ServingParts): EngineApi {
  const base: Pick<EngineApi, 'read' | 'readMany' | 'readRows' | 'readRecord'> = parts.reader ?? engine;
  const { health, deadLetters, afterStore } = parts;
  const api: EngineApi = {
    spec: engine.spec,
    isReady: () => engine.isReady(),
    read: base.read.bind(base),
    readMany: base.readMany.bind(base),
    onUpdate: afterStore === undefined ? (listener) => engine.onUpdate(listener) : (listener) => engine.onUpdate(afterStore(listener)),
    checkpoint: () => engine.checkpoint(),
    stop: () => engine.stop(),
    durablePosition: (source, split) => engine.durablePosition(source, split),
    stats: (): EngineStats => {
      const s = engine.stats();
      const probe = health?.current;
      const online = s.online.enabled && probe !== undefined && !probe.up ? { ...s.online, healthy: false, lastError: probe.error } : s.online;
      return { ...s, online, ...(deadLetters !== undefined ? { deadLettersBySource: deadLetters.bySource() } : {}) };
    },
  };
  const { readRecord, readRows } = base;
  return {
    ...api,
    ...(readRows === undefined ? {} : { readRows: readRows.bind(base) }),
    ...(readRecord === undefined ? {} : { readRecord: readRecord.bind(base) }),
  };
}
