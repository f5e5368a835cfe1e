import type { FastifyInstance } from 'fastify';
import { sendError } from '../errors.js';
import type { DaemonContext } from '../context.js';
import { errorSchema } from './schemas.js';

/** `/healthz` (the process answers), `/readyz` (recovered and every source open), `/metrics` (Prometheus). */
export function healthRoutes(app: FastifyInstance, ctx: DaemonContext): void {
  app.get('/healthz', { schema: { summary: 'Liveness', tags: ['ops'] } }, async () => ({ status: 'ok' }));
  app.get(
    '/readyz',
    { schema: { summary: 'Readiness: 200 once recovery finished and every source is open, 503 NOT_READY before', tags: ['ops'], response: { 503: errorSchema } } },
    async (_req, reply) => {
      if (!ctx.engine.isReady()) return sendError(reply, 'NOT_READY', 'the engine is recovering its last checkpoint or opening its sources');
      return { status: 'ready' };
    },
  );
  app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['ops'] } }, async (_req, reply) => {
    const text = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(text);
  });
}
