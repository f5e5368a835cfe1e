import type { FastifyInstance } from 'fastify';
import type { EngineSpec } from '../../core/model.js';
import { aggFeatureType } from '../../core/derived/inputs.js';
import type { DaemonContext } from '../context.js';
import { catalogSchema } from './catalog-schema.js';

/** Names of internal sources the daemon adds (none today); kept out of the catalog. */
const isInternal = (name: string): boolean => name.startsWith('__');

function windowText(w: { kind: string; size?: number }): string {
  return w.kind === 'lifetime' ? 'lifetime' : `${w.kind} ${w.size}ms`;
}

/** The catalog document: feature groups, features, types, sources, services, descriptions. */
export function catalogOf(spec: EngineSpec, push: ReadonlySet<string>): Record<string, unknown> {
  const sources = [...spec.sources.values()].filter((s) => !isInternal(s.name));
  return {
    entities: [...spec.entities.values()].map((e) => ({ name: e.name, key: e.key })),
    sources: sources.map((s) => ({
      name: s.name,
      type: s.type,
      entity: s.entity,
      keyField: s.keyField,
      eventTime: s.eventTimeField,
      allowedLatenessMs: s.allowedLateness,
      push: push.has(s.name),
      schema: s.fields.map((f) => ({ name: f.name, type: f.type, optional: f.optional })),
    })),
    featureGroups: [...spec.groups.values()].map((g) => {
      const derived = g.derived.map((d) => ({ name: d.name, kind: 'derived', expr: d.expr, type: 'double', onNull: d.onNull, onDivZero: d.onDivZero, requestFields: d.requestFields, ...(d.description ? { description: d.description } : {}) }));
      if (g.kind === 'aggregated') {
        const src = spec.sources.get(g.source);
        return {
          name: g.name,
          kind: 'aggregated',
          entity: g.entity,
          source: g.source,
          includeCurrent: g.includeCurrent,
          ...(g.description ? { description: g.description } : {}),
          features: [
            ...g.features.map((f) => ({
              name: f.name,
              kind: 'aggregation',
              agg: f.agg,
              ...(f.field === undefined ? {} : { field: f.field }),
              window: windowText(f.window),
              precisionMs: f.precision,
              type: aggFeatureType(f, src?.fields ?? []),
              ...(f.description ? { description: f.description } : {}),
            })),
            ...derived,
          ],
        };
      }
      return {
        name: g.name,
        kind: 'stored',
        entity: g.entity,
        eventTime: g.eventTimeField,
        ttlMs: g.ttl,
        ...(g.description ? { description: g.description } : {}),
        features: [...g.fields.map((f) => ({ name: f.name, kind: 'stored', type: f.type })), ...derived],
      };
    }),
    featureServices: [...spec.services.values()].map((s) => ({ name: s.name, features: s.features.map((f) => `${f.group}:${f.feature}`) })),
  };
}

export function catalogRoutes(app: FastifyInstance, ctx: DaemonContext): void {
  const doc = catalogOf(ctx.engine.spec, new Set(ctx.pushSources.keys()));
  const text = JSON.stringify(doc);
  // The schema documents the answer; the document is serialized once, as it is (nothing dropped or coerced).
  app.get('/v1/catalog', { schema: catalogSchema }, async (_req, reply) => reply.type('application/json; charset=utf-8').send(text));
}
