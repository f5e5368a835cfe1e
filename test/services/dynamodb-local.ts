/**
 * Starts a real DynamoDB Local (Maven Central `com.amazonaws:DynamoDBLocal`, run with the machine's
 * Java) for tests, in memory, on a free port on 127.0.0.1. Its jars live outside the repo under
 * ~/.m2/fenestra/dynamodb-local-<version>/ and are put there by `test/services/install-dynamodb-local.sh`;
 * when they are missing this runs that script once (Maven caches, so it is cheap after the first time)
 * and throws a message naming what is missing (java, mvn, the jars) if it still cannot start.
 *
 * DynamoDB Local accepts UpdateTimeToLive but never deletes expired items: the adapter's read-side
 * expiry check is what makes an expired record read as missing there.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.js';
import { exited, trackChild } from './child-registry.js';
import { runCommand } from './run-command.js';

export interface DynamoDbLocal {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly port: number;
  /** Region and static credentials to give the SDK (DynamoDB Local accepts any). */
  readonly region: 'us-east-1';
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** SIGKILL the server (with `dbPath`, what it had written survives). */
  kill(): Promise<void>;
  /** Start it again on the same port (and `dbPath`) after `kill`. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface DynamoDbLocalOptions {
  /** Keep tables in files under this directory (`-dbPath … -sharedDb`) instead of in memory, so a restart keeps them. */
  readonly dbPath?: string;
  readonly startTimeoutMs?: number;
}

const here = fileURLToPath(new URL('.', import.meta.url));
const POM = join(here, 'dynamodb-local', 'pom.xml');
const INSTALL = join(here, 'install-dynamodb-local.sh');

function home(): { version: string; dir: string } {
  const m = /<dynamodb\.local\.version>([^<]+)</.exec(readFileSync(POM, 'utf8'));
  if (m === null) throw new Error(`startDynamoDbLocal: no <dynamodb.local.version> in ${POM}`);
  const version = m[1]!;
  const dir = process.env.FENESTRA_DYNAMODB_LOCAL_HOME ?? join(homedir(), '.m2', 'fenestra', `dynamodb-local-${version}`);
  return { version, dir };
}

async function ensureInstalled(): Promise<{ jar: string; lib: string; native: string }> {
  const { version, dir } = home();
  const jar = join(dir, 'lib', `DynamoDBLocal-${version}.jar`);
  const native = join(dir, 'native');
  if (!existsSync(join(dir, '.complete')) || !existsSync(jar)) {
    const r = spawnSync('bash', [INSTALL], { encoding: 'utf8', timeout: 300_000 });
    if (r.status !== 0 || !existsSync(jar)) {
      throw new Error(
        `startDynamoDbLocal: DynamoDB Local ${version} is not installed in ${dir} and \`bash ${INSTALL}\` failed ` +
          `(exit ${r.status ?? r.signal ?? r.error?.message}): ${(r.stderr ?? '').trim().slice(-2000)}`,
      );
    }
  }
  const java = await runCommand('java', ['-version']);
  if (java.error !== undefined || java.status !== 0) {
    throw new Error('startDynamoDbLocal: `java` (>= 17) is not on PATH (apt-get install -y openjdk-17-jre-headless)');
  }
  return { jar, lib: join(dir, 'lib'), native };
}

async function waitReady(endpoint: string, child: ChildProcess, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`startDynamoDbLocal: java exited (${child.exitCode ?? child.signalCode}) before serving ${endpoint}:\n${log()}`);
    }
    try {
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'DynamoDB_20120810.ListTables',
          authorization: 'AWS4-HMAC-SHA256 Credential=test/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
        },
        body: '{}',
        signal: AbortSignal.timeout(1000),
      });
      if (res.ok) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`startDynamoDbLocal: no answer from ${endpoint} within ${timeoutMs} ms:\n${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startDynamoDbLocal(opts: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const { lib, native } = await ensureInstalled();
  const timeoutMs = opts.startTimeoutMs ?? 60_000;
  const storage = opts.dbPath === undefined ? ['-inMemory'] : ['-dbPath', opts.dbPath, '-sharedDb'];
  // DynamoDB Local writes dynamodb-local-metadata.json into its working directory: keep it out of the repo.
  const cwd = mkdtempSync(join(tmpdir(), 'fenestra-dynamodb-local-'));
  let child: ChildProcess | undefined;

  const launch = async (port: number): Promise<string> => {
    const endpoint = `http://127.0.0.1:${port}`;
    let out = '';
    const c = spawn(
      'java',
      [
        '-Xmx384m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1',
        `-Djava.library.path=${native}`,
        '-cp', `${lib}/*`,
        'com.amazonaws.services.dynamodbv2.local.main.ServerRunner',
        ...storage, '-port', String(port), '-disableTelemetry',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], cwd },
    );
    trackChild(c);
    c.stdout?.on('data', (d: Buffer) => (out = (out + d.toString('utf8')).slice(-4000)));
    c.stderr?.on('data', (d: Buffer) => (out = (out + d.toString('utf8')).slice(-4000)));
    child = c;
    try {
      await waitReady(endpoint, c, timeoutMs, () => out);
    } catch (e) {
      c.kill('SIGKILL');
      await exited(c);
      child = undefined;
      throw Object.assign(e as Error, { bindFailed: /Address already in use|BindException/.test(out) });
    }
    return endpoint;
  };

  let port = await freePort();
  let endpoint: string;
  for (let attempt = 0; ; attempt++) {
    try {
      endpoint = await launch(port);
      break;
    } catch (e) {
      if (attempt >= 3 || (e as { bindFailed?: boolean }).bindFailed !== true) {
        rmSync(cwd, { recursive: true, force: true });
        throw e;
      }
      port = await freePort();
    }
  }
  const kill = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (c === undefined) return;
    c.kill('SIGKILL');
    await exited(c);
  };
  return {
    endpoint,
    port,
    region: 'us-east-1',
    credentials: { accessKeyId: 'fenestra', secretAccessKey: 'fenestra' },
    kill,
    restart: async () => {
      await kill();
      await launch(port);
    },
    stop: async () => {
      await kill();
      rmSync(cwd, { recursive: true, force: true });
    },
  };
}
