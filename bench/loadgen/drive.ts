/**
 * Runs the Go load generator once (one constant-rate schedule over one or more URLs, alternating in
 * blocks) and returns its JSON output. Latencies are microseconds from the HDR histograms of
 * bench/loadgen (see main.go).
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
  /** Measured time this target had (its blocks). */
  readonly measuredMs: number;
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
  readonly firstError?: string;
}

export interface LoadgenOutput {
  readonly rate: number;
  readonly blockMs: number;
  /** The generator's own CPU time over the run. */
  readonly cpuMs: number;
  /** One per URL, in the order given. */
  readonly results: readonly LoadgenResult[];
}

export interface LoadgenRun {
  /** One URL, or several: the schedule alternates between them in blocks of `blockMs`. */
  readonly urls: readonly string[];
  readonly blockMs?: number;
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

export async function runLoadgen(bin: string, run: LoadgenRun): Promise<LoadgenOutput> {
  const args = [...run.urls.flatMap((u) => ['-url', u]), '-block', `${run.blockMs ?? 250}ms`, '-rate', String(run.rate), '-duration', `${run.durationMs}ms`, '-warmup', `${run.warmupMs}ms`, '-method', run.method ?? 'GET'];
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
    return JSON.parse(out) as LoadgenOutput;
  } finally {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
}
