import type { OnlineReads, OnlineSpec } from '../core/model.js';
import type { IssueSink } from './issues.js';
import { isObject } from './values.js';

/** The alias of the store that is the engine's own state (adapters/online/embedded). */
const EMBEDDED = 'embedded';

/** Keys of the `online:` block the engine owns; every other key is the store plugin's option. */
const ENGINE_KEYS = new Set(['type', 'reads']);

/** `reads` as configured, or its default: `engine` for `embedded`, `store` for every external store. */
export function onlineReads(online: Pick<OnlineSpec, 'type' | 'reads'>): OnlineReads {
  return online.reads ?? (online.type === EMBEDDED ? 'engine' : 'store');
}

/**
 * Compiles the `online:` block (default `{ type: embedded }`): the plugin alias/path, the plugin's own
 * options (checked later against its configSchema, config/plugins.ts) and `reads` when the file sets it
 * (its default is applied where it is used, by `onlineReads`). `reads: store` with `embedded` is an error at `online.reads`: there is no store apart from
 * the engine's state.
 */
export function compileOnline(raw: unknown, sink: IssueSink): OnlineSpec {
  const block = isObject(raw) && typeof raw.type === 'string' ? raw : { type: EMBEDDED };
  const type = block.type as string;
  const options: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(block)) if (!ENGINE_KEYS.has(k)) options[k] = v;
  let reads: OnlineReads | undefined = block.reads === 'store' || block.reads === 'engine' ? block.reads : undefined;
  if (reads === 'store' && type === EMBEDDED) {
    sink.add('online.reads', 'reads: store needs an external online store (redis, dynamodb, a plugin); embedded serves from the engine\'s own state: use reads: engine or leave reads out');
    reads = undefined;
  }
  return reads === undefined ? { type, options } : { type, options, reads };
}
