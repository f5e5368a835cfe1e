import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { classify, errorBody } from '../../../daemon/errors.js';

/** A fastify app with the daemon's error mapping and one route per place a schema can check. */
async function app() {
  // The daemon's Ajv options (daemon/server.ts): no coercion, additional properties refused rather than removed.
  const a = Fastify({ ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false, allowUnionTypes: true } } });
  a.setErrorHandler((err, _req, reply) => {
    const c = classify(err);
    void reply.code(400).send(errorBody(c.code, c.message, c.field));
  });
  a.post(
    '/body',
    {
      schema: {
        body: {
          type: 'object',
          required: ['keys'],
          additionalProperties: false,
          properties: { keys: { type: 'array', items: { type: 'string' } }, Record: { type: 'array', items: { type: 'object', required: ['FeatureName'] } }, 'a/b': { type: 'string' } },
        },
      },
    },
    async () => ({}),
  );
  a.get('/query', { schema: { querystring: { type: 'object', properties: { asOf: { type: 'string' } } } } }, async () => ({}));
  await a.ready();
  return a;
}

describe('classify: schema-validation errors name the field at fault', () => {
  it('as the other error fields are written: names, [index], the missing or unknown property', async () => {
    const a = await app();
    const field = async (payload: unknown): Promise<unknown> => {
      const res = await a.inject({ method: 'POST', url: '/body', payload: payload as object });
      const body = res.json();
      expect(body.error.code).toBe('BAD_REQUEST');
      expect(typeof body.error.message).toBe('string');
      return body.error.field;
    };
    expect(await field({ keys: 'k' })).toBe('keys');
    expect(await field({ keys: ['a', 5] })).toBe('keys[1]');
    expect(await field({})).toBe('keys');
    expect(await field({ keys: [], x: 1 })).toBe('x');
    expect(await field({ keys: [], Record: [{ FeatureName: 'a' }, {}] })).toBe('Record[1].FeatureName');
    expect(await field({ keys: [], 'a/b': 1 })).toBe('a/b');
    // About the whole body: no field.
    expect(await field([1])).toBeUndefined();
    const q = (await a.inject({ method: 'GET', url: '/query?asOf=1&asOf=2' })).json();
    expect(q.error).toMatchObject({ code: 'BAD_REQUEST', field: 'asOf' });
    await a.close();
  });
});
