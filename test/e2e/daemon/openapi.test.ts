import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import { registeredRoutes } from '../../../daemon/route-list.js';
import { json, post, startTestDaemon, type RunningDaemon } from './harness.js';

let d: RunningDaemon;
let doc: any;
beforeAll(async () => {
  d = await startTestDaemon();
  doc = await json(await fetch(`${d.url}/docs/json`));
});
afterAll(async () => {
  await d?.stop();
});

/** fastify's `/a/:b` as OpenAPI's `/a/{b}`. */
const openapiPath = (url: string): string => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

const ajv = new Ajv({ strict: false, allErrors: true });

/** Checks an answer against the schema the document gives for this path, method and status. */
async function matchesDocument(res: Response, path: string, method: string): Promise<any> {
  const op = doc.paths[path]?.[method];
  expect(op, `${method} ${path} documented`).toBeDefined();
  const answer = op.responses[String(res.status)];
  expect(answer, `${method} ${path} documents status ${res.status}`).toBeDefined();
  const [type, media] = Object.entries<any>(answer.content ?? {})[0] ?? [];
  expect(media?.schema, `${method} ${path} ${res.status} has a schema`).toBeDefined();
  expect(res.headers.get('content-type') ?? '').toContain(type!.split(';')[0]);
  const body = type!.includes('json') ? await json(res) : await res.text();
  const validate = ajv.compile(media.schema);
  expect(validate(body), `${method} ${path} ${res.status}: ${ajv.errorsText(validate.errors)}`).toBe(true);
  return body;
}

describe('the OpenAPI document at /docs/json', () => {
  it('is OpenAPI 3.1 and lists every route fastify registered, with its method', () => {
    expect(doc.openapi).toBe('3.1.0');
    const routes = registeredRoutes(d.daemon.app);
    const gets = new Set(routes.filter((r) => r.method === 'GET').map((r) => r.url));
    // fastify adds a HEAD route for every GET by itself; those are not API of their own.
    const own = routes.filter((r) => !(r.method === 'HEAD' && gets.has(r.url)));
    expect(own.map((r) => `${r.method} ${r.url}`)).toEqual(expect.arrayContaining(['GET /v1/ws', 'PUT /FeatureGroup/:name', 'POST /BatchWriteRecord', 'GET /metrics']));
    const missing = own.filter((r) => doc.paths[openapiPath(r.url)]?.[r.method.toLowerCase()] === undefined).map((r) => `${r.method} ${r.url}`);
    expect(missing).toEqual([]);
  });

  it('gives every operation a summary, a success answer with a description, and error answers where a request can be wrong', () => {
    for (const [path, ops] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(ops)) {
        const where = `${method.toUpperCase()} ${path}`;
        expect(op.summary, where).toBeTruthy();
        const ok = Object.keys(op.responses).filter((s) => /^(2\d\d|101)$/.test(s));
        expect(ok.length, `${where} success answer`).toBeGreaterThan(0);
        for (const s of ok) expect(op.responses[s].description, `${where} ${s}`).not.toBe('Default Response');
        // Error answers say which codes they carry (e.g. /readyz 503: NOT_READY, STORE_UNAVAILABLE).
        for (const s of Object.keys(op.responses).filter((x) => /^[45]\d\d$/.test(x))) expect(op.responses[s].description, `${where} ${s}`).not.toBe('Default Response');
        const takesInput = op.requestBody !== undefined || (op.parameters ?? []).some((p: any) => p.in !== 'header');
        if (takesInput) {
          const errors = Object.keys(op.responses).filter((s) => /^[45]\d\d$/.test(s));
          expect(errors, `${where} error answers`).toContain('400');
          for (const s of errors) expect(op.responses[s].content['application/json'].schema.properties.error, `${where} ${s} error body`).toBeDefined();
        }
      }
    }
  });

  it('documents the request bodies of the SageMaker operations and POST /v1/features', () => {
    const body = (path: string, method: string): any => doc.paths[path][method].requestBody.content['application/json'].schema;
    expect(body('/FeatureGroup/{name}', 'put').required).toEqual(['Record']);
    expect(body('/BatchGetRecord', 'post').properties.Identifiers.items.required).toEqual(['FeatureGroupName', 'RecordIdentifiersValueAsString']);
    expect(body('/BatchWriteRecord', 'post').properties.Entries.items.required).toEqual(['FeatureGroupName', 'Record']);
    expect(body('/v1/features', 'post').required).toEqual(['keys', 'features']);
    const get = doc.paths['/FeatureGroup/{name}'].get.parameters.map((p: any) => `${p.in}:${p.name}`);
    expect(get).toEqual(expect.arrayContaining(['query:RecordIdentifierValueAsString', 'query:FeatureName', 'path:name']));
    expect(doc.paths['/BatchWriteRecord'].post.responses['400'].headers['x-amzn-errortype']).toBeDefined();
    expect(doc.paths['/v1/ws'].get.description).toContain('"op":"ingest"');
  });

  it('describes what the routes answer: operations, catalog, features, WebSocket without upgrade, SageMaker', async () => {
    expect(await matchesDocument(await fetch(`${d.url}/healthz`), '/healthz', 'get')).toEqual({ status: 'ok' });
    expect(await matchesDocument(await fetch(`${d.url}/readyz`), '/readyz', 'get')).toEqual({ status: 'ready' });
    expect(await matchesDocument(await fetch(`${d.url}/metrics`), '/metrics', 'get')).toContain('fenestra_ready 1');
    const cat = await matchesDocument(await fetch(`${d.url}/v1/catalog`), '/v1/catalog', 'get');
    expect(cat.featureGroups.find((g: any) => g.name === 'cc_agg').features.length).toBe(8);
    await post(`${d.url}/v1/ingest/transactions?wait=visible`, { cc_num: 'doc-card', amount: 12, trans_time: Date.now() - 1000 });
    const f = await matchesDocument(await fetch(`${d.url}/v1/features/cc_agg/doc-card?request.amount=24`), '/v1/features/{group}/{key}', 'get');
    expect(f.features).toMatchObject({ num_trans_last_10m: 1, amt_ratio2: 2 });
    await matchesDocument(await fetch(`${d.url}/v1/features/nope/1`), '/v1/features/{group}/{key}', 'get');
    const batch = await matchesDocument(await post(`${d.url}/v1/features`, { keys: ['doc-card', 'nobody'], features: ['fraud_model'], request: { amount: 24 } }), '/v1/features', 'post');
    expect(batch.results.map((r: any) => [r.key, r.found, r.features['cc_agg:num_trans_last_10m'], r.features['cc_agg:amt_ratio2'], r.features['cc_batch:avg_amt_last_1w']])).toEqual([
      ['doc-card', { cc_agg: true, cc_batch: false }, 1, 2, null],
      ['nobody', { cc_agg: false, cc_batch: false }, 0, null, null],
    ]);
    const ws = await matchesDocument(await fetch(`${d.url}/v1/ws`), '/v1/ws', 'get');
    expect(ws.error.code).toBe('UPGRADE_REQUIRED');
    expect(await matchesDocument(await fetch(`${d.url}/FeatureGroup/cc_batch?RecordIdentifierValueAsString=nobody`), '/FeatureGroup/{name}', 'get')).toEqual({});
    const bad = await post(`${d.url}/BatchGetRecord`, { Identifiers: [{ FeatureGroupName: 'cc_batch' }] });
    expect(bad.headers.get('x-amzn-errortype')).toBe('ValidationError');
    expect((await matchesDocument(bad, '/BatchGetRecord', 'post')).error.code).toBe('BAD_REQUEST');
  });
});
