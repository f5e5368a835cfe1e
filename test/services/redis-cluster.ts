/**
 * Starts a small real Redis Cluster for tests: `masters` redis-server processes in cluster mode on
 * free ports (client and cluster-bus ports) on 127.0.0.1, joined and given all 16384 slots with
 * `redis-cli --cluster create` (Debian's redis-tools, installed with redis-server). Throws saying what
 * is missing if redis-server / redis-cli are not installed or the cluster does not become ready.
 */
import { spawn, spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';
import { startRedis, type RedisServer } from './redis.js';

export interface RedisClusterServers {
  /** Seed nodes as `host:port`. */
  readonly nodes: readonly string[];
  readonly servers: readonly RedisServer[];
  stop(): Promise<void>;
}

function run(cmd: string, args: readonly string[], timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    c.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
    const t = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.once('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
    c.once('exit', (code) => {
      clearTimeout(t);
      resolve({ code, out });
    });
  });
}

export async function startRedisCluster(masters = 3): Promise<RedisClusterServers> {
  const cli = spawnSync('redis-cli', ['--version'], { encoding: 'utf8' });
  if (cli.error !== undefined || cli.status !== 0) {
    throw new Error('startRedisCluster: `redis-cli` is not installed (apt-get install -y redis-server, which brings redis-tools)');
  }
  const servers: RedisServer[] = [];
  try {
    for (let i = 0; i < masters; i++) servers.push(await startRedis({ clusterBusPort: await freePort() }));
    const nodes = servers.map((s) => `127.0.0.1:${s.port}`);
    const created = await run('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'], 60_000);
    if (created.code !== 0) throw new Error(`startRedisCluster: redis-cli --cluster create failed (exit ${created.code}):\n${created.out}`);
    // Wait until every node sees the cluster as ok (slots assigned and gossip converged).
    const deadline = Date.now() + 30_000;
    for (const s of servers) {
      const c = new Redis(s.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await c.connect();
      try {
        for (;;) {
          const info = await c.cluster('INFO');
          if (/cluster_state:ok/.test(String(info))) break;
          if (Date.now() > deadline) throw new Error(`startRedisCluster: node ${s.port} not ok within 30 s:\n${String(info)}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      } finally {
        c.disconnect();
      }
    }
    return { nodes, servers, stop: async () => void (await Promise.all(servers.map((s) => s.stop()))) };
  } catch (e) {
    await Promise.all(servers.map((s) => s.stop()));
    throw e;
  }
}
