import { createHash } from 'node:crypto';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { OnlineRecord, OnlineStore, OnlineWriteResult } from '../../../core/contracts/online-store.js';
import type { Logger } from '../../../core/contracts/logger.js';
import { FenestraError } from '../../../core/errors.js';
import { isExpired } from '../shared/expiry.js';
import { checkOverrideGroups, perGroup } from '../shared/group-names.js';
import { parseClusterNode, type RedisOnlineConfig } from './config.js';
import { DELETE_SCRIPT, WRITE_SCRIPT } from './scripts.js';
import { packRecord, unpackRecord } from './record-format.js';

const sha1 = (s: string): string => createHash('sha1').update(s).digest('hex');
const WRITE_SHA = sha1(WRITE_SCRIPT);
const DELETE_SHA = sha1(DELETE_SCRIPT);

function isNoScript(e: unknown): boolean {
  return e instanceof Error && e.message.startsWith('NOSCRIPT');
}

/** The ioredis options this store derives from its config (exported for the construction tests). */
export function redisClientOptions(cfg: RedisOnlineConfig): RedisOptions {
  const tls =
    cfg.tls === true ? {} : typeof cfg.tls === 'object' ? { ...cfg.tls } : undefined;
  return {
    lazyConnect: true,
    // Fail fast while disconnected: `write` rejects, the engine keeps its keys dirty and retries.
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
    connectTimeout: cfg.connectTimeoutMs ?? 5000,
    commandTimeout: cfg.commandTimeoutMs ?? 5000,
    retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    ...(cfg.username !== undefined ? { username: cfg.username } : {}),
    ...(cfg.password !== undefined ? { password: cfg.password } : {}),
    ...(tls !== undefined ? { tls } : {}),
  };
}

/** The ioredis cluster options (seed nodes come from `cfg.cluster`). */
export function redisClusterOptions(cfg: RedisOnlineConfig): ClusterOptions {
  const { lazyConnect: _l, enableAutoPipelining: _a, enableOfflineQueue: _o, ...node } = redisClientOptions(cfg);
  return {
    lazyConnect: true,
    enableAutoPipelining: true,
    // ioredis groups auto-pipelined commands by the slot of their first argument, which for EVALSHA is
    // the script's sha, not the key: send those one by one (they still go out without waiting).
    autoPipeliningIgnoredCommands: ['evalsha', 'eval', 'script'],
    enableOfflineQueue: false,
    enableReadyCheck: true,
    slotsRefreshTimeout: cfg.connectTimeoutMs ?? 5000,
    clusterRetryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    redisOptions: node,
  };
}

/** Builds the ioredis client (single server or cluster) without connecting. */
export function createRedisClient(cfg: RedisOnlineConfig): Redis | Cluster {
  if (cfg.cluster !== undefined && cfg.cluster.length > 0) {
    return new Cluster(cfg.cluster.map(parseClusterNode), redisClusterOptions(cfg));
  }
  return new Redis(cfg.url ?? 'redis://127.0.0.1:6379', redisClientOptions(cfg));
}

/**
 * OnlineStore on Redis. Each record is one string at `<keyPrefix><groupPrefix><key>` packing version,
 * expiresAt and the value bytes (record-format.ts). Writes go through the compare-and-set script of
 * scripts.ts by EVALSHA (loaded once per server, reloaded on NOSCRIPT after a restart), many records
 * per call on a single server and one per call on a cluster; ioredis auto-pipelining sends all calls
 * of one `write` as one pipeline. A `read` is one MGET on a single server, one GET per key (pipelined
 * per node) on a cluster. The key also gets a Redis TTL at expiresAt, and reads check expiry
 * themselves. While Redis is unreachable commands fail at once (no offline queue), so `write` rejects
 * and the engine retries; a rejected `write` may have been partly applied, which the version guard
 * makes harmless. Threading: reads may run concurrently with each other and with one write.
 */
export class RedisOnlineStore implements OnlineStore {
  readonly client: Redis | Cluster;
  private readonly cfg: RedisOnlineConfig;
  private readonly logger: Logger;
  private readonly prefixes = new Map<string, string>();
  private readonly chunk: number;
  private loading: Promise<void> | undefined;
  /** The last connection error (a TLS or auth failure explains a bare "Connection is closed"). */
  private lastConnectionError: string | undefined;

  constructor(cfg: RedisOnlineConfig, logger: Logger, groups: readonly string[] = [], client?: Redis | Cluster) {
    checkOverrideGroups(cfg.groupPrefixes, groups, 'online.groupPrefixes');
    this.cfg = cfg;
    this.logger = logger;
    this.client = client ?? createRedisClient(cfg);
    this.chunk = this.client instanceof Cluster ? 1 : Math.max(1, cfg.writeChunkSize ?? 128);
    this.client.on('error', (e: Error) => {
      this.lastConnectionError = e.message;
      this.logger.debug({ err: e.message }, 'redis connection error');
    });
  }

  /** The Redis key of one record. */
  keyOf(group: string, key: string): string {
    let p = this.prefixes.get(group);
    if (p === undefined) {
      p = (this.cfg.keyPrefix ?? 'fenestra:') + perGroup(group, this.cfg.groupPrefixes, (g) => `${g}:`);
      this.prefixes.set(group, p);
    }
    return p + key;
  }

  async open(): Promise<void> {
    try {
      await this.client.connect();
      await this.loadScripts();
    } catch (e) {
      this.client.disconnect(); // no reconnect loop behind a failed open; open() may be called again
      const last = this.lastConnectionError !== undefined && this.lastConnectionError !== (e as Error).message ? `; last connection error: ${this.lastConnectionError}` : '';
      throw new FenestraError('STORE_UNAVAILABLE', `redis online store: cannot connect (${(e as Error).message}${last})`, { cause: e });
    }
  }

  /** SCRIPT LOAD on every server (every master of a cluster); concurrent callers share one load. */
  private loadScripts(): Promise<void> {
    this.loading ??= (async () => {
      const nodes = this.client instanceof Cluster ? this.client.nodes('master') : [this.client];
      await Promise.all(nodes.map(async (n) => {
        await n.script('LOAD', WRITE_SCRIPT);
        await n.script('LOAD', DELETE_SCRIPT);
      }));
    })().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async evalsha(sha: string, keys: readonly string[], args: ReadonlyArray<string | Buffer>): Promise<unknown> {
    try {
      return await this.client.evalsha(sha, keys.length, ...keys, ...args);
    } catch (e) {
      if (!isNoScript(e)) throw e;
      await this.loadScripts(); // the server restarted (script cache is not persisted)
      return await this.client.evalsha(sha, keys.length, ...keys, ...args);
    }
  }

  async write(records: readonly OnlineRecord[]): Promise<OnlineWriteResult> {
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < records.length; i += this.chunk) {
      const part = records.slice(i, i + this.chunk);
      const keys: string[] = new Array(part.length);
      const args: Array<string | Buffer> = new Array(part.length * 3);
      for (let j = 0; j < part.length; j++) {
        const r = part[j]!;
        keys[j] = this.keyOf(r.group, r.key);
        args[3 * j] = String(r.version);
        args[3 * j + 1] = r.expiresAt === undefined ? '' : String(Math.floor(r.expiresAt));
        args[3 * j + 2] = packRecord(r);
      }
      calls.push(this.evalsha(WRITE_SHA, keys, args));
    }
    const results = await Promise.allSettled(calls);
    let applied = 0;
    for (const r of results) {
      if (r.status === 'rejected') {
        const e = r.reason as Error;
        throw new FenestraError('STORE_UNAVAILABLE', `redis online store: write failed (${e.message})`, { cause: e });
      }
      applied += Number(r.value);
    }
    return { applied, skipped: records.length - applied };
  }

  async read(group: string, keys: readonly string[], now: number): Promise<ReadonlyArray<OnlineRecord | null>> {
    let rows: Array<Buffer | null>;
    try {
      rows =
        keys.length === 0
          ? []
          : this.client instanceof Cluster
            ? // keys of one MGET must share a slot on a cluster: one GET per key, auto-pipelined per node
              await Promise.all(keys.map((k) => this.client.getBuffer(this.keyOf(group, k))))
            : await this.client.mgetBuffer(keys.map((k) => this.keyOf(group, k)));
    } catch (e) {
      throw new FenestraError('STORE_UNAVAILABLE', `redis online store: read failed (${(e as Error).message})`, { cause: e });
    }
    const out: Array<OnlineRecord | null> = new Array(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const buf = rows[i];
      const rec = buf === null || buf === undefined ? null : unpackRecord(group, keys[i]!, buf);
      out[i] = rec === null || isExpired(rec.expiresAt, now) ? null : rec;
    }
    return out;
  }

  async delete(group: string, key: string, version: number): Promise<void> {
    try {
      await this.evalsha(DELETE_SHA, [this.keyOf(group, key)], [String(version)]);
    } catch (e) {
      throw new FenestraError('STORE_UNAVAILABLE', `redis online store: delete failed (${(e as Error).message})`, { cause: e });
    }
  }

  async healthy(): Promise<boolean> {
    try {
      const pong = await Promise.race([
        this.client.ping(),
        new Promise<string>((resolve) => setTimeout(() => resolve('timeout'), 1000).unref()),
      ]);
      return pong === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}
