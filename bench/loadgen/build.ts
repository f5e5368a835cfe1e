/**
 * Builds the Go load generator of this directory (`go build`) into a cache outside the repository:
 * `$XDG_CACHE_HOME/fenestra/loadgen/<hash>/loadgen` (default `~/.cache`), where the hash covers the Go
 * sources, go.mod/go.sum and the Go version — so an edit rebuilds and an unchanged tree does not.
 * `GO=/path/to/go` picks the toolchain; without one on PATH this fails with a message saying so.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('.', import.meta.url));

export class GoMissingError extends Error {}

function goVersion(go: string): string {
  const r = spawnSync(go, ['version'], { encoding: 'utf8' });
  if (r.error !== undefined && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new GoMissingError(
      `bench/serving needs Go (>= 1.22) to build its load generator (bench/loadgen), but "${go}" was not found. ` +
        'Install Go (https://go.dev/dl/) or set GO=/path/to/go.',
    );
  }
  if (r.status !== 0) throw new Error(`"${go} version" failed: ${r.stderr || r.error?.message}`);
  return r.stdout.trim();
}

/** The loadgen binary's path, building it first when the cache has none for these sources. */
export function buildLoadgen(): string {
  const go = process.env.GO ?? 'go';
  const version = goVersion(go);
  const h = createHash('sha256').update(version);
  for (const f of readdirSync(SRC).filter((n) => /\.go$|^go\.(mod|sum)$/.test(n)).sort()) h.update(f).update(readFileSync(join(SRC, f)));
  const dir = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'fenestra', 'loadgen', h.digest('hex').slice(0, 16));
  const bin = join(dir, 'loadgen');
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  const r = spawnSync(go, ['build', '-trimpath', '-buildvcs=false', '-o', tmp, '.'], { cwd: SRC, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    throw new Error(`go build of bench/loadgen failed (${version}):\n${r.stderr}${r.stdout}`);
  }
  renameSync(tmp, bin);
  return bin;
}
