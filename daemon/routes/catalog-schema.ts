/**
 * The OpenAPI description of `GET /v1/catalog` (daemon/routes/catalog.ts `catalogOf`). Objects stay
 * open (`additionalProperties`): the document describes the fields every client may rely on.
 */
const str = { type: 'string' } as const;

const feature = {
  type: 'object',
  required: ['name', 'kind', 'type'],
  additionalProperties: true,
  properties: {
    name: str,
    kind: { type: 'string', enum: ['aggregation', 'derived', 'stored'] },
    type: { type: 'string', description: 'Value type (aggregations and derived features: double unless the aggregated field says otherwise)' },
    agg: { type: 'string', description: 'aggregation: count, sum, avg, min, max, last, first, stddev, variance, count_distinct' },
    field: { type: 'string', description: 'aggregation: the source field aggregated' },
    window: { type: 'string', description: 'aggregation: "sliding <ms>ms", "tumbling <ms>ms" or "lifetime"' },
    precisionMs: { type: 'number', description: 'aggregation: tile width (0 = exact)' },
    expr: { type: 'string', description: 'derived: the expression' },
    onNull: { type: 'string', enum: ['null', 'zero'] },
    onDivZero: { type: 'string', enum: ['null', 'zero', 'infinity'] },
    requestFields: { type: 'array', items: str, description: 'derived: `request.*` fields it reads' },
    description: str,
  },
} as const;

export const catalogSchema = {
  summary: 'Feature groups, features, types, sources, services, descriptions',
  tags: ['catalog'],
  response: {
    200: {
      type: 'object',
      description: 'What this daemon serves, from its configuration',
      required: ['entities', 'sources', 'featureGroups', 'featureServices'],
      additionalProperties: true,
      properties: {
        entities: { type: 'array', items: { type: 'object', required: ['name', 'key'], properties: { name: str, key: { type: 'string', description: 'The entity key field' } } } },
        sources: {
          type: 'array',
          items: {
            type: 'object',
            required: ['name', 'type', 'entity', 'push', 'schema'],
            additionalProperties: true,
            properties: {
              name: str,
              type: { type: 'string', description: 'kafka, kinesis, websocket, http, file, or a plugin' },
              entity: str,
              keyField: str,
              eventTime: { type: 'string', description: 'The event-time field' },
              allowedLatenessMs: { type: 'number' },
              push: { type: 'boolean', description: 'Takes POST /v1/ingest/:source (http, websocket)' },
              schema: { type: 'array', items: { type: 'object', required: ['name', 'type'], properties: { name: str, type: str, optional: { type: 'boolean' } } } },
            },
          },
        },
        featureGroups: {
          type: 'array',
          items: {
            type: 'object',
            required: ['name', 'kind', 'entity', 'features'],
            additionalProperties: true,
            properties: {
              name: str,
              kind: { type: 'string', enum: ['aggregated', 'stored'] },
              entity: str,
              source: { type: 'string', description: 'aggregated: the source' },
              includeCurrent: { type: 'boolean' },
              eventTime: { type: 'string', description: 'stored: the event-time feature' },
              ttlMs: { type: 'number', description: 'stored: record time to live (0 = none)' },
              description: str,
              features: { type: 'array', items: feature },
            },
          },
        },
        featureServices: { type: 'array', items: { type: 'object', required: ['name', 'features'], properties: { name: str, features: { type: 'array', items: { type: 'string', description: 'group:feature' } } } } },
      },
    },
  },
} as const;
