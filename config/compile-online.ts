import type { OnlineReads, OnlineSpec, PluginRefSpec } from '../core/model.js';
import type { IssueSink } from './issues.js';

/** The alias of the store that is the engine's own state (adapters/online/embedded), the default `online.type`. */
export const EMBEDDED = 'embedded';

/** `reads` as configured, or its default: `engine` for `embedded`, `store` for every external store. */
export function onlineReads(online: Pick<OnlineSpec, 'type' | 'reads'>): OnlineReads {
  return online.reads ?? (online.type === EMBEDDED ? 'engine' : 'store');
}

/**
 * The `online:` block (already split into the plugin alias/path and its keys): `reads` is the engine's,
 * taken out of the plugin's options (checked later against its configSchema, config/plugins.ts), and
 * kept when the file sets it (its default is applied where it is used, by `onlineReads`). `reads: store`
 * with `embedded` is an error at `online.reads`: there is no store apart from the engine's state.
 */
export function compileOnline(ref: PluginRefSpec, sink: IssueSink): OnlineSpec {
  const { reads: raw, ...options } = ref.options;
  let reads: OnlineReads | undefined = raw === 'store' || raw === 'engine' ? raw : undefined;
  if (reads === 'store' && ref.type === EMBEDDED) {
    sink.add('online.reads', 'reads: store needs an external online store (redis, dynamodb, a plugin); embedded serves from the engine\'s own state: use reads: engine or leave reads out');
    reads = undefined;
  }
  return reads === undefined ? { type: ref.type, options } : { type: ref.type, options, reads };
}
