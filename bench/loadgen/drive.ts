/**
 * Runs the Go load generator once (one URL at one constant rate) and returns its JSON result.
 * Latencies are microseconds from the HDR histograms of bench/loadgen (see main.go).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Percentiles {
  readonly count: number;
  readonly min: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

export interface LoadgenResult {
  readonly target: string;
  readonly rate: number;
  readonly durationMs: number;
  readonly connections: number;
  readonly scheduled: number;
  readonly sent: number;
  readonly achievedRate: number;
  readonly statuses: Record<string, number>;
  readonly ok: number;
  readonly errors: number;
  readonly timeouts: number;
  /** Scheduled send → answer read (coordinated omission corrected). */
  readonly latencyUs: Percentiles;
  /** Actual send → answer read. */
  readonly serviceUs: Percentiles;
  /** Actual send − scheduled send. */
  readonly sendLagUs: Percentiles;
  readonly cpuMs: number;
  readonly firstError?: string;
}

export interface LoadgenRun {
  readonly url: string;
  readonly rate: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly method?: 'GET' | 'POST';
  readonly body?: string;
  readonly connections?: number;
  readonly timeoutMs?: number;
  /** Run under `taskset -c <cpus>`. */
  readonly cpus?: string;
}

export async function runLoadgen(bin: string, run: LoadgenRun): Promise<LoadgenResult> {
  const args = ['-url', run.url, '-rate', String(run.rate), '-duration', `${run.durationMs}ms`, '-warmup', `${run.warmupMs}ms`, '-method', run.method ?? 'GET'];
  args.push('-connections', String(run.connections ?? 64), '-timeout', `${run.timeoutMs ?? 2_000}ms`);
  let dir: string | undefined;
  if (run.body !== undefined) {
    dir = mkdtempSync(join(tmpdir(), 'fenestra-loadgen-'));
    writeFileSync(join(dir, 'body'), run.body);
    args.push('-body-file', join(dir, 'body'));
  }
  const [cmd, argv] = run.cpus === undefined ? [bin, args] : ['taskset', ['-c', run.cpus, bin, ...args]];
  try {
    const { code, out, err } = await new Promise<{ code: number | null; out: string; err: string }>((resolve, reject) => {
      const c = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      c.stdout.on('data', (b: Buffer) => (out += b.toString()));
      c.stderr.on('data', (b: Buffer) => (err += b.toString()));
      c.once('error', reject);
      c.once('exit', (code) => resolve({ code, out, err }));
    });
    if (code !== 0) throw new Error(`loadgen exited ${code}: ${err.trim()}`);
    return JSON.parse(out) as LoadgenResult;
  } finally {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
}
