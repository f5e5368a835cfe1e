import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throwaway PostgreSQL server in a temp directory, on a free 127.0.0.1 port. */
export interface PostgresServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

const INSTALL_HINT = 'install the Debian package "postgresql" (apt-get install -y postgresql), which provides initdb and pg_ctl';

/** Finds the directory holding initdb and pg_ctl (Debian keeps them out of PATH). */
function findBinDir(): string {
  const fromEnv = process.env.PG_BINDIR;
  if (fromEnv && existsSync(join(fromEnv, 'initdb'))) return fromEnv;
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
    if (versions[0] !== undefined) return join(root, versions[0], 'bin');
  }
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return join(which.stdout.trim(), '..');
  throw new Error(`PostgreSQL server binaries not found (looked in $PG_BINDIR, /usr/lib/postgresql/*/bin and PATH): ${INSTALL_HINT}`);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts PostgreSQL with initdb + pg_ctl in a fresh temp directory. PostgreSQL refuses to run as
 * root, so when the tests run as root the server runs as the `postgres` system user (created by the
 * Debian package) with the directory chowned to it.
 */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = findBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'fenestra-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const asRoot = process.getuid?.() === 0;
  let run = (cmd: string, args: string[]): void => { execFileSync(join(bin, cmd), args, { stdio: 'pipe' }); };
  if (asRoot) {
    let uid: number;
    let gid: number;
    try {
      uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8', stdio: 'pipe' }).trim());
      gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8', stdio: 'pipe' }).trim());
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`PostgreSQL refuses to run as root, and there is no \`postgres\` system user to run it as (${(e as Error).message.trim()}): ${INSTALL_HINT}, or run the tests as another user`);
    }
    chownSync(dir, uid, gid);
    run = (cmd, args) => { execFileSync('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { stdio: 'pipe', cwd: dir }); };
  }
  const port = await freePort();
  try {
    run('initdb', ['-D', data, '-U', 'fenestra', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    run('pg_ctl', ['-D', data, '-l', log, '-w', '-t', '60', '-o',
      `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off -c max_connections=50`, 'start']);
  } catch (e) {
    const out = (e as { stderr?: Buffer }).stderr?.toString() ?? '';
    const serverLog = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '';
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`PostgreSQL did not start (${(e as Error).message}): ${out}\n${serverLog}`);
  }
  return {
    port,
    url: `postgres://fenestra@127.0.0.1:${port}/postgres`,
    async stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
