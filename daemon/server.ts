import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import swagger from '@fastify/swagger';
import type { EngineApi } from '../core/runtime/api.js';
import type { StoredWriter } from '../core/stored/writer.js';
import type { PushSource } from '../adapters/sources/push/push-source.js';
import { classify, errorBody } from './errors.js';
import { ERROR_CODES } from '../core/errors.js';
import { NdjsonBody } from './ingest-body.js';
import { DaemonMetrics } from './metrics.js';
import { SubscriptionHub } from './subscriptions.js';
import type { DaemonContext } from './context.js';
import { featureRoutes } from './routes/features.js';
import { ingestRoutes } from './routes/ingest.js';
import { wsRoutes } from './routes/ws.js';
import { sagemakerRoutes } from './routes/sagemaker.js';
import { catalogRoutes } from './routes/catalog.js';
import { healthRoutes } from './routes/health.js';
import { openapiOptions } from './openapi.js';
import { trackRoutes } from './route-list.js';

export interface ServerOptions {
  readonly engine: EngineApi;
  /** Push sources by source name (`type: http` / `type: websocket`). */
  readonly pushSources: ReadonlyMap<string, PushSource>;
  /** Writer of stored feature groups (null when the config has none). */
  readonly stored?: StoredWriter | null;
  /** A pino logger (fastify's `loggerInstance`), or false for none. */
  readonly logger?: FastifyBaseLogger | false;
  /** Request body limit in bytes (default: the spec's `server.bodyLimit`). */
  readonly bodyLimit?: number;
  /** Longest `?wait=visible` wait (default 10 s). */
  readonly visibleTimeoutMs?: number;
  /** Collect Node process metrics too (default true). */
  readonly processMetrics?: boolean;
}

const NDJSON_TYPES = ['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines'];

/**
 * Builds the daemon's fastify app over a running engine: exactly the routes of DESIGN §5 (features,
 * ingest, WebSocket, SageMaker Feature Store Runtime, catalog, health, metrics) plus the OpenAPI
 * document at `/docs/json`. Every error is `{ "error": { "code", "message" } }` with a code of
 * core/errors.ts; a client mistake never yields a 500. The caller listens and closes.
 */
export async function buildServer(opts: ServerOptions): Promise<FastifyInstance> {
  const spec = opts.engine.spec;
  const bodyLimit = opts.bodyLimit ?? spec.server.bodyLimit;
  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger } : { logger: false }),
    bodyLimit,
    disableRequestLogging: true,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false, allowUnionTypes: true } },
    return503OnClosing: true,
    forceCloseConnections: true,
  });

  trackRoutes(app);
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(NDJSON_TYPES, { parseAs: 'string', bodyLimit }, (_req, body, done) => {
    done(null, NdjsonBody.parse(body as string));
  });

  app.setErrorHandler((err, req, reply) => {
    const c = classify(err);
    if (c.code === 'INTERNAL') req.log.error({ err, reqId: req.id }, 'internal error');
    void reply.code(ERROR_CODES[c.code].status).send(errorBody(c.code, c.code === 'INTERNAL' ? `${c.message} (request ${req.id})` : c.message, c.field));
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send(errorBody('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`));
  });

  await app.register(swagger, openapiOptions);

  const metrics = new DaemonMetrics(opts.engine, opts.pushSources, { defaultMetrics: opts.processMetrics !== false });
  const hub = new SubscriptionHub();
  const detach = [hub.attach((l) => opts.engine.onUpdate(l))];
  if (opts.stored) detach.push(hub.attach((l) => opts.stored!.onUpdate(l)));
  app.addHook('onClose', async () => {
    for (const d of detach) d();
  });

  const ctx: DaemonContext = {
    engine: opts.engine,
    pushSources: opts.pushSources,
    stored: opts.stored ?? null,
    metrics,
    hub,
    visibleTimeoutMs: opts.visibleTimeoutMs ?? 10_000,
  };
  featureRoutes(app, ctx);
  ingestRoutes(app, ctx);
  // @fastify/websocket adds onRequest/onResponse hooks: keep them in a context of their own (only /v1/ws).
  await app.register(async (child) => {
    await child.register(websocket, { options: { maxPayload: bodyLimit } });
    wsRoutes(child, ctx);
  });
  // The SageMaker routes answer every error (parser errors included) as SageMaker does: a context of their own.
  await app.register(async (child) => sagemakerRoutes(child, ctx));
  catalogRoutes(app, ctx);
  healthRoutes(app, ctx);
  app.get('/docs/json', { schema: { summary: 'This OpenAPI 3 document', tags: ['ops'], response: { 200: { type: 'object', description: 'OpenAPI 3.1 document', additionalProperties: true } } } }, async () => app.swagger());
  return app;
}
