import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { checkConfigText } from '../../../config/load.js';
import { loadPlugins, resolvePlugins } from '../../../config/plugins.js';
import type { ConfigIssue } from '../../../config/issues.js';
import { show } from './helpers.js';

const fixtures = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/plugins');
const validYaml = readFileSync(join(fixtures, 'valid.yaml'), 'utf8');
const configFile = join(fixtures, 'under-test.yaml'); // virtual: paths resolve from the fixtures directory

function validConfig(): Record<string, any> {
  return parse(validYaml) as Record<string, any>;
}

async function pluginIssues(config: Record<string, any>, file = configFile): Promise<readonly ConfigIssue[]> {
  return (await checkConfigText(stringify(config), file, {}, { plugins: true })).issues;
}

function issueAt(issues: readonly ConfigIssue[], path: string): ConfigIssue {
  const hit = issues.find((i) => i.path === path);
  if (hit === undefined) throw new Error(`no issue at ${path}; got:\n${show(issues)}`);
  return hit;
}

const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

describe('plugin loader', () => {
  it('loads path plugins relative to the config file and accepts a valid config', async () => {
    const { spec, issues } = await checkConfigText(validYaml, configFile, {}, { plugins: true });
    expect(issues, show(issues)).toEqual([]);
    const { plugins } = await resolvePlugins(spec!);
    expect(plugins.sources.get('tx')?.name).toBe('fixture-replayable-source');
    expect(plugins.online?.name).toBe('fixture-online-store');
    expect(plugins.offline?.name).toBe('fixture-offline-store');
  });

  it('reports a missing package as PLUGIN_NOT_FOUND at the type path', async () => {
    const c = validConfig();
    c.sources.tx.type = '@acme/fenestra-source-does-not-exist';
    const hit = issueAt(await pluginIssues(c), 'sources.tx.type');
    expect(hit.code).toBe('PLUGIN_NOT_FOUND');
    expect(hit.message).toContain('package "@acme/fenestra-source-does-not-exist" is not installed');
  });

  it('reports a missing path as PLUGIN_NOT_FOUND', async () => {
    const c = validConfig();
    c.online.type = './no-such-store.mjs';
    const hit = issueAt(await pluginIssues(c), 'online.type');
    expect(hit.code).toBe('PLUGIN_NOT_FOUND');
    expect(hit.message).toContain(join(fixtures, 'no-such-store.mjs'));
  });

  it('refuses a module whose default export is not branded by definePlugin', async () => {
    const c = validConfig();
    c.sources.tx.type = './unbranded.mjs';
    const hit = issueAt(await pluginIssues(c), 'sources.tx.type');
    expect(hit.code).toBe('PLUGIN_INVALID');
    expect(hit.message).toContain('definePlugin()');
  });

  it('refuses a plugin whose engine range this version does not satisfy', async () => {
    const c = validConfig();
    c.sources.tx.type = './future-engine-source.mjs';
    delete c.sources.tx.brokers;
    const hit = issueAt(await pluginIssues(c), 'sources.tx.type');
    expect(hit.code).toBe('PLUGIN_ENGINE_RANGE');
    expect(hit.message).toMatch(/requires Fenestra \^9\.0\.0, but this is Fenestra \d+\.\d+\.\d+/);
  });

  it('refuses exactly-once from a plugin that does not declare it, and accepts exactlyOnce: false', async () => {
    const c = validConfig();
    c.sources.tx.type = './at-least-once-source.mjs';
    const hit = issueAt(await pluginIssues(c), 'sources.tx.exactlyOnce');
    expect(hit.code).toBe('PLUGIN_NOT_EXACTLY_ONCE');
    expect(hit.message).toContain('set exactlyOnce: false');
    c.sources.tx.exactlyOnce = false;
    expect(await pluginIssues(c)).toEqual([]);
  });

  it('validates the plugin\'s own options with its configSchema, at full paths', async () => {
    const c = validConfig();
    c.sources.tx.brokers = '127.0.0.1:9092';
    c.sources.tx.bogus = 1;
    c.online.maxEntries = 0;
    const issues = await pluginIssues(c);
    expect(issueAt(issues, 'sources.tx.brokers').message).toBe('must be array');
    expect(issueAt(issues, 'sources.tx.bogus').message).toContain('unknown option "bogus" for plugin "fixture-replayable-source"');
    expect(issueAt(issues, 'online.maxEntries').message).toBe('must be >= 1');
    delete c.sources.tx.brokers;
    expect(issueAt(await pluginIssues(c), 'sources.tx.brokers').message).toContain('is required by plugin "fixture-replayable-source"');
  });

  it('refuses a plugin of the wrong kind for its place', async () => {
    const c = validConfig();
    c.sources.tx.type = './memory-online-store.mjs';
    const hit = issueAt(await pluginIssues(c), 'sources.tx.type');
    expect(hit.code).toBe('PLUGIN_KIND');
    expect(hit.message).toContain('is an online store plugin, but sources.tx needs a source');
  });

  it('resolves a package installed beside the config file (exports with an import condition)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fenestra-plugin-pkg-'));
    temps.push(dir);
    const pkg = join(dir, 'node_modules', '@acme', 'fenestra-source-fixture');
    mkdirSync(join(pkg, 'dist'), { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: '@acme/fenestra-source-fixture', type: 'module', exports: { '.': { import: './dist/index.js' } } }));
    cpSync(join(fixtures, 'replayable-source.mjs'), join(pkg, 'dist', 'index.js'));
    cpSync(join(fixtures, 'memory-online-store.mjs'), join(dir, 'store.mjs'));
    cpSync(join(fixtures, 'offline-store.mjs'), join(dir, 'offline.mjs'));
    const c = validConfig();
    c.sources.tx.type = '@acme/fenestra-source-fixture';
    c.online.type = './store.mjs';
    c.offline.type = './offline.mjs';
    expect(await pluginIssues(c, join(dir, 'fenestra.yaml'))).toEqual([]);
  });

  it('gives PLUGIN_NOT_FOUND, not a crash, for a built-in alias whose module is missing or not in this build', async () => {
    const { spec } = await checkConfigText(validYaml, configFile, {});
    const withAliases = { ...spec!, online: { type: 'ghost', options: {} }, offline: { type: 'reserved', options: {} } };
    const { issues } = await resolvePlugins(withAliases, {
      builtins: { ghost: () => import(join(fixtures, 'not-written-yet', 'index.js')) },
      knownAliases: ['ghost', 'reserved'],
    });
    expect(issueAt(issues, 'online.type')).toMatchObject({ code: 'PLUGIN_NOT_FOUND' });
    expect(issueAt(issues, 'online.type').message).toContain('built-in adapter "ghost" is not available in this build');
    expect(issueAt(issues, 'offline.type')).toMatchObject({ code: 'PLUGIN_NOT_FOUND' });
    expect(issueAt(issues, 'offline.type').message).toContain('built-in adapter "reserved" is not available in this build');
    await expect(loadPlugins(withAliases, { builtins: {}, knownAliases: ['ghost', 'reserved'] })).rejects.toMatchObject({ code: 'PLUGIN_NOT_FOUND' });
  });

  it('reports plugin issues beside the other config issues, all at once', async () => {
    const c = validConfig();
    c.sources.tx.type = './unbranded.mjs';
    c.online.type = './future-engine-source.mjs';
    c.featureGroups.cc_agg.features.avg_10m.field = 'amt';
    const issues = await pluginIssues(c);
    expect(issues.map((i) => `${i.path} ${i.code}`).sort()).toEqual([
      'featureGroups.cc_agg.features.avg_10m.field CONFIG_INVALID',
      'online.type PLUGIN_ENGINE_RANGE',
      'online.type PLUGIN_KIND',
      'sources.tx.type PLUGIN_INVALID',
    ]);
  });
});
