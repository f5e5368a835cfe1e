/**
 * The config path of the online stores: a YAML config naming `online: { type: redis, ... }` (and
 * `dynamodb`) loads, the loader resolves the built-in plugin and validates its block against the
 * plugin's configSchema (errors carry the `online.<field>` path), and the store it creates works on
 * the real backend.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../config/load.js';
import { resolvePlugins } from '../../../config/plugins.js';
import { testLogger } from '../../../plugins/testkit/logger.js';
import { startRedis, type RedisServer } from '../../services/redis.js';

let redis: RedisServer;
let dir: string;
const base = readFileSync(new URL('../../../config/fenestra.yaml', import.meta.url), 'utf8');

function configWith(online: string): string {
  const i = base.indexOf('\nonline:');
  if (i < 0) throw new Error('config/fenestra.yaml has no top-level online: block');
  const rest = base.slice(i + 1).split('\n');
  let end = 1;
  while (end < rest.length && (rest[end]!.startsWith(' ') || rest[end]!.trim() === '')) end++;
  const path = join(dir, `fenestra-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, `${base.slice(0, i + 1)}${online}\n${rest.slice(end).join('\n')}`);
  return path;
}

/** Paths of the issues about the `online:` block (other blocks are other engineers' adapters). */
const onlineIssues = (issues: ReadonlyArray<{ path: string }>): string[] => issues.map((i) => i.path).filter((p) => p === 'online' || p.startsWith('online.'));

beforeAll(async () => {
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), 'fenestra-online-config-'));
});
afterAll(async () => {
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('online store from the config file', () => {
  it('`type: redis` loads, resolves to the built-in plugin, and its store works', async () => {
    const spec = await loadConfig(configWith(`online:\n  type: redis\n  url: ${redis.url}\n  keyPrefix: "cfg:"`));
    expect(spec.online).toEqual({ type: 'redis', options: { url: redis.url, keyPrefix: 'cfg:' } });
    const { plugins, issues } = await resolvePlugins(spec);
    expect(onlineIssues(issues)).toEqual([]);
    expect(plugins.online?.name).toBe('redis');
    const store = await plugins.online!.create(spec.online.options, {
      logger: testLogger(),
      baseDir: spec.baseDir,
      engineVersion: '0.1.0',
      groups: [...spec.groups.keys()],
    });
    await store.open();
    try {
      expect(await store.write([{ group: 'cc_agg', key: '4111', version: 1, value: Buffer.from('s') }])).toEqual({ applied: 1, skipped: 0 });
      expect((await store.read('cc_agg', ['4111'], Date.now()))[0]?.version).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('reports bad redis and dynamodb options with their config path', async () => {
    const bad = await loadConfig(configWith('online:\n  type: redis\n  url: http://127.0.0.1:6379\n  commandTimeoutMs: -1'));
    const { issues } = await resolvePlugins(bad);
    expect(onlineIssues(issues).sort()).toEqual(['online.commandTimeoutMs', 'online.url']);
    const ddb = await loadConfig(configWith('online:\n  type: dynamodb\n  table: fenestra_online\n  writeMode: batch'));
    expect(onlineIssues((await resolvePlugins(ddb)).issues)).toEqual(['online.writeMode']);
    const good = await loadConfig(configWith('online:\n  type: dynamodb\n  table: fenestra_online\n  region: us-east-1\n  endpoint: "http://127.0.0.1:8000"\n  createTable: true'));
    expect(onlineIssues((await resolvePlugins(good)).issues)).toEqual([]);
  });
});
