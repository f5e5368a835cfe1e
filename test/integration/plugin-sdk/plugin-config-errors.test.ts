/**
 * What a user sees when `online.type` names a plugin that cannot be used: a missing package, a
 * missing path, a plugin made for another Fenestra version, a module that is not a plugin, and the
 * plugin's own config errors — each as a config issue with its full path and a stable code, listed
 * beside the other issues by `checkConfigText` (what `fenestra validate` prints).
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkConfigText } from '../../../config/load.js';
import { configWithOnline, EXAMPLE_PLUGIN_DIR, REPO_ROOT, requireExamplePluginBuilt } from './support.js';

const here = new URL('.', import.meta.url).pathname;
const configFile = join(here, 'fenestra.yaml'); // virtual: plugins resolve from this directory

/** The issues of the places under test (the offline store's registration is another module's concern). */
function subject<T extends { path: string }>(issues: readonly T[]): T[] {
  return issues.filter((i) => !i.path.startsWith('offline'));
}

async function issuesFor(online: string, file = configFile) {
  const { issues } = await checkConfigText(configWithOnline(online), file, {}, { plugins: true });
  return subject(issues).map((i) => ({ path: i.path, code: i.code, message: i.message }));
}

describe('plugin errors in the config, with paths', () => {
  it('a package that is not installed: PLUGIN_NOT_FOUND at online.type, saying where it looked', async () => {
    const issues = await issuesFor('{ type: "@acme/fenestra-online-nope", url: "x" }');
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ path: 'online.type', code: 'PLUGIN_NOT_FOUND' });
    expect(issues[0]!.message).toContain('"@acme/fenestra-online-nope"');
    expect(issues[0]!.message).toContain('not installed');
  });

  it('a path that does not exist: PLUGIN_NOT_FOUND naming the resolved path', async () => {
    const issues = await issuesFor('{ type: ./no-such-plugin/index.js }');
    expect(issues).toEqual([expect.objectContaining({ path: 'online.type', code: 'PLUGIN_NOT_FOUND' })]);
    expect(issues[0]!.message).toContain(join(here, 'no-such-plugin/index.js'));
  });

  it('a plugin whose engine range excludes this Fenestra: PLUGIN_ENGINE_RANGE with both versions', async () => {
    const issues = await issuesFor('{ type: ./fixtures/future-plugin.mjs }');
    expect(issues).toEqual([expect.objectContaining({ path: 'online.type', code: 'PLUGIN_ENGINE_RANGE' })]);
    expect(issues[0]!.message).toMatch(/plugin "fenestra-future-store" requires Fenestra \^9\.0\.0, but this is Fenestra 0\.\d+\.\d+/);
  });

  it('a module not made by definePlugin: PLUGIN_INVALID', async () => {
    const issues = await issuesFor('{ type: ./fixtures/not-a-plugin.mjs }');
    expect(issues).toEqual([expect.objectContaining({ path: 'online.type', code: 'PLUGIN_INVALID' })]);
    expect(issues[0]!.message).toContain('definePlugin()');
  });

  it("the example plugin's own config errors appear with full paths beside the other issues", async () => {
    requireExamplePluginBuilt();
    const rel = `./${join('../../../plugins/example-postgres-online-store')}`;
    const text = configWithOnline(`{ type: "${rel}", url: 42, poolSize: 0, bogus: true }`)
      .replace('window: 10m', 'window: 10 minutes'); // plus an unrelated error elsewhere
    const { issues } = await checkConfigText(text, configFile, {}, { plugins: true });
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i]));
    expect(Object.keys(byPath)).toEqual(expect.arrayContaining(['online.url', 'online.poolSize', 'online.bogus']));
    expect(byPath['online.bogus']!.message).toContain('unknown option "bogus" for plugin "fenestra-example-postgres-online-store"');
    expect(issues.some((i) => i.path.startsWith('featureGroups.cc_agg.features.num_trans_last_10m'))).toBe(true);
    expect(EXAMPLE_PLUGIN_DIR.startsWith(REPO_ROOT)).toBe(true);
  });

  it('the example plugin used as a source: PLUGIN_KIND', async () => {
    requireExamplePluginBuilt();
    const text = configWithOnline('{ type: memory }').replace('type: file', 'type: "../../../plugins/example-postgres-online-store"');
    const { issues } = await checkConfigText(text, configFile, {}, { plugins: true });
    expect(subject(issues)).toEqual([expect.objectContaining({ path: 'sources.tx.type', code: 'PLUGIN_KIND' })]);
  });
});

describe('fenestra validate (the CLI) on plugin problems', () => {
  it('prints a missing plugin and a version mismatch with their paths and codes, and exits 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fenestra-validate-'));
    try {
      const file = join(dir, 'fenestra.yaml');
      const text = configWithOnline(`{ type: "${join(here, 'fixtures/future-plugin.mjs')}" }`)
        .replace('type: file', 'type: fenestra-source-that-is-not-installed');
      writeFileSync(file, text);
      const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'cli/main.ts'), 'validate', '-c', file], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
      const out = `${r.stdout}${r.stderr}`;
      expect(r.status, out).toBe(1);
      expect(out).toMatch(/sources\.tx\.type.*(PLUGIN_NOT_FOUND|cannot find plugin "fenestra-source-that-is-not-installed")/);
      expect(out).toContain('fenestra-source-that-is-not-installed');
      expect(out).toMatch(/online\.type.*requires Fenestra \^9\.0\.0, but this is Fenestra/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
