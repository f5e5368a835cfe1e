import type { EngineApi, EngineStats, KeyUpdate } from '../core/runtime/api.js';
import type { Engine } from '../core/runtime/engine.js';
import { withOnlineReads, type OnlineFeatureReader } from '../core/runtime/online-reader.js';
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
 * the engine, with reads from the online store when configured (core/runtime/online-reader.ts
 * `withOnlineReads`), and `stats()` completed with what the daemon knows besides the engine — the store
 * probe's verdict in `online.healthy` / `online.lastError`, and dead letters by source and code — and,
 * with reads from the store, `onUpdate` listeners (WebSocket subscriptions) told of a change once the
 * store has it.
 */
export function servingApi(engine: Engine, parts: ServingParts): EngineApi {
  const base: EngineApi = parts.reader !== undefined ? withOnlineReads(engine, parts.reader) : engine;
  const stats = (): EngineStats => {
    const s = engine.stats();
    const probe = parts.health?.current;
    const online = s.online.enabled && probe !== undefined && !probe.up ? { ...s.online, healthy: false, lastError: probe.error } : s.online;
    return { ...s, online, ...(parts.deadLetters !== undefined ? { deadLettersBySource: parts.deadLetters.bySource() } : {}) };
  };
  const afterStore = parts.afterStore;
  const onUpdate = afterStore === undefined ? undefined : (listener: (u: KeyUpdate) => void): (() => void) => engine.onUpdate(afterStore(listener));
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(base, {
    get(target, prop, receiver) {
      if (prop === 'stats') return stats;
      if (prop === 'onUpdate' && onUpdate !== undefined) return onUpdate;
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      let b = bound.get(prop);
      if (b === undefined) bound.set(prop, (b = (v as (...a: unknown[]) => unknown).bind(target)));
      return b;
    },
  });
}
