/**
 * The OpenAPI document served at `/docs/json` (@fastify/swagger options). Routes describe themselves
 * through their fastify schemas; the operations routes (daemon/routes/health.ts) get their answers
 * documented here, in the document only (their runtime serialization is left as it is).
 */
import type { SwaggerOptions } from '@fastify/swagger';
import { ENGINE_VERSION } from '../core/version.js';

const status = (value: string, description: string) => ({ type: 'object', description, properties: { status: { type: 'string', enum: [value] } }, required: ['status'] });

/** Answers of routes whose own schema leaves them out, by `METHOD url`. */
const documentedAnswers: Record<string, Record<string, unknown>> = {
  'GET /healthz': { 200: status('ok', 'The process serves') },
  'GET /readyz': { 200: status('ready', 'Recovered, every source open, the online store answering') },
  'GET /metrics': {
    200: {
      description: 'Prometheus text exposition format (fenestra_* metrics and Node process metrics)',
      content: { 'text/plain; version=0.0.4; charset=utf-8': { schema: { type: 'string' } } },
    },
  },
};

export const openapiOptions: SwaggerOptions = {
  openapi: {
    openapi: '3.1.0',
    info: { title: 'Fenestra', version: ENGINE_VERSION, description: 'Real-time feature engine: serving, ingestion, SageMaker Feature Store Runtime API.' },
    tags: [
      { name: 'features', description: 'Feature reads' },
      { name: 'ingest', description: 'Push ingestion' },
      { name: 'sagemaker', description: 'SageMaker Feature Store Runtime API (restJson1)' },
      { name: 'catalog', description: 'What is served' },
      { name: 'ops', description: 'Health, readiness, metrics, this document' },
    ],
  },
  transform: ({ schema, url, route }) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const extra = methods.map((m) => documentedAnswers[`${m} ${url}`]).find((x) => x !== undefined);
    if (extra === undefined) return { schema, url };
    const own = (schema as { response?: Record<string, unknown> } | undefined)?.response ?? {};
    return { schema: { ...schema, response: { ...extra, ...own } }, url };
  },
};
