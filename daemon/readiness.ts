import type { ErrorCode } from '../core/errors.js';
import type { EngineApi } from '../core/runtime/api.js';

export type Readiness = { readonly ready: true } | { readonly ready: false; readonly code: ErrorCode; readonly message: string };

/**
 * Whether the daemon should take traffic, as `/readyz` and the `fenestra_ready` gauge say it:
 * NOT_READY until recovery finished and every source is open; STORE_UNAVAILABLE while the online store
 * is failing (a write or a probe failed and nothing has succeeded since). Ingestion goes on meanwhile:
 * the engine keeps the changed entities in memory and writes them when the store is back.
 */
export function readiness(engine: EngineApi): Readiness {
  if (!engine.isReady()) return { ready: false, code: 'NOT_READY', message: 'the engine is recovering its last checkpoint or opening its sources' };
  const online = engine.stats?.().online;
  if (online !== undefined && online.enabled && !online.healthy) {
    const why = online.lastError ?? 'it does not answer';
    return {
      ready: false,
      code: 'STORE_UNAVAILABLE',
      message: `online store "${engine.spec.online.type}" is failing: ${why}; ${online.pending} changed entities are kept in memory and retried`,
    };
  }
  return { ready: true };
}
