/**
 * Starts a real `redis-server` (Debian package `redis-server`) for tests, on a free port on
 * 127.0.0.1, in its own temporary directory. Installing it is `test/services/install-system.sh`'s job
 * (`apt-get update && apt-get install -y redis-server`); when the binary is missing this throws an
 * error that says so (tests fail, they never skip).
 *
 * `persistence: 'aof'` turns on the append-only file with `appendfsync always`, so a write Redis
 * acknowledged survives a SIGKILL: the fault tests kill the server mid-stream and start it again on
 * the same port and directory with `restart()`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { exited, trackChild } from './child-registry.js';

export interface RedisServerOptions {
  /** `none` (default): no RDB, no AOF. `aof`: append-only file, fsync on every write. */
  readonly persistence?: 'none' | 'aof';
  /** Start in cluster mode (`cluster-enabled yes`) with this cluster-bus port; the caller forms the cluster. */
  readonly clusterBusPort?: number;
  /** A fixed port (default: a free one). */
  readonly port?: number;
  /** Milliseconds to wait for the server to answer PING (default 20 s). */
  readonly startTimeoutMs?: number;
  /**
   * Serve TLS only (`--tls-port`, plain port off) with a self-signed certificate for 127.0.0.1 made
   * with `openssl` in the server's directory; `url` is then `rediss://` and `caPem` the certificate.
   */
  readonly tls?: boolean;
}

export interface RedisServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** `redis://127.0.0.1:<port>` (`rediss://` with `tls`) */
  readonly url: string;
  /** With `tls`: the PEM certificate clients must trust. */
  readonly caPem?: string;
  /** The server's working directory (AOF files live here). */
  readonly dir: string;
  /** The running server's pid (undefined while it is down). */
  pid(): number | undefined;
  /** SIGKILL the server (no shutdown save): the crash in the fault tests. */
  kill(): Promise<void>;
  /** Start the server again on the same port and directory (after `kill`). */
  restart(): Promise<void>;
  /** Stop the server and delete its directory. Safe to call twice. */
  stop(): Promise<void>;
}

const REDIS_BIN = process.env.FENESTRA_REDIS_SERVER ?? 'redis-server';

function assertRedisInstalled(): void {
  const r = spawnSync(REDIS_BIN, ['--version'], { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) {
    throw new Error(
      `startRedis: \`${REDIS_BIN}\` is not installed or not on PATH (${r.error?.message ?? `exit ${r.status}`}). ` +
        'Install it with `bash test/services/install-system.sh` ' +
        '(= `apt-get update && apt-get install -y redis-server`).',
    );
  }
}

/** Resolves when `PING` gets `+PONG` (a server still loading its AOF answers `-LOADING`). */
async function waitForPong(port: number, child: ChildProcess, timeoutMs: number, log: () => string, ca?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`startRedis: redis-server exited (${child.exitCode ?? child.signalCode}) before answering on port ${port}:\n${log()}`);
    }
    const ok = await new Promise<boolean>((resolve) => {
      const sock: Socket = ca === undefined ? connect({ host: '127.0.0.1', port }) : tlsConnect({ host: '127.0.0.1', port, ca });
      let buf = '';
      const done = (v: boolean): void => {
        sock.destroy();
        resolve(v);
      };
      sock.setTimeout(500, () => done(false));
      sock.once('error', () => done(false));
      sock.on('data', (d) => {
        buf += d.toString('utf8');
        if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
      });
      sock.once(ca === undefined ? 'connect' : 'secureConnect', () => sock.write('PING\r\n'));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`startRedis: redis-server on port ${port} did not answer PING within ${timeoutMs} ms:\n${log()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function startRedis(opts: RedisServerOptions = {}): Promise<RedisServer> {
  assertRedisInstalled();
  const dir = mkdtempSync(join(tmpdir(), 'fenestra-redis-'));
  const persistence = opts.persistence ?? 'none';
  const timeoutMs = opts.startTimeoutMs ?? 20_000;
  let child: ChildProcess | undefined;
  let stopped = false;
  let caPem: string | undefined;
  if (opts.tls === true) {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { encoding: 'utf8' });
    if (r.error !== undefined || r.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`startRedis: cannot make a test certificate with \`openssl\` (apt-get install -y openssl): ${r.error?.message ?? r.stderr}`);
    }
    caPem = readFileSync(cert, 'utf8');
  }

  const launch = async (port: number): Promise<void> => {
    const tlsArgs = caPem === undefined ? [] : [
      '--tls-port', String(port),
      '--tls-cert-file', join(dir, 'cert.pem'),
      '--tls-key-file', join(dir, 'key.pem'),
      '--tls-ca-cert-file', join(dir, 'cert.pem'),
      '--tls-auth-clients', 'no',
    ];
    const args = [
      '--port', caPem === undefined ? String(port) : '0',
      ...tlsArgs,
      '--bind', '127.0.0.1',
      '--dir', dir,
      '--save', '',
      '--daemonize', 'no',
      '--protected-mode', 'no',
      '--logfile', '',
      '--loglevel', 'warning',
      '--appendonly', persistence === 'aof' ? 'yes' : 'no',
      '--appendfsync', 'always',
    ];
    if (opts.clusterBusPort !== undefined) {
      args.push('--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'), '--cluster-port', String(opts.clusterBusPort));
    }
    let out = '';
    const c = spawn(REDIS_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(c);
    c.stdout?.on('data', (d: Buffer) => (out = (out + d.toString('utf8')).slice(-4000)));
    c.stderr?.on('data', (d: Buffer) => (out = (out + d.toString('utf8')).slice(-4000)));
    child = c;
    try {
      await waitForPong(port, c, timeoutMs, () => out, caPem);
    } catch (e) {
      // A server that never answered must not outlive the error (it would hold the port until exit).
      c.kill('SIGKILL');
      await exited(c);
      child = undefined;
      throw e;
    }
  };

  let port = opts.port ?? (await freePort());
  for (let attempt = 0; ; attempt++) {
    try {
      await launch(port);
      break;
    } catch (e) {
      // Another process may have taken the probed port between probe and bind: try a new one.
      if (opts.port !== undefined || attempt >= 4 || !/exited/.test(String(e))) {
        rmSync(dir, { recursive: true, force: true });
        throw e;
      }
      port = await freePort();
    }
  }

  const killNow = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (c === undefined) return;
    c.kill('SIGKILL');
    await exited(c);
  };

  return {
    host: '127.0.0.1',
    port,
    url: `${caPem === undefined ? 'redis' : 'rediss'}://127.0.0.1:${port}`,
    ...(caPem === undefined ? {} : { caPem }),
    dir,
    pid: () => child?.pid,
    kill: killNow,
    restart: async () => {
      if (stopped) throw new Error('startRedis: restart() after stop()');
      await killNow();
      await launch(port);
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await killNow();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
