/**
 * The example third-party plugin, installed from its own directory, serves end to end:
 *
 * 1. `npm pack` the plugin (plugins/example-postgres-online-store, built by its own `npm ci`) and
 *    `npm install` the tarball, next to fenestra itself, into a fresh temp project — as a user would.
 * 2. The project's fenestra.yaml names it with one line:
 *    `online: { type: fenestra-example-postgres-online-store, url: "${PG_URL}" }`.
 * 3. `fenestra validate`'s check (config + plugins) passes; the loader resolves the package from the
 *    config file's directory (the temp project's node_modules, not the repo).
 * 4. The Engine runs the file source into the plugin's store (a real PostgreSQL started here), and a
 *    second, independent serving instance reads features from PostgreSQL through the plugin; they
 *    equal a brute-force count/sum of the events and the engine's in-memory reads.
 * 5. `fenestra start` (a child process) on a config whose only online line names the plugin: events
 *    pushed over HTTP are served by GET /v1/features, and after SIGTERM (final checkpoint + flush) the
 *    same features are read back from PostgreSQL through the plugin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkConfig, loadConfig } from '../../../config/load.js';
import { resolvePlugins } from '../../../config/plugins.js';
import { locatePluginModule } from '../../../config/plugin-module.js';
import { FileCheckpointStore } from '../../../core/checkpoint/file-store.js';
import { Engine } from '../../../core/runtime/engine.js';
import { OnlineFeatureReader } from '../../../core/runtime/online-reader.js';
import { ENGINE_VERSION } from '../../../core/version.js';
import type { Source } from '../../../core/contracts/source.js';
import { testLogger } from '../../../plugins/testkit/index.js';
import { startPostgres, type PostgresServer } from '../../../plugins/example-postgres-online-store/test/postgres-server.js';
import { configWithOnline, EXAMPLE_PLUGIN_DIR, REPO_ROOT, requireExamplePluginBuilt } from './support.js';

const PLUGIN = 'fenestra-example-postgres-online-store';
let pg: PostgresServer | undefined;
let app = '';

const T0 = Date.UTC(2026, 0, 1, 12);
const events = Array.from({ length: 300 }, (_, i) => ({
  cc_num: `card-${i % 7}`,
  amount: (i % 13) + 0.5,
  trans_time: T0 + i * 20_000, // 300 events over 100 minutes
}));

function npm(args: string[], cwd: string): void {
  execFileSync('npm', args, { cwd, stdio: 'pipe', timeout: 120_000, env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' } });
}

beforeAll(async () => {
  requireExamplePluginBuilt();
  pg = await startPostgres();
  app = mkdtempSync(join(tmpdir(), 'fenestra-app-'));
  npm(['pack', '--ignore-scripts', '--pack-destination', app], EXAMPLE_PLUGIN_DIR);
  const tgz = readdirSync(app).find((f) => f.endsWith('.tgz'));
  if (tgz === undefined) throw new Error(`npm pack of ${EXAMPLE_PLUGIN_DIR} produced no tarball`);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'fenestra-user-app', private: true, type: 'module' }));
  npm(['install', '--prefer-offline', '--ignore-scripts', REPO_ROOT, `./${tgz}`], app);
  writeFileSync(join(app, 'tx.ndjson'), events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  writeFileSync(join(app, 'fenestra.yaml'), configWithOnline(`{ type: ${PLUGIN}, url: "\${PG_URL}", table: app_online }`)
    + 'state: { dir: ./state, checkpointInterval: 1h, flushInterval: 100ms }\n');
}, 180_000);

let daemon: ChildProcess | undefined;

afterAll(async () => {
  if (daemon && daemon.exitCode === null) daemon.kill('SIGKILL');
  await pg?.stop();
  if (app) rmSync(app, { recursive: true, force: true });
});

describe('example plugin installed from its own directory', () => {
  it('one config line loads it: validate passes and the package resolves from the config directory', async () => {
    const env = { PG_URL: pg!.url };
    const { issues } = await checkConfig(join(app, 'fenestra.yaml'), env, { plugins: true });
    expect(issues.filter((i) => !i.path.startsWith('offline'))).toEqual([]);
    const where = locatePluginModule(PLUGIN, app);
    expect(where.found && where.description).toBe(join(app, 'node_modules', PLUGIN, 'dist', 'index.js'));
  });

  it('the engine writes through it to PostgreSQL and another instance serves the features from there', async () => {
    const env = { PG_URL: pg!.url };
    const spec = await loadConfig(join(app, 'fenestra.yaml'), env);
    const { plugins, issues } = await resolvePlugins(spec);
    expect(issues.filter((i) => !i.path.startsWith('offline'))).toEqual([]);
    expect(plugins.online?.name).toBe(PLUGIN);
    const ctx = { logger: testLogger(), baseDir: spec.baseDir, engineVersion: ENGINE_VERSION, groups: [...spec.groups.keys()] };
    const sources = new Map<string, Source>();
    for (const [name, p] of plugins.sources) sources.set(name, await p.create(spec.sources.get(name)!.options, { ...ctx, source: spec.sources.get(name)! }));

    const engine = new Engine(spec, {
      sources,
      checkpointStore: new FileCheckpointStore({ dir: join(spec.state.dir, 'checkpoints') }),
      onlineStore: await plugins.online!.create(spec.online.options, ctx),
    });
    await engine.start();
    await engine.drained();
    const keys = [...new Set(events.map((e) => e.cc_num))].sort();
    const asOfs = [T0 + 100 * 60_000, T0 + 105 * 60_000, T0 + 5 * 3_600_000]; // from the newest event on (a quiet card reads 0 later)
    const inMemory = await Promise.all(asOfs.map((asOf) => engine.readMany('cc_agg', keys, { asOf })));
    await engine.stop(); // final checkpoint + flush to PostgreSQL, then closes the store

    // A separate serving instance: its own store instance (own connections), reads from PostgreSQL.
    const store = await plugins.online!.create(spec.online.options, ctx);
    await store.open();
    try {
      const reader = new OnlineFeatureReader(spec, store);
      for (const [i, asOf] of asOfs.entries()) {
        const served = await reader.readMany('cc_agg', keys, { asOf });
        for (const [k, key] of keys.entries()) {
          const mine = events.filter((e) => e.cc_num === key);
          const count10m = mine.filter((e) => e.trans_time > asOf - 600_000 && e.trans_time <= asOf).length;
          const sum1h = mine.filter((e) => e.trans_time > asOf - 3_600_000 && e.trans_time <= asOf).reduce((s, e) => s + e.amount, 0);
          const r = served[k]!;
          expect(r.found, `${key} served from PostgreSQL`).toBe(true);
          expect(r.version).toBe(mine.length);
          expect(r.values['num_trans_last_10m']).toBe(count10m);
          expect(r.values['sum_amt_last_1h'] as number).toBeCloseTo(sum1h, 9);
          expect(r.values).toEqual(inMemory[i]![k]!.values);
        }
      }
    } finally {
      await store.close();
    }
  });
});

/** Starts `fenestra start -c config --port 0` from the TypeScript sources; resolves with its URL once ready. */
async function startFenestra(config: string): Promise<{ url: string; child: ChildProcess; stderr: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'cli/main.ts'), 'start', '-c', config, '--port', '0', '--host', '127.0.0.1'],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PG_URL: pg!.url } });
  daemon = child;
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fenestra start did not report ready within 60 s\nstdout: ${out.slice(-2000)}\nstderr: ${err.slice(-2000)}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      for (const line of out.split('\n')) {
        if (!line.includes('fenestra ready')) continue;
        clearTimeout(timer);
        resolve((JSON.parse(line) as { url: string }).url);
      }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`fenestra start exited with ${code}\nstdout: ${out.slice(-2000)}\nstderr: ${err.slice(-2000)}`)); });
  });
  return { url, child, stderr: () => err };
}

describe('example plugin behind fenestra start', () => {
  it('events pushed over HTTP are served, and the same features are in PostgreSQL through the plugin', async () => {
    const config = join(app, 'fenestra-http.yaml');
    writeFileSync(config, configWithOnline(`{ type: ${PLUGIN}, url: "\${PG_URL}", table: app_online_http }`)
      .replace(/    type: file\n    path: \.\/tx\.ndjson\n/, '    type: http\n')
      + 'state: { dir: ./state-http, checkpointInterval: 1h, flushInterval: 100ms }\n');
    const { url, child } = await startFenestra(config);
    const body = events.map((e) => JSON.stringify(e)).join('\n');
    const ingest = await fetch(`${url}/v1/ingest/tx?wait=visible`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
    expect(ingest.status, await ingest.clone().text()).toBe(200);
    expect(((await ingest.json()) as { accepted: number }).accepted).toBe(events.length);

    const asOf = T0 + 100 * 60_000;
    const keys = [...new Set(events.map((e) => e.cc_num))].sort();
    const served: Record<string, unknown> = {};
    for (const key of keys) {
      const res = await fetch(`${url}/v1/features/cc_agg/${key}?asOf=${asOf}`);
      expect(res.status).toBe(200);
      const r = (await res.json()) as { found: boolean; version: number; features: Record<string, unknown> };
      const mine = events.filter((e) => e.cc_num === key);
      expect(r.found).toBe(true);
      expect(r.version).toBe(mine.length);
      expect(r.features['num_trans_last_10m']).toBe(mine.filter((e) => e.trans_time > asOf - 600_000 && e.trans_time <= asOf).length);
      served[key] = r.features;
    }

    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);

    const spec = await loadConfig(config, { PG_URL: pg!.url });
    const { plugins } = await resolvePlugins(spec);
    const store = await plugins.online!.create(spec.online.options, { logger: testLogger(), baseDir: spec.baseDir, engineVersion: ENGINE_VERSION, groups: ['cc_agg'] });
    await store.open();
    try {
      const reads = await new OnlineFeatureReader(spec, store).readMany('cc_agg', keys, { asOf });
      for (const [i, key] of keys.entries()) expect(reads[i]!.values, `${key} in PostgreSQL`).toEqual(served[key]);
    } finally {
      await store.close();
    }
  });
});
