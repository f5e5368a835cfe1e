import { join } from 'node:path';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Logger as Pino } from 'pino';
import { resolvePlugins } from '../config/plugins.js';
import { FileCheckpointStore } from '../core/checkpoint/index.js';
import type { CheckpointStore } from '../core/contracts/checkpoint-store.js';
import type { OnlineStore } from '../core/contracts/online-store.js';
import type { Source } from '../core/contracts/source.js';
import { FenestraError } from '../core/errors.js';
import type { EngineSpec } from '../core/model.js';
import { Engine } from '../core/runtime/engine.js';
import { defaultDerived } from '../core/runtime/reader.js';
import { silentLogger } from '../core/runtime/logger.js';
import { StoredGroupState, StoredWriter } from '../core/stored/index.js';
import { wireOfflineHistory, type OfflineWiring } from '../core/offline/wire.js';
import { ENGINE_VERSION } from '../core/version.js';
import { PushSource } from '../adapters/sources/push/push-source.js';
import { asContractLogger } from './logger.js';
import { buildServer } from './server.js';

export interface DaemonOptions {
  /** pino logger for the engine, adapters and requests (default: silent). */
  readonly logger?: Pino;
  /** Override `server.host` / `server.port` (tests: port 0). */
  readonly host?: string;
  readonly port?: number;
  /** Override the checkpoint store (default: FileCheckpointStore under `<state.dir>/checkpoints`). */
  readonly checkpointStore?: CheckpointStore;
  /** Collect Node process metrics (default true). */
  readonly processMetrics?: boolean;
  /** Write offline history through the config's offline store (default true when its plugin loads). */
  readonly offline?: boolean;
}

/** A running daemon: engine + push sources + stored groups + HTTP server. */
export interface Daemon {
  readonly engine: Engine;
  readonly app: FastifyInstance;
  readonly pushSources: ReadonlyMap<string, PushSource>;
  readonly stored: StoredWriter | null;
  /** `http://host:port` the server listens on. */
  readonly url: string;
  /** Resolves once recovery finished and the sources are open (`/readyz` is 200 from then on). */
  readonly ready: Promise<void>;
  /** Graceful stop: stop accepting requests, stop the sources, final checkpoint, close stores. */
  stop(): Promise<void>;
}

/**
 * Builds and starts everything `fenestra start` runs from a compiled spec: the source plugins (the
 * registry's aliases or plugin packages), stored groups, the online store (`embedded` = served from
 * the engine's own state), offline history (core/offline/wire.ts over the offline store plugin), the
 * file checkpoint store, the engine, and the fastify server. The server
 * listens before recovery, so `/healthz` answers and `/readyz` says NOT_READY until the engine is up.
 */
export async function startDaemon(spec: EngineSpec, opts: DaemonOptions = {}): Promise<Daemon> {
  const log = opts.logger ? asContractLogger(opts.logger) : silentLogger;
  const { plugins, issues } = await resolvePlugins(spec);
  const blocking = issues.filter((i) => i.path.startsWith('sources.') || (i.path.startsWith('online') && spec.online.type !== 'embedded'));
  if (blocking.length > 0) {
    throw new FenestraError(blocking[0]!.code, `plugin problems:\n${blocking.map((i) => `${i.path}: ${i.message}`).join('\n')}`, { details: blocking, path: blocking[0]!.path });
  }
  for (const i of issues) if (!blocking.includes(i)) log.debug({ path: i.path }, `${i.message} (not used by the daemon)`);

  const sources = new Map<string, Source>();
  const pushSources = new Map<string, PushSource>();
  for (const [name, plugin] of plugins.sources) {
    const s = spec.sources.get(name)!;
    const src = await plugin.create(s.options, { logger: log.child({ source: name }), baseDir: spec.baseDir, engineVersion: ENGINE_VERSION, source: s });
    sources.set(name, src);
    if (src instanceof PushSource) pushSources.set(name, src);
  }
  const storedGroups = new Map<string, StoredGroupState>();
  for (const g of spec.groups.values()) if (g.kind === 'stored') storedGroups.set(g.name, new StoredGroupState(g));

  let onlineStore: OnlineStore | undefined;
  if (spec.online.type !== 'embedded' && plugins.online) {
    onlineStore = await plugins.online.create(spec.online.options, { logger: log.child({ online: spec.online.type }), baseDir: spec.baseDir, engineVersion: ENGINE_VERSION, groups: [...spec.groups.keys()] });
  }
  let offline: OfflineWiring | undefined;
  if (opts.offline !== false && plugins.offline) {
    const store = await plugins.offline.create(spec.offline.options, { logger: log.child({ offline: spec.offline.type }), baseDir: spec.baseDir, engineVersion: ENGINE_VERSION });
    offline = wireOfflineHistory(spec, store);
  } else if (opts.offline !== false) {
    log.warn({ offline: spec.offline.type }, 'no offline store plugin: history is not written');
  }
  const checkpointStore = opts.checkpointStore ?? new FileCheckpointStore({ dir: join(spec.state.dir, 'checkpoints'), logger: log.child({ component: 'checkpoint' }) });
  const engine = new Engine(spec, {
    sources,
    checkpointStore,
    ...(onlineStore ? { onlineStore } : {}),
    ...(offline ? { offline: offline.offline, createGroup: offline.createGroup } : {}),
    extraGroups: [...storedGroups.values()],
    derived: defaultDerived(spec),
    logger: log.child({ component: 'engine' }),
  });
  const stored = storedGroups.size > 0 ? new StoredWriter(storedGroups, () => engine.checkpoint()) : null;
  const app = await buildServer({
    engine,
    pushSources,
    stored,
    logger: opts.logger ? (opts.logger as unknown as FastifyBaseLogger) : false,
    processMetrics: opts.processMetrics !== false,
  });
  const url = await app.listen({ host: opts.host ?? spec.server.host, port: opts.port ?? spec.server.port });
  const ready = engine.start();
  ready.catch((e: unknown) => log.error({ err: e }, 'engine failed to start'));
  let stopping: Promise<void> | null = null;
  return {
    engine,
    app,
    pushSources,
    stored,
    url,
    ready,
    stop: () =>
      (stopping ??= (async () => {
        await app.close();
        await ready.catch(() => undefined);
        await engine.stop();
      })()),
  };
}
