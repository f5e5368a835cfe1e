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
import { FileDeadLetterSink } from '../core/runtime/dead-letters.js';
import type { KeyUpdate } from '../core/runtime/api.js';
import { Engine } from '../core/runtime/engine.js';
import { OnlineFeatureReader } from '../core/runtime/online-reader.js';
import { defaultDerived } from '../core/runtime/reader.js';
import { silentLogger } from '../core/runtime/logger.js';
import { StoredGroupState, StoredWriter } from '../core/stored/index.js';
import { wireOfflineHistory, type OfflineWiring } from '../core/offline/wire.js';
import { ENGINE_VERSION } from '../core/version.js';
import { usesEngineState } from '../adapters/online/embedded/index.js';
import { PushSource } from '../adapters/sources/push/push-source.js';
import { openSplitRegistry } from '../adapters/shared-state/index.js';
import { onlineReads } from '../config/compile-online.js';
import { CountingDeadLetterSink } from './dead-letter-counts.js';
import { asContractLogger } from './logger.js';
import { OnlineHealth } from './online-health.js';
import { servingApi } from './serving-api.js';
import { buildServer } from './server.js';
import { StoreVisibility } from './store-visibility.js';

export interface DaemonOptions {
  /** pino logger for the engine, adapters and requests (default: silent). */
  readonly logger?: Pino;
  /** Override `server.host` / `server.port` (tests: port 0). */
  readonly host?: string;
  readonly port?: number;
  /**
   * Override the checkpoint store (default: the shared registry's store for this instance with
   * `state.shared`, else a FileCheckpointStore under `<state.dir>/checkpoints`).
   */
  readonly checkpointStore?: CheckpointStore;
  /** Collect Node process metrics (default true). */
  readonly processMetrics?: boolean;
  /** Write offline history through the config's offline store (default true when its plugin loads). */
  readonly offline?: boolean;
  /** Milliseconds between probes of an external online store (default 1000). */
  readonly onlineProbeIntervalMs?: number;
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
 * registry's aliases or plugin packages), stored groups, the online store, offline history
 * (core/offline/wire.ts over the offline store plugin), the checkpoint store (under `state.dir`, or
 * the shared one of adapters/shared-state with `state.shared`), the engine, and the fastify server.
 * The server listens before recovery, so `/healthz` answers and `/readyz` says NOT_READY until the
 * engine is up.
 *
 * Online store: `embedded` (adapters/online/embedded) is the engine's own state — no store is created
 * and reads come from memory. An external store (redis, dynamodb, a plugin) gets every changed entity
 * flushed to it; with `online.reads: store` (its default) the routes answer from the store (an
 * EngineApi wrapped by daemon/serving-api.ts, windows finalized at the read's time), `?wait=visible`
 * and stored-record writes wait until the store has the change (daemon/store-visibility.ts), and
 * `/readyz` / `/metrics` report the store's failures (daemon/online-health.ts probes it).
 */
export async function startDaemon(spec: EngineSpec, opts: DaemonOptions = {}): Promise<Daemon> {
  const log = opts.logger ? asContractLogger(opts.logger) : silentLogger;
  const { plugins, issues } = await resolvePlugins(spec);
  const blocking = issues.filter((i) => i.path.startsWith('sources.') || i.path.startsWith('online'));
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
  if (!usesEngineState(spec.online.type) && plugins.online) {
    onlineStore = await plugins.online.create(spec.online.options, { logger: log.child({ online: spec.online.type }), baseDir: spec.baseDir, engineVersion: ENGINE_VERSION, groups: [...spec.groups.keys()] });
  }
  const readsFromStore = onlineStore !== undefined && onlineReads(spec.online) === 'store';
  let offline: OfflineWiring | undefined;
  if (opts.offline !== false && plugins.offline) {
    const store = await plugins.offline.create(spec.offline.options, {
      logger: log.child({ offline: spec.offline.type }),
      baseDir: spec.baseDir,
      engineVersion: ENGINE_VERSION,
      // Instances sharing state write one offline store side by side, each under its own names.
      ...(spec.state.shared ? { writerId: spec.state.instanceId } : {}),
    });
    offline = wireOfflineHistory(spec, store);
  } else if (opts.offline !== false) {
    log.warn({ offline: spec.offline.type }, 'no offline store plugin: history is not written');
  }
  // With shared state (a directory, or S3), Kafka partitions move between instances with their state;
  // this instance's checkpoints then live where its peers can read them. Dead letters stay in state.dir.
  const splitRegistry = openSplitRegistry(spec.state);
  const checkpointLog = log.child({ component: 'checkpoint' });
  const checkpointStore =
    opts.checkpointStore ?? splitRegistry?.openCheckpointStore({ logger: checkpointLog }) ?? new FileCheckpointStore({ dir: join(spec.state.dir, 'checkpoints'), logger: checkpointLog });
  const deadLetters = new CountingDeadLetterSink(new FileDeadLetterSink(spec.deadLetters.path));
  const engine = new Engine(spec, {
    sources,
    checkpointStore,
    deadLetters,
    ...(onlineStore ? { onlineStore } : {}),
    ...(offline ? { offline: offline.offline, createGroup: offline.createGroup } : {}),
    extraGroups: [...storedGroups.values()],
    derived: defaultDerived(spec),
    ...(splitRegistry ? { splitRegistry } : {}),
    logger: log.child({ component: 'engine' }),
  });
  const health = onlineStore
    ? new OnlineHealth(onlineStore, {
        name: spec.online.type,
        intervalMs: opts.onlineProbeIntervalMs ?? 1000,
        logger: log.child({ online: spec.online.type }),
        onRecovered: () => void engine.flush().catch(() => undefined),
      })
    : undefined;
  const visibility = readsFromStore ? new StoreVisibility(engine, health, Math.max(20, spec.state.flushInterval)) : undefined;
  const checkpoint = (): Promise<void> => engine.checkpoint();
  const stored = storedGroups.size === 0 ? null : visibility ? visibility.storedWriter(storedGroups, checkpoint) : new StoredWriter(storedGroups, checkpoint);
  // Every accepted stored write gets its row in the offline history (`stored/<group>`), staged and
  // committed with the checkpoint that makes it durable.
  if (stored !== null && offline) stored.recordTo(offline.offline);
  const api = servingApi(engine, {
    ...(readsFromStore ? { reader: new OnlineFeatureReader(spec, onlineStore!, { derived: defaultDerived(spec) }) } : {}),
    ...(health ? { health } : {}),
    ...(visibility ? { afterStore: (l: (u: KeyUpdate) => void) => visibility.afterStore(l) } : {}),
    deadLetters,
  });
  const app = await buildServer({
    engine: api,
    pushSources: visibility ? new Map([...pushSources].map(([name, src]) => [name, visibility.pushSource(src)])) : pushSources,
    stored,
    logger: opts.logger ? (opts.logger as unknown as FastifyBaseLogger) : false,
    processMetrics: opts.processMetrics !== false,
  });
  const url = await app.listen({ host: opts.host ?? spec.server.host, port: opts.port ?? spec.server.port });
  const ready = engine.start().then(() => health?.start());
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
        health?.stop();
        try {
          await engine.stop();
        } finally {
          await splitRegistry?.close?.();
        }
      })()),
  };
}
