import type { FastifyInstance } from 'fastify';

/** A route as fastify registered it. */
export interface RegisteredRoute {
  readonly method: string;
  readonly url: string;
}

const lists = new WeakMap<FastifyInstance, RegisteredRoute[]>();

/** Records every route registered on `app` from now on (child contexts included). */
export function trackRoutes(app: FastifyInstance): void {
  const list: RegisteredRoute[] = [];
  lists.set(app, list);
  app.addHook('onRoute', (r) => {
    for (const method of Array.isArray(r.method) ? r.method : [r.method]) list.push({ method, url: r.url });
  });
}

/** The routes registered on `app` since trackRoutes (fastify's automatic HEAD routes included). */
export function registeredRoutes(app: FastifyInstance): readonly RegisteredRoute[] {
  return lists.get(app) ?? [];
}
