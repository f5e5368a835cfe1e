import type { FastifyInstance } from 'fastify';
import { sendError } from '../errors.js';
import type { DaemonContext } from '../context.js';
import { readiness } from '../readiness.js';
import { errorResponse } from './schemas.js';

/**
 * `/healthz` (the process answers), `/readyz` (recovered, every source open, the online store answering),
 * `/metrics` (Prometheus).
 */
export function healthRoutes(app: FastifyInstance, ctx: DaemonContext): void {
  app.get('/healthz', { schema: { summary: 'Liveness', tags: ['ops'] } }, async () => ({ status: 'ok' }));
  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: 200 once recovery finished, every source is open and the online store answers; 503 NOT_READY before, 503 STORE_UNAVAILABLE while the online store fails',
        tags: ['ops'],
        response: { 503: errorResponse('NOT_READY while recovering or opening sources; STORE_UNAVAILABLE while the online store fails') },
      },
    },
    async (_req, reply) => {
      const r = readiness(ctx.engine);
      if (!r.ready) return sendError(reply, r.code, r.message);
      return { status: 'ready' };
    },
  );
  app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['ops'] } }, async (_req, reply) => {
    const text = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(text);
  });
}
