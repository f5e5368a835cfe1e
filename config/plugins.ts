import { Ajv, type ErrorObject } from 'ajv';
import semver from 'semver';
import { BUILTIN_ADAPTERS, KNOWN_ALIASES } from '../adapters/registry.js';
import type { ErrorCode } from '../core/errors.js';
import { FenestraError } from '../core/errors.js';
import type { EngineSpec, PluginRefSpec } from '../core/model.js';
import { isPlugin } from '../core/contracts/plugin.js';
import type { OfflineStorePluginDefinition, OnlineStorePluginDefinition, Plugin, PluginKind, SourcePluginDefinition } from '../core/contracts/plugin.js';
import { ENGINE_VERSION } from '../core/version.js';
import type { ConfigIssue } from './issues.js';
import { formatIssues, joinPath, joinPointer } from './issues.js';
import { locatePluginModule } from './plugin-module.js';

type Branded<D> = D & Plugin;

/** The plugins a config uses, loaded and checked. */
export interface ResolvedPlugins {
  readonly sources: ReadonlyMap<string, Branded<SourcePluginDefinition>>;
  readonly online?: Branded<OnlineStorePluginDefinition>;
  readonly offline?: Branded<OfflineStorePluginDefinition>;
}

/** What the loader needs from a spec (an `EngineSpec` fits). */
export type PluginSpecInput = Pick<EngineSpec, 'baseDir' | 'sources' | 'online' | 'offline'>;

export interface ResolveOptions {
  /** Sources not to check (their `type` already has a config issue). */
  readonly skipSources?: ReadonlySet<string>;
  /** Engine version to check `engine` ranges against (default: this package's version). */
  readonly engineVersion?: string;
  /** Built-in aliases (default: adapters/registry.ts); for tests and embedders. */
  readonly builtins?: Readonly<Record<string, () => Promise<unknown>>>;
  /** Aliases reserved for built-ins (default: KNOWN_ALIASES). */
  readonly knownAliases?: readonly string[];
}

interface Place {
  readonly path: string;
  readonly kind: PluginKind;
  readonly ref: PluginRefSpec;
  readonly exactlyOnce?: boolean;
}

const KIND_WORDS: Record<PluginKind, string> = { source: 'a source', 'online-store': 'an online store', 'offline-store': 'an offline store' };

function issue(path: string, code: ErrorCode, message: string): ConfigIssue {
  return { path, code, message };
}

type Loaded = { ok: true; plugin: Plugin; from: string } | { ok: false; code: ErrorCode; message: string };

interface Registry {
  readonly builtins: Readonly<Record<string, () => Promise<unknown>>>;
  readonly knownAliases: readonly string[];
}

async function importPlugin(type: string, baseDir: string, registry: Registry): Promise<Loaded> {
  const { builtins } = registry;
  const builtin = Object.hasOwn(builtins, type) ? builtins[type] : undefined;
  let load: () => Promise<unknown>;
  let from: string;
  if (builtin !== undefined) {
    load = builtin;
    from = `built-in adapter "${type}"`;
  } else if (registry.knownAliases.includes(type)) {
    return { ok: false, code: 'PLUGIN_NOT_FOUND', message: `built-in adapter "${type}" is not available in this build (built-ins here: ${Object.keys(builtins).join(', ') || 'none'})` };
  } else {
    const where = locatePluginModule(type, baseDir);
    if (!where.found) {
      const aliases = Object.keys(builtins).join(', ');
      return { ok: false, code: 'PLUGIN_NOT_FOUND', message: `cannot find plugin "${type}": ${where.reason}. Built-in aliases: ${aliases}` };
    }
    load = where.load;
    from = `module ${where.description}`;
  }
  let mod: unknown;
  try {
    mod = await load();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_MODULE_NOT_FOUND' && builtin !== undefined) {
      return { ok: false, code: 'PLUGIN_NOT_FOUND', message: `built-in adapter "${type}" is not available in this build: ${err.message.split('\n')[0]}` };
    }
    return { ok: false, code: err.code === 'ERR_MODULE_NOT_FOUND' ? 'PLUGIN_NOT_FOUND' : 'PLUGIN_INVALID', message: `loading plugin "${type}" (${from}) failed: ${String(err.message ?? err).split('\n')[0]}` };
  }
  const m = mod as { default?: unknown } | undefined;
  let candidate: unknown = m?.default;
  if (!isPlugin(candidate) && isPlugin((candidate as { default?: unknown } | undefined)?.default)) candidate = (candidate as { default: unknown }).default;
  if (!isPlugin(candidate)) {
    return { ok: false, code: 'PLUGIN_INVALID', message: `${from} (for "${type}") does not default-export a plugin made with definePlugin() from "fenestra/plugin"` };
  }
  return { ok: true, plugin: candidate, from };
}

function pluginSchemaIssues(plugin: Plugin, options: Record<string, unknown>, path: string): ConfigIssue[] {
  let validate;
  try {
    validate = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true }).compile(plugin.configSchema as Record<string, unknown>);
  } catch (e) {
    return [issue(joinPath(path, 'type'), 'PLUGIN_INVALID', `plugin "${plugin.name}" has an invalid configSchema: ${(e as Error).message}`)];
  }
  if (validate(options)) return [];
  const out: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const e of (validate.errors ?? []) as ErrorObject[]) {
    let p = joinPointer(path, e.instancePath);
    const params = e.params as Record<string, unknown>;
    let message = e.message ?? `fails ${e.keyword}`;
    if (e.keyword === 'required') {
      p = joinPath(p, String(params.missingProperty));
      message = `is required by plugin "${plugin.name}"`;
    } else if (e.keyword === 'additionalProperties') {
      p = joinPath(p, String(params.additionalProperty));
      message = `unknown option "${String(params.additionalProperty)}" for plugin "${plugin.name}"`;
    } else if (e.keyword === 'enum') {
      message = `must be one of ${(params.allowedValues as unknown[]).join(', ')}`;
    }
    const key = `${p}\u0000${message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(issue(p, 'CONFIG_INVALID', message));
    }
  }
  return out;
}

/** Runs every check on one plugin in one place of the config. */
function checkPlugin(plugin: Plugin, place: Place, engineVersion: string): ConfigIssue[] {
  const typePath = joinPath(place.path, 'type');
  const range = semver.validRange(plugin.engine);
  if (range === null) {
    return [issue(typePath, 'PLUGIN_INVALID', `plugin "${plugin.name}" declares an invalid engine range ${JSON.stringify(plugin.engine)}`)];
  }
  const out: ConfigIssue[] = [];
  if (!semver.satisfies(engineVersion, range, { includePrerelease: true })) {
    out.push(issue(typePath, 'PLUGIN_ENGINE_RANGE', `plugin "${plugin.name}" requires Fenestra ${plugin.engine}, but this is Fenestra ${engineVersion}; install a plugin version made for ${engineVersion}`));
  }
  if (plugin.kind !== place.kind) {
    out.push(issue(typePath, 'PLUGIN_KIND', `plugin "${plugin.name}" is ${KIND_WORDS[plugin.kind] ?? plugin.kind} plugin, but ${place.path} needs ${KIND_WORDS[place.kind]}`));
    return out;
  }
  if (plugin.kind === 'source' && place.exactlyOnce === true && plugin.capabilities?.exactlyOnce !== true) {
    out.push(issue(joinPath(place.path, 'exactlyOnce'), 'PLUGIN_NOT_EXACTLY_ONCE',
      `source plugin "${plugin.name}" cannot give exactly-once (it does not replay from a position); set exactlyOnce: false to accept at-least-once, or use a replayable source`));
  }
  out.push(...pluginSchemaIssues(plugin, { ...place.ref.options }, place.path));
  return out;
}

/**
 * Loads and checks the plugin behind every `type:` of a spec — sources, online and offline store:
 * the module is found (built-in alias, package installed beside the config file, or a path from
 * the config file's directory), its default export is branded by `definePlugin`, its `engine`
 * range accepts this Fenestra, its kind fits the place, exactly-once is declared where asked, and
 * the block's own options pass the plugin's `configSchema`. Never throws for a bad plugin: every
 * problem is an issue with the config path at fault, so `fenestra validate` lists them all.
 */
export async function resolvePlugins(spec: PluginSpecInput, options: ResolveOptions = {}): Promise<{ plugins: ResolvedPlugins; issues: ConfigIssue[] }> {
  const engineVersion = options.engineVersion ?? ENGINE_VERSION;
  const registry: Registry = { builtins: options.builtins ?? BUILTIN_ADAPTERS, knownAliases: options.knownAliases ?? KNOWN_ALIASES };
  const places: Place[] = [];
  for (const [name, s] of spec.sources) {
    if (options.skipSources?.has(name) || s.type === '') continue;
    places.push({ path: joinPath('sources', name), kind: 'source', ref: { type: s.type, options: s.options }, exactlyOnce: s.exactlyOnce });
  }
  places.push({ path: 'online', kind: 'online-store', ref: spec.online });
  places.push({ path: 'offline', kind: 'offline-store', ref: spec.offline });

  const cache = new Map<string, Promise<Loaded>>();
  const issues: ConfigIssue[] = [];
  const sources = new Map<string, Branded<SourcePluginDefinition>>();
  let online: Branded<OnlineStorePluginDefinition> | undefined;
  let offline: Branded<OfflineStorePluginDefinition> | undefined;
  for (const place of places) {
    const type = place.ref.type;
    let pending = cache.get(type);
    if (pending === undefined) {
      pending = importPlugin(type, spec.baseDir, registry);
      cache.set(type, pending);
    }
    const loaded = await pending;
    if (!loaded.ok) {
      issues.push(issue(joinPath(place.path, 'type'), loaded.code, loaded.message));
      continue;
    }
    const found = checkPlugin(loaded.plugin, place, engineVersion);
    issues.push(...found);
    if (found.length > 0) continue;
    const p = loaded.plugin;
    if (p.kind === 'source') sources.set(place.path.slice('sources.'.length), p as Branded<SourcePluginDefinition>);
    else if (p.kind === 'online-store') online = p as Branded<OnlineStorePluginDefinition>;
    else offline = p as Branded<OfflineStorePluginDefinition>;
  }
  return { plugins: { sources, ...(online ? { online } : {}), ...(offline ? { offline } : {}) }, issues };
}

/** Like `resolvePlugins` but throws `FenestraError` (code of the first issue, details = all issues) if any check fails. */
export async function loadPlugins(spec: PluginSpecInput, options: ResolveOptions = {}): Promise<ResolvedPlugins> {
  const { plugins, issues } = await resolvePlugins(spec, options);
  if (issues.length === 0) return plugins;
  throw new FenestraError(issues[0]!.code, `plugin problems:\n${formatIssues(issues)}`, { details: issues, path: issues[0]!.path });
}
