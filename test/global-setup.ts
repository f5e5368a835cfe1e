/**
 * vitest global setup: makes `npm test` self-sufficient on a fresh machine of this kind.
 * Installs what the integration tests start as real services (Debian's redis-server and
 * PostgreSQL, the Kafka and DynamoDB Local jars cached under ~/.m2) and the example plugin's own
 * package, each only when missing. Every step is idempotent; `.ci/run` runs the same scripts first,
 * so in CI this finds everything in place. A failing step stops the run with its output.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function run(what: string, cmd: string, args: string[]): void {
  try {
    execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], timeout: 15 * 60_000 });
  } catch (e) {
    const err = e as { stdout?: Buffer; stderr?: Buffer; message: string };
    throw new Error(`test setup: ${what} failed (${cmd} ${args.join(' ')}): ${err.message}\n${err.stdout?.toString() ?? ''}${err.stderr?.toString() ?? ''}`);
  }
}

export default function setup(): void {
  run('installing Debian packages redis-server and postgresql', 'bash', ['test/services/install-system.sh']);
  run('fetching Kafka and DynamoDB Local jars from Maven Central', 'bash', ['test/services/install-jars.sh']);
  const plugin = 'plugins/example-postgres-online-store';
  if (!existsSync(`${root}${plugin}/node_modules`) || !existsSync(`${root}${plugin}/dist`)) {
    run('installing the example plugin package', 'npm', ['ci', '--prefix', plugin, '--no-audit', '--no-fund']);
  }
}
