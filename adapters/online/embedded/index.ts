/**
 * The built-in `embedded` online store (alias `embedded` in adapters/registry.ts), the default of
 * `online:`.
 *
 * ```yaml
 * online: { type: embedded }          # the only option is the engine-owned `reads` (always `engine` here)
 * ```
 *
 * Meaning: features are served from the engine's own in-memory state and made durable by the engine's
 * checkpoints; there is no external store, nothing is flushed anywhere, and one daemon process answers
 * (no shared state between instances — use `redis` or `dynamodb` for that). The daemon therefore does
 * not create this store: `daemon/assemble.ts` gives the engine no online store and serves reads from
 * its memory (see `usesEngineState`).
 *
 * `create` still returns a working store with exactly the online-store contract (an in-process map with
 * version-guarded writes, one result per key, expiry on read), so embedders who drive an `Engine`
 * themselves and the conformance kit can use the alias like any other store.
 */
import { definePlugin, type OnlineStorePluginDefinition, type PLUGIN_BRAND } from '../../../core/contracts/plugin.js';
import { MemoryOnlineStore } from '../memory/memory-online-store.js';
import { ENGINE_VERSION_RANGE } from '../shared/engine-range.js';

/** The alias of this plugin. */
export const EMBEDDED_ALIAS = 'embedded';

/** True when an `online.type` means "served from the engine's own state" (no store to create or flush to). */
export function usesEngineState(type: string): boolean {
  return type === EMBEDDED_ALIAS;
}

const embeddedPlugin: OnlineStorePluginDefinition<Record<string, never>> & { readonly [PLUGIN_BRAND]: true } = definePlugin({
  name: EMBEDDED_ALIAS,
  kind: 'online-store',
  engine: ENGINE_VERSION_RANGE,
  description: "Served from the engine's own state, made durable by the engine's checkpoints; no external store (one process answers).",
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  create: () => new MemoryOnlineStore(),
});
export default embeddedPlugin;
