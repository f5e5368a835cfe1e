import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { EngineSpec, PluginRefSpec, S3ConnectionSpec } from '../core/model.js';
import type { IssueSink } from './issues.js';
import { compileGroups, declaredFeatureNames } from './compile-groups.js';
import { compileServices } from './compile-services.js';
import { compileOnline, EMBEDDED } from './compile-online.js';
import { compileEntities, compileSources } from './compile-sources.js';
import { bytesAt, isObject, positiveDurationAt } from './values.js';

/** Defaults applied when a key is absent (documented in docs/CONFIG.md). */
export const CONFIG_DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  bodyLimit: 1_048_576,
  stateDir: './.fenestra/state',
  checkpointInterval: 1_000,
  flushInterval: 100,
  online: { type: EMBEDDED },
  offline: { type: 'parquet', path: './.fenestra/offline' },
  deadLettersFile: 'dead-letters.ndjson',
} as const;

/**
 * The default `state.instanceId`: host name and a hash of the state directory, so it is stable across
 * restarts of one instance and distinct for two instances on one host (each has its own state.dir).
 */
export function defaultInstanceId(stateDir: string): string {
  const host = hostname().replace(/[^A-Za-z0-9_.-]/g, '_') || 'host';
  return `${host}-${createHash('sha1').update(stateDir).digest('hex').slice(0, 8)}`;
}

/** `state.shared` (a directory resolved against the config's directory, or an s3:// URL) and `state.s3`. */
function compileShared(state: Record<string, unknown>, baseDir: string, sink: IssueSink): Pick<EngineSpec['state'], 'shared' | 's3'> {
  const shared = typeof state.shared === 'string' ? state.shared : undefined;
  const s3 = isObject(state.s3) ? (state.s3 as S3ConnectionSpec) : undefined;
  if (shared?.startsWith('s3://')) {
    if (!/^s3:\/\/[^/]+/.test(shared)) sink.add('state.shared', `"${shared}" names no bucket (expected s3://bucket/prefix/)`);
    return { shared, ...(s3 ? { s3 } : {}) };
  }
  if (s3) sink.add('state.s3', 'state.s3 applies only when state.shared is an s3:// URL');
  return shared === undefined ? {} : { shared: resolve(baseDir, shared) };
}

function pluginRef(raw: unknown, fallback: { readonly type: string; readonly [k: string]: unknown }): PluginRefSpec {
  const block = isObject(raw) && typeof raw.type === 'string' ? raw : fallback;
  const options: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(block)) if (k !== 'type') options[k] = v;
  return { type: block.type as string, options };
}

/**
 * Runs the semantic checks on a schema-checked config and builds the `EngineSpec`: durations in ms,
 * defaults filled in, paths resolved against `baseDir`, `group:*` expanded. Every problem goes to
 * `sink`; the returned spec is meaningful only if the sink stays empty.
 */
export function compileConfig(doc: unknown, baseDir: string, sink: IssueSink): EngineSpec {
  const raw = isObject(doc) ? doc : {};
  const server = isObject(raw.server) ? raw.server : {};
  const state = isObject(raw.state) ? raw.state : {};
  const dead = isObject(raw.deadLetters) ? raw.deadLetters : {};

  const entities = compileEntities(raw.entities);
  const sources = compileSources(raw.sources, entities, sink);
  const groups = compileGroups(raw.featureGroups, sources, entities, sink);
  const services = compileServices(raw.featureServices, groups, declaredFeatureNames(raw.featureGroups), sink);

  const stateDir = resolve(baseDir, typeof state.dir === 'string' ? state.dir : CONFIG_DEFAULTS.stateDir);
  return {
    baseDir,
    server: {
      host: typeof server.host === 'string' ? server.host : CONFIG_DEFAULTS.host,
      port: typeof server.port === 'number' ? server.port : CONFIG_DEFAULTS.port,
      bodyLimit: bytesAt(server.bodyLimit, 'server.bodyLimit', sink, CONFIG_DEFAULTS.bodyLimit),
    },
    state: {
      dir: stateDir,
      checkpointInterval: positiveDurationAt(state.checkpointInterval, 'state.checkpointInterval', sink, CONFIG_DEFAULTS.checkpointInterval),
      flushInterval: positiveDurationAt(state.flushInterval, 'state.flushInterval', sink, CONFIG_DEFAULTS.flushInterval),
      ...compileShared(state, baseDir, sink),
      instanceId: typeof state.instanceId === 'string' ? state.instanceId : defaultInstanceId(stateDir),
    },
    entities,
    sources,
    groups,
    services,
    online: compileOnline(pluginRef(raw.online, CONFIG_DEFAULTS.online), sink),
    offline: pluginRef(raw.offline, CONFIG_DEFAULTS.offline),
    deadLetters: {
      path: typeof dead.path === 'string' ? resolve(baseDir, dead.path) : resolve(stateDir, CONFIG_DEFAULTS.deadLettersFile),
    },
  };
}
