import { describe, expect, it } from 'vitest';
import { onlineReads } from '../../../config/compile-online.js';
import { resolvePlugins } from '../../../config/plugins.js';
import { check, exampleConfig, show } from './helpers.js';

describe('online.reads', () => {
  it('defaults to engine for embedded (also when online is absent) and to store for external stores', async () => {
    const none = await check(exampleConfig());
    expect(none.issues, show(none.issues)).toEqual([]);
    expect(none.spec!.online).toEqual({ type: 'embedded', options: {} });
    expect(onlineReads(none.spec!.online)).toBe('engine');

    const c = exampleConfig();
    c.online = { type: 'redis', url: 'redis://127.0.0.1:6379' };
    const redis = await check(c);
    expect(redis.issues, show(redis.issues)).toEqual([]);
    expect(onlineReads(redis.spec!.online)).toBe('store');
  });

  it('is engine-owned: kept out of the plugin options, so the plugin schema does not see it', async () => {
    const c = exampleConfig();
    c.online = { type: 'redis', url: 'redis://127.0.0.1:6379', reads: 'engine' };
    const { spec, issues } = await check(c);
    expect(issues, show(issues)).toEqual([]);
    expect(spec!.online).toEqual({ type: 'redis', options: { url: 'redis://127.0.0.1:6379' }, reads: 'engine' });
    expect(onlineReads(spec!.online)).toBe('engine');
    const plugin = await resolvePlugins(spec!);
    expect(plugin.issues.filter((i) => i.path.startsWith('online'))).toEqual([]);
  });

  it('reports a bad value and reads: store with embedded at online.reads', async () => {
    const bad = exampleConfig();
    bad.online = { type: 'redis', reads: 'cache' };
    const r1 = await check(bad);
    expect(r1.issues.map((i) => [i.path, i.code])).toEqual([['online.reads', 'CONFIG_INVALID']]);
    expect(r1.issues[0]!.message).toContain('store');

    const emb = exampleConfig();
    emb.online = { type: 'embedded', reads: 'store' };
    const r2 = await check(emb);
    expect(r2.issues.map((i) => [i.path, i.code])).toEqual([['online.reads', 'CONFIG_INVALID']]);
    expect(r2.issues[0]!.message).toContain('embedded');

    const ok = exampleConfig();
    ok.online = { type: 'embedded', reads: 'engine' };
    expect((await check(ok)).issues).toEqual([]);
  });
});
