import type { FastifyInstance } from 'fastify';
import type { FeatureRead } from '../../core/runtime/api.js';
import { parseInstant } from '../../core/time/duration.js';
import { fail } from '../errors.js';
import { groupFeatureNames, resolveRefs, type ResolvedRefs } from '../feature-refs.js';
import type { DaemonContext } from '../context.js';
import { errorResponse } from './schemas.js';
import { batchAnswerJson, batchRowsJson, oneAnswerJson, type GroupReads, type GroupRows } from './features-json.js';

interface OneQuery {
  asOf?: string;
  features?: string;
  [k: string]: string | undefined;
}

/** `asOf` as epoch ms (number or digit text) or ISO-8601; INVALID_AS_OF otherwise. */
export function asOfParam(v: unknown, field = 'asOf'): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const t = parseInstant(v);
  if (t === null) fail('INVALID_AS_OF', `asOf ${JSON.stringify(v)} is neither epoch milliseconds nor ISO-8601`, field);
  return t;
}

/** `request.<name>=value` query parameters as request fields (numbers when numeric). */
function requestFromQuery(q: OneQuery): Record<string, unknown> | undefined {
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(q)) {
    if (!k.startsWith('request.') || v === undefined) continue;
    out ??= {};
    out[k.slice(8)] = v !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
  }
  return out;
}

interface BatchBody {
  keys: string[];
  features: string[];
  request?: Record<string, unknown> | Record<string, unknown>[];
  asOf?: number | string;
}

const featureMap = { type: 'object', additionalProperties: { type: ['number', 'string', 'boolean', 'null'] } } as const;

/** `GET /v1/features/:group/:key` and `POST /v1/features`. */
export function featureRoutes(app: FastifyInstance, ctx: DaemonContext): void {
  const { engine, metrics } = ctx;
  const spec = engine.spec;
  const getLatency = metrics.readLatency.labels('get');
  /** The batch answer from `readRows`: one call per group, rows of the requested features. */
  const batchFromRows = async (keys: readonly string[], refs: ResolvedRefs, asOf: number, request: BatchBody['request']): Promise<string> => {
    const groups: GroupRows[] = [];
    const perKey = Array.isArray(request);
    for (const [group, features] of refs) {
      const rows = perKey ? await engine.readRows!(group, keys, { asOf, features }, request) : await engine.readRows!(group, keys, { asOf, features, ...(request === undefined ? {} : { request }) });
      groups.push({ group, features, rows });
    }
    // Written as JSON text here (the schema documents it; fastify sends a string as it is).
    return batchRowsJson(asOf, keys, groups);
  };

  /** The batch answer from `read` / `readMany` (an EngineApi without `readRows`). */
  const batchFromReads = async (keys: readonly string[], refs: ResolvedRefs, asOf: number, request: BatchBody['request']): Promise<string> => {
    const perKey = Array.isArray(request);
    const groups: GroupReads[] = [];
    for (const [group, features] of refs) {
      // All of a group's features, in order: read them all (the reader then skips picking a subset).
      const all = groupFeatureNames(spec.groups.get(group)!);
      const wanted = features.length === all.length && features.every((f, i) => f === all[i]) ? undefined : features;
      let reads: readonly FeatureRead[];
      if (perKey) {
        const each: FeatureRead[] = [];
        for (let i = 0; i < keys.length; i++) each.push(await engine.read(group, keys[i]!, { asOf, ...(wanted === undefined ? {} : { features: wanted }), request: request[i]! }));
        reads = each;
      } else {
        reads = await engine.readMany(group, keys, { asOf, ...(wanted === undefined ? {} : { features: wanted }), ...(request === undefined ? {} : { request }) });
      }
      groups.push({ group, features, reads });
    }
    return batchAnswerJson(asOf, keys, groups);
  };
  const batchLatency = metrics.readLatency.labels('batch');

  app.get<{ Params: { group: string; key: string }; Querystring: OneQuery }>(
    '/v1/features/:group/:key',
    {
      schema: {
        summary: "One entity's features, windows finalized at the read's time",
        tags: ['features'],
        params: { type: 'object', properties: { group: { type: 'string' }, key: { type: 'string' } }, required: ['group', 'key'] },
        querystring: {
          type: 'object',
          properties: {
            asOf: { type: 'string', description: 'Epoch ms or ISO-8601 (default: now)' },
            features: { type: 'string', description: 'Comma-separated subset of the group\'s features' },
          },
          additionalProperties: { type: 'string', description: '`request.<field>` values for derived features' },
        },
        response: {
          200: {
            type: 'object',
            description: 'The features; an unknown key is found: false, version 0, counts 0 and other values null',
            properties: {
              group: { type: 'string' },
              key: { type: 'string' },
              found: { type: 'boolean' },
              asOf: { type: 'number' },
              version: { type: 'number' },
              features: featureMap,
            },
          },
          400: errorResponse('INVALID_AS_OF, UNKNOWN_FEATURE, BAD_REQUEST'),
          404: errorResponse('UNKNOWN_GROUP'),
        },
      },
    },
    async (req, reply) => {
      const t0 = process.hrtime.bigint();
      const { group, key } = req.params;
      const g = spec.groups.get(group);
      if (g === undefined) fail('UNKNOWN_GROUP', `no feature group "${group}"`, 'group');
      const asOf = asOfParam(req.query.asOf);
      let features: string[] | undefined;
      if (req.query.features !== undefined && req.query.features !== '') {
        features = req.query.features.split(',').map((s) => s.trim()).filter((s) => s !== '');
        const names = groupFeatureNames(g);
        for (const f of features) if (!names.includes(f)) fail('UNKNOWN_FEATURE', `feature group "${group}" has no feature "${f}"`, 'features');
      }
      const request = requestFromQuery(req.query);
      const r = await engine.read(group, key, {
        ...(asOf === undefined ? {} : { asOf }),
        ...(features === undefined ? {} : { features }),
        ...(request === undefined ? {} : { request }),
      });
      getLatency.observe(Number(process.hrtime.bigint() - t0) / 1e9);
      return reply.type('application/json; charset=utf-8').send(oneAnswerJson(r));
    },
  );

  app.post<{ Body: BatchBody }>(
    '/v1/features',
    {
      schema: {
        summary: 'Many entities × features (group:feature, group:*, or a feature service name)',
        tags: ['features'],
        body: {
          type: 'object',
          required: ['keys', 'features'],
          additionalProperties: false,
          properties: {
            keys: { type: 'array', items: { type: 'string' }, maxItems: 10_000 },
            features: { type: 'array', items: { type: 'string' }, minItems: 1 },
            request: {
              description: 'Request fields for derived features: one object for every key, or one per key',
              oneOf: [{ type: 'object' }, { type: 'array', items: { type: 'object' } }],
            },
            asOf: { type: ['number', 'string'], description: 'Epoch ms or ISO-8601 (default: now)' },
          },
        },
        response: {
          200: {
            type: 'object',
            description: 'One result per key, in the order of `keys`',
            properties: {
              asOf: { type: 'number' },
              features: { type: 'array', items: { type: 'string' } },
              results: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    key: { type: 'string' },
                    found: { type: 'object', additionalProperties: { type: 'boolean' } },
                    features: featureMap,
                  },
                },
              },
            },
          },
          400: errorResponse('BAD_REQUEST (malformed JSON, wrong types), INVALID_AS_OF, UNKNOWN_FEATURE, UNKNOWN_SERVICE'),
          404: errorResponse('UNKNOWN_GROUP'),
          413: errorResponse('PAYLOAD_TOO_LARGE: the body exceeds server.bodyLimit'),
          415: errorResponse('UNSUPPORTED_MEDIA_TYPE'),
        },
      },
    },
    async (req, reply) => {
      const t0 = process.hrtime.bigint();
      const body = req.body;
      const refs = resolveRefs(spec, body.features);
      const asOf = asOfParam(body.asOf) ?? Date.now();
      const perKey = Array.isArray(body.request);
      if (perKey && (body.request as unknown[]).length !== body.keys.length) {
        fail('BAD_REQUEST', `request has ${(body.request as unknown[]).length} entries for ${body.keys.length} keys`, 'request');
      }
      const text = engine.readRows === undefined ? await batchFromReads(body.keys, refs, asOf, body.request) : await batchFromRows(body.keys, refs, asOf, body.request);
      batchLatency.observe(Number(process.hrtime.bigint() - t0) / 1e9);
      return reply.type('application/json; charset=utf-8').send(text);
    },
  );
}
