import { describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { isFenestraError } from 'fenestra/plugin';
import { testLogger } from 'fenestra/testkit';
import plugin from '../src/index.js';
import { quoteIdent } from '../src/sql.js';

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr !== null ? addr.port : 1));
    });
  });
}

describe('postgres online store: failures', () => {
  it('an unreachable server is STORE_UNAVAILABLE, and the message hides the password', async () => {
    const port = await closedPort();
    const store = await plugin.create({ url: `postgres://fenestra:s3cret@127.0.0.1:${port}/db` }, { logger: testLogger(), baseDir: '.', engineVersion: '0.1.0' });
    const err = await store.open().then(() => null, (e: unknown) => e);
    await store.close();
    expect(isFenestraError(err), String(err)).toBe(true);
    expect((err as { code: string }).code).toBe('STORE_UNAVAILABLE');
    expect((err as Error).message).toContain(`127.0.0.1:${port}`);
    expect((err as Error).message).not.toContain('s3cret');
    expect(await store.healthy().catch(() => false)).toBe(false);
  });

  it('table names are SQL identifiers only (the schema and the store both refuse anything else)', () => {
    expect(quoteIdent('fenestra_online')).toBe('"fenestra_online"');
    expect(() => quoteIdent('x"; DROP TABLE users; --')).toThrow('invalid SQL identifier');
    const pattern = new RegExp(plugin.configSchema.properties.table.pattern);
    expect(pattern.test('online_v2')).toBe(true);
    expect(pattern.test('bad-name')).toBe(false);
  });
});
