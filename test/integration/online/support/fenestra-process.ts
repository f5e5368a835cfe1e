/**
 * `fenestra start` as users run it: `node bin/fenestra.js start -c <config> --port 0`, a child process
 * of the test (tracked, so it dies with the test process). bin/fenestra.js runs the build in dist/;
 * `ensureBuilt` rebuilds it (tsc) first when a source file is newer, so the test never runs stale code.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exited, trackChild } from '../../../services/child-registry.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const BIN = join(ROOT, 'bin/fenestra.js');
const BUILT = join(ROOT, 'dist/cli/main.js');
/** What tsconfig.json compiles (its `include`). */
const SOURCES = ['core', 'adapters', 'plugins/sdk', 'plugins/testkit', 'plugins/fraud-scorer', 'config', 'cli', 'daemon'];

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds dist/ (`tsc -p tsconfig.json`, as `npm test` does first) unless it is newer than every source. */
export function ensureBuilt(): void {
  const newest = Math.max(...SOURCES.map((d) => (existsSync(join(ROOT, d)) ? newestSource(join(ROOT, d)) : 0)));
  if (existsSync(BUILT) && statSync(BUILT).mtimeMs >= newest) return;
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.json')], { cwd: ROOT, encoding: 'utf8', timeout: 170_000 });
  // tsc emits even with type errors; what matters here is a fresh dist/.
  if (!existsSync(BUILT) || statSync(BUILT).mtimeMs < newest) {
    throw new Error(`dist/ is older than the sources and \`tsc -p tsconfig.json\` did not rebuild it (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  }
}

export interface FenestraProcess {
  /** `http://127.0.0.1:<port>` from the `fenestra ready` log line. */
  readonly url: string;
  readonly child: ChildProcess;
  /** The last 8 kB of stdout and stderr (pino lines), for failure messages. */
  logs(): string;
  /** SIGTERM (graceful: final checkpoint) and wait for the exit code; SIGKILL after 15 s. */
  stop(): Promise<number | null>;
}

export interface StartOptions {
  readonly env?: Record<string, string>;
  /** Run the TypeScript sources (`node --import tsx cli/main.ts start`) instead of bin/fenestra.js (benchmarks). */
  readonly fromSources?: boolean;
}

/** Starts `node bin/fenestra.js start -c config --port 0 --host 127.0.0.1`; resolves once it logs `fenestra ready`. */
export async function startFenestra(config: string, opts: StartOptions = {}): Promise<FenestraProcess> {
  const entry = opts.fromSources ? ['--import', 'tsx', join(ROOT, 'cli/main.ts')] : [BIN];
  const args = [...entry, 'start', '-c', config, '--port', '0', '--host', '127.0.0.1'];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  trackChild(child);
  let out = '';
  const keep = (d: Buffer): void => {
    out = (out + d.toString('utf8')).slice(-8192);
  };
  child.stderr!.on('data', keep);
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`fenestra start did not log "fenestra ready" within 90 s:\n${out}`)), 90_000);
    child.stdout!.on('data', (d: Buffer) => {
      keep(d);
      buf += d.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.includes('"fenestra ready"')) continue;
        clearTimeout(timer);
        resolve((JSON.parse(line) as { url: string }).url);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`fenestra start exited (${code ?? signal}) before it was ready:\n${out}`));
    });
  });
  return {
    url,
    child,
    logs: () => out,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited(child);
      clearTimeout(t);
      return child.exitCode;
    },
  };
}
