import { spawn } from 'node:child_process';

export interface CommandResult {
  /** Exit code (null when killed by a signal or not started). */
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when the command could not be started (e.g. not on PATH). */
  readonly error?: Error;
}

/**
 * Runs a command to its end, like `spawnSync` but without blocking the event loop: a JVM tool can take
 * many seconds on a loaded machine, and a blocked test process misses its own deadlines meanwhile
 * (another service's readiness probe started alongside, vitest's worker RPC).
 */
export function runCommand(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let error: Error | undefined;
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(opts.env ? { env: opts.env } : {}) });
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    c.once('error', (e) => {
      error = e;
    });
    c.once('close', (status, signal) => resolve({ status, signal, stdout, stderr, ...(error ? { error } : {}) }));
  });
}
