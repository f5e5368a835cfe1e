import type { Logger } from './logger.js';
import type { Source, SourceCapabilities } from './source.js';
import type { OnlineStore } from './online-store.js';
import type { OfflineStore } from './offline-store.js';
import type { SourceSpec } from '../model.js';

export type PluginKind = 'source' | 'online-store' | 'offline-store';

/** Brand put on every definition made by `definePlugin`; the loader refuses modules without it. */
export const PLUGIN_BRAND = Symbol.for('fenestra.plugin');

/** What `create` receives besides the plugin's own validated config. */
export interface PluginContext {
  readonly logger: Logger;
  /** Directory of the config file (resolve relative paths against it). */
  readonly baseDir: string;
  /** The engine's version (semver). */
  readonly engineVersion: string;
  /** For sources: the source's compiled spec (schema, entity, event time). */
  readonly source?: SourceSpec;
  /** For online stores: the feature groups it will hold. */
  readonly groups?: readonly string[];
  /**
   * For offline stores written by several instances at once (`state.shared`): this instance's id.
   * Each instance numbers its checkpoints on its own, so a shared store must put the writer id into
   * staged and committed names, and `recover` must touch only this writer's staged files (a peer's
   * staged files belong to the peer's checkpoint).
   */
  readonly writerId?: string;
}

interface PluginBase<Config> {
  /** Package-style name, e.g. `@acme/fenestra-source-mqtt` or `kafka` for built-ins. */
  readonly name: string;
  /** A semver range of Fenestra versions the plugin works with, e.g. `^0.1.0`. */
  readonly engine: string;
  /**
   * JSON Schema (draft 2020-12 / 07 subset that Ajv accepts) of the plugin's config block, without
   * the engine-owned keys (`type`, `entity`, `eventTime`, `schema`, ...). Its errors are reported by
   * `fenestra validate` with the full config path.
   */
  readonly configSchema: Readonly<Record<string, unknown>>;
  readonly description?: string;
}

export interface SourcePluginDefinition<Config = Record<string, unknown>> extends PluginBase<Config> {
  readonly kind: 'source';
  readonly capabilities: SourceCapabilities;
  create(config: Config, ctx: PluginContext): Source | Promise<Source>;
}

export interface OnlineStorePluginDefinition<Config = Record<string, unknown>> extends PluginBase<Config> {
  readonly kind: 'online-store';
  create(config: Config, ctx: PluginContext): OnlineStore | Promise<OnlineStore>;
}

export interface OfflineStorePluginDefinition<Config = Record<string, unknown>> extends PluginBase<Config> {
  readonly kind: 'offline-store';
  create(config: Config, ctx: PluginContext): OfflineStore | Promise<OfflineStore>;
}

export type PluginDefinition<Config = any> =
  | SourcePluginDefinition<Config>
  | OnlineStorePluginDefinition<Config>
  | OfflineStorePluginDefinition<Config>;

/**
 * The brand `definePlugin` puts on a definition. A named interface, so a plugin module's emitted
 * declarations can refer to it (`import("fenestra/plugin").PluginBrand`) without importing the symbol.
 */
export interface PluginBrand {
  readonly [PLUGIN_BRAND]: true;
}

export type Plugin<Config = any> = PluginDefinition<Config> & PluginBrand;

/** Marks a plugin definition as one; the default export of every plugin module. */
export function definePlugin<D extends PluginDefinition>(def: D): D & PluginBrand {
  return Object.freeze({ ...def, [PLUGIN_BRAND]: true as const }) as unknown as D & PluginBrand;
}

export function isPlugin(x: unknown): x is Plugin {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[PLUGIN_BRAND] === true;
}
