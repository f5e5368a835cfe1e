/**
 * Crash recovery (issue 2, "must show"): a real child process consumes a file source (NDJSON + CSV
 * + Parquet splits) and checkpoints every 150 ms; the test SIGKILLs it at random moments (20–300 ms
 * after READY or after its 1st–6th checkpoint) — and, in every third run, the child kills itself at random points inside
 * checkpoint commits and compactions (torn temp files, deltas written but not published, manifest
 * replaced but old files not yet removed) — then restarts it from its state directory, until it
 * finishes. The final features of EVERY key (as of a fixed instant) and the dead-letter file must
 * equal those of an uninterrupted run, over at least 20 kills.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { crashConfig, generateEvents, type GeneratedData, rng } from './gen-events.js';

const ROOT = resolve(import.meta.dirname, '../..');
const RUNNER = join(ROOT, 'test/fixtures/run-file-engine.ts');
const EVENTS = 200_000;
const KEYS = 2_000;
const MIN_KILLS = 20;
const SEED = Number(process.env['FENESTRA_CRASH_SEED'] ?? 20_240_101);

let work: string;
let data: GeneratedData;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'fenestra-crash-'));
  data = await generateEvents(join(work, 'data'), EVENTS, KEYS, SEED);
});

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await rm(work, { recursive: true, force: true });
});

interface RunResult {
  readonly outcome: 'finished' | 'killed-by-test' | 'killed-itself';
  readonly stderr: string;
  /** Compactions the run started and completed. */
  readonly compactions: { started: number; completed: number };
  /** What the run recovered: checkpoint id and the split positions (from its READY line). */
  readonly recovered: { checkpoint: number; positions: Record<string, Record<string, number>> } | null;
}

/** When to kill: `delayMs` after the `afterCheckpoints`-th checkpoint the run reports (0: after READY). */
interface KillPlan {
  readonly afterCheckpoints: number;
  readonly delayMs: number;
}

/** Runs the child once; kills it per `plan` (unless null). */
function runChild(config: string, out: string, env: Record<string, string>, plan: KillPlan | null): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', RUNNER, config, out, String(data.end)], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let stdout = '';
    let stderr = '';
    let killedByTest = false;
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (plan === null || timer !== undefined || !stdout.includes('READY')) return;
      const seen = stdout.split('\n').filter((l) => l.startsWith('CHECKPOINT ')).length;
      if (seen >= plan.afterCheckpoints) {
        timer = setTimeout(() => {
          killedByTest = child.kill('SIGKILL');
        }, plan.delayMs);
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      children.delete(child);
      clearTimeout(timer);
      const line = /READY (.*)/.exec(stdout)?.[1];
      const recovered = line ? (JSON.parse(line) as RunResult['recovered']) : null;
      const lines = stdout.split('\n');
      const compactions = { started: lines.filter((l) => l.startsWith('COMPACTING ')).length, completed: lines.filter((l) => l.startsWith('COMPACTED ')).length };
      if (code === 0 && stdout.includes('DONE')) resolvePromise({ outcome: 'finished', stderr, recovered, compactions });
      else if (signal === 'SIGKILL') resolvePromise({ outcome: stderr.includes('fault: SIGKILL') ? 'killed-itself' : killedByTest ? 'killed-by-test' : 'killed-itself', stderr, recovered, compactions });
      else reject(new Error(`runner exited with code ${code} signal ${signal}:\n${stderr.slice(-4000)}`));
    });
  });
}

interface Dump {
  /** Events the finishing process read itself (it resumed from the crashed runs' last checkpoint). */
  eventsIn: number;
  features: Record<string, Record<string, { version: number; values: Record<string, unknown> }>>;
}

function deadLetterCounts(text: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const code = (JSON.parse(line) as { code: string }).code;
    counts[code] = (counts[code] ?? 0) + 1;
  }
  return counts;
}

function mismatchedKeys(a: Dump, b: Dump): string[] {
  const out: string[] = [];
  for (const [g, keys] of Object.entries(a.features)) {
    const other = b.features[g] ?? {};
    for (const k of new Set([...Object.keys(keys), ...Object.keys(other)])) {
      if (JSON.stringify(keys[k]) !== JSON.stringify(other[k])) out.push(`${g}/${k}: ${JSON.stringify(keys[k])} vs ${JSON.stringify(other[k])}`);
    }
  }
  return out;
}

describe('crash recovery with a file source', () => {
  it(`final state equals an uninterrupted run for every key after >= ${MIN_KILLS} SIGKILLs`, async () => {
    const started = Date.now();
    // Reference: one uninterrupted run.
    const refDir = join(work, 'ref');
    const refConfig = join(work, 'ref.yaml');
    await writeFile(refConfig, crashConfig(data.dir, refDir, '150ms'));
    const refOut = join(work, 'ref.json');
    expect((await runChild(refConfig, refOut, {}, null)).outcome).toBe('finished');
    const reference = JSON.parse(await readFile(refOut, 'utf8')) as Dump;
    const refDead = await readFile(join(refDir, 'dead-letters.ndjson'), 'utf8');
    const refCounts = deadLetterCounts(refDead);
    expect(Object.keys(reference.features['cc_agg']!).length).toBe(KEYS);
    // The generator's malformed events are all dead-lettered (late ones come on top).
    const malformed = (refCounts['EVENT_MALFORMED'] ?? 0) + (refCounts['EVENT_FIELD_MISSING'] ?? 0) + (refCounts['EVENT_FIELD_TYPE'] ?? 0) + (refCounts['EVENT_TIME_INVALID'] ?? 0);
    expect(malformed).toBe(data.malformed);
    expect(refCounts['EVENT_LATE'] ?? 0).toBeGreaterThan(100);

    const r = rng(SEED);
    let kills = 0;
    let selfKills = 0;
    let rounds = 0;
    const faultPoints = new Map<string, number>();
    const finalRunEvents: number[] = [];
    const recoveredFrom = new Set<string>();
    let compactionsStarted = 0;
    let compactionsCompleted = 0;
    while (kills < MIN_KILLS) {
      rounds++;
      const stateDir = join(work, `crash-${rounds}`);
      const config = join(work, `crash-${rounds}.yaml`);
      await writeFile(config, crashConfig(data.dir, stateDir, '150ms'));
      const out = join(work, `crash-${rounds}.json`);
      for (let attempt = 0; ; attempt++) {
        expect(attempt, 'the crashed run makes no progress').toBeLessThan(400);
        const killing = kills < MIN_KILLS;
        // Kill at a random moment: 20–300 ms after READY or after the 1st–6th checkpoint of the run
        // (counting checkpoints, not wall time, keeps the kills spread over the input however loaded
        // the machine is). One run in three also kills itself inside checkpoint I/O.
        // Compact often (deltas beyond half the snapshot) so that kills also land in compactions.
        const env: Record<string, string> = { FENESTRA_TEST_MIN_COMPACT: '200000', FENESTRA_TEST_COMPACT_RATIO: '0.5' };
        if (killing && attempt % 3 === 1) env['FENESTRA_TEST_FAULT_P'] = '0.05';
        const plan: KillPlan = { afterCheckpoints: Math.floor(r() * 7), delayMs: 20 + Math.floor(r() * 280) };
        const res = await runChild(config, out, env, killing ? plan : null);
        if (process.env['FENESTRA_CRASH_DEBUG']) console.log(attempt, JSON.stringify(plan), JSON.stringify(env), res.outcome, JSON.stringify(res.recovered), res.stderr.slice(0, 200));
        if (res.recovered) recoveredFrom.add(JSON.stringify(res.recovered.positions));
        compactionsStarted += res.compactions.started;
        compactionsCompleted += res.compactions.completed;
        if (res.outcome === 'finished') break;
        kills++;
        if (res.outcome === 'killed-itself') {
          selfKills++;
          const point = /fault: SIGKILL at (\S+)/.exec(res.stderr)?.[1] ?? 'unknown';
          faultPoints.set(point, (faultPoints.get(point) ?? 0) + 1);
        }
      }
      expect(existsSync(out)).toBe(true);
      const crashed = JSON.parse(await readFile(out, 'utf8')) as Dump;
      finalRunEvents.push(crashed.eventsIn);
      expect(crashed.eventsIn, 'the finishing run resumed from a checkpoint').toBeLessThan(EVENTS);
      const diff = mismatchedKeys(reference, crashed);
      expect(diff.slice(0, 5), `${diff.length} keys differ from the uninterrupted run (round ${rounds})`).toEqual([]);
      const dead = await readFile(join(stateDir, 'dead-letters.ndjson'), 'utf8');
      expect(deadLetterCounts(dead)).toEqual(refCounts);
      expect(dead === refDead, 'dead-letter file differs from the uninterrupted run (exactly-once dead letters)').toBe(true);
    }
    expect(kills).toBeGreaterThanOrEqual(MIN_KILLS);
    expect(selfKills).toBeGreaterThan(0);
    // Restarts resumed from many distinct checkpoints, not the same one over and over.
    expect(recoveredFrom.size).toBeGreaterThanOrEqual(MIN_KILLS / 2);
    // Compactions ran between and under the kills.
    expect(compactionsStarted).toBeGreaterThan(0);
    console.log(
      JSON.stringify({
        events: EVENTS,
        keys: KEYS,
        kills,
        selfKillsInsideCheckpointWrites: selfKills,
        faultPoints: Object.fromEntries(faultPoints),
        rounds,
        distinctRecoveredCheckpoints: recoveredFrom.size,
        compactionsStarted,
        compactionsCompleted,
        eventsReadByFinishingRuns: finalRunEvents,
        deadLetters: refCounts,
        seconds: (Date.now() - started) / 1000,
      }),
    );
  }, 170_000);
});
