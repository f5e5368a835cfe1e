/**
 * Offline history of stored writes, exactly-once through crashes: a `fenestra start` child process
 * takes PutRecord / DeleteRecord requests from three clients (each resending a write until it is
 * acknowledged, then going on) and is SIGKILLed at random moments — between a write's apply and the
 * checkpoint that makes it durable, between that checkpoint and the commit of its offline files,
 * between the commit and the answer — at least 10 times, and restarted on the same state. Afterwards
 * (a graceful stop) DuckDB finds every acknowledged write's row in `stored/cc_batch` exactly once and
 * no other row, no staged file is left, and the training set built from that history answers, as of
 * each write's event time, with that write.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTrainingSet } from '../../../cli/commands/training-set.js';
import { loadConfig } from '../../../config/load.js';
import { FileSink } from '../../../adapters/offline/parquet/file-sink.js';
import { ParquetStreamWriter } from '../../../adapters/offline/parquet/parquet-writer.js';
import { readTable } from '../../../adapters/offline/parquet/table-reader.js';
import { exited } from '../../services/child-registry.js';
import { startDaemonChild, startDaemonChildOnFreePort } from '../../e2e/daemon/child.js';
import { lit, openDuck } from './duckdb.js';

const KILLS = 10;
const dir = mkdtempSync(join(tmpdir(), 'fenestra-stored-crash-'));
let child: ChildProcess | null = null;
afterAll(async () => {
  if (child !== null && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await exited(child);
  }
  rmSync(dir, { recursive: true, force: true });
});

const YAML = `
state: { dir: ./state, checkpointInterval: 100ms }
entities: { card: { key: cc_num } }
sources:
  transactions:
    type: http
    entity: card
    eventTime: { field: trans_time }
    schema: { cc_num: string, trans_time: timestamp, amount: double }
featureGroups:
  cc_agg:
    source: transactions
    features:
      num_trans_last_10m: { agg: count, window: 10m }
  cc_batch:
    entity: card
    stored:
      eventTime: event_time
      ttl: 48h
      schema: { avg_amt_last_1w: double, num_trans_last_1w: int }
offline: { type: parquet, path: ./offline }
`;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Acked {
  readonly key: string;
  readonly et: number;
  /** null: a delete. */
  readonly value: number | null;
  /** When the attempt that was acknowledged started; > first attempt when it was resent. */
  readonly lastAttemptAt: number;
  readonly resent: boolean;
}

function filesUnder(path: string): string[] {
  if (!existsSync(path)) return [];
  return readdirSync(path).flatMap((n) => {
    const p = join(path, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('stored writes: offline history exactly-once through SIGKILLs of the daemon', () => {
  it(`every acknowledged write has exactly one row after ${KILLS} kills`, async () => {
    const config = join(dir, 'fenestra.yaml');
    writeFileSync(config, YAML);
    const first = await startDaemonChildOnFreePort(config);
    const port = first.port;
    const url = `http://127.0.0.1:${port}`;
    child = first.child;

    /** Sends until a 200 arrives (connection errors and 503 while the daemon is down are retried). */
    const deliver = async (method: 'PUT' | 'DELETE', path: string, body?: unknown): Promise<{ attempts: number; lastAttemptAt: number }> => {
      for (let attempts = 1; ; attempts++) {
        const at = Date.now();
        try {
          const res = await fetch(`${url}${path}`, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
          if (res.status === 200) {
            await res.arrayBuffer();
            return { attempts, lastAttemptAt: at };
          }
          const text = await res.text();
          if (res.status !== 503) throw new Error(`unexpected ${res.status}: ${text}`);
        } catch (e) {
          if ((e as Error).message.startsWith('unexpected')) throw e;
        }
        await sleep(20);
      }
    };

    const base = Date.UTC(2024, 5, 1);
    let killing = true;
    const acked: Acked[] = [];
    /** A client owns 6 keys and writes them round-robin, event times increasing per key. */
    const client = async (c: number): Promise<void> => {
      const keys = Array.from({ length: 6 }, (_, i) => `card-${c}-${i}`);
      const lastEt = new Map(keys.map((k) => [k, base]));
      for (let i = 0; killing || i < 60; i++) {
        const key = keys[i % keys.length]!;
        const et = lastEt.get(key)! + 1000 + ((i * 7919 + c * 31) % 1000);
        lastEt.set(key, et);
        const value = c * 100_000 + i;
        if (i % 6 === 5) {
          const r = await deliver('DELETE', `/FeatureGroup/cc_batch?RecordIdentifierValueAsString=${key}&EventTime=${new Date(et).toISOString()}`);
          acked.push({ key, et, value: null, lastAttemptAt: r.lastAttemptAt, resent: r.attempts > 1 });
        } else {
          const record = [
            { FeatureName: 'cc_num', ValueAsString: key },
            { FeatureName: 'event_time', ValueAsString: new Date(et).toISOString() },
            { FeatureName: 'avg_amt_last_1w', ValueAsString: String(value) },
            { FeatureName: 'num_trans_last_1w', ValueAsString: String(i) },
          ];
          const r = await deliver('PUT', '/FeatureGroup/cc_batch', { Record: record, ...(i % 4 === 0 ? { TtlDuration: { Unit: 'Hours', Value: 1 + (i % 5) } } : {}) });
          acked.push({ key, et, value, lastAttemptAt: r.lastAttemptAt, resent: r.attempts > 1 });
        }
      }
    };
    let failed = false;
    const clients = Promise.all([0, 1, 2].map(client));
    clients.catch(() => (failed = true)); // awaited below; stop killing at once

    let kills = 0;
    while (kills < KILLS && !failed) {
      await sleep(100 + Math.random() * 400);
      child.kill('SIGKILL');
      await exited(child);
      kills++;
      child = (await startDaemonChild(config, port)).child;
    }
    killing = false;
    await clients;
    child.kill('SIGTERM'); // graceful: a final checkpoint commits the last writes' files
    await exited(child);
    expect(child.exitCode).toBe(0);

    const offline = join(dir, 'offline');
    expect(filesUnder(join(offline, '_staging'))).toEqual([]);
    const resent = acked.filter((a) => a.resent);
    expect(resent.length).toBeGreaterThanOrEqual(KILLS); // the kills hit writes in flight

    const duck = await openDuck();
    try {
      const rows = await duck.rows(`
        SELECT cc_num, epoch_ms(event_time)::DOUBLE AS et, deleted, avg_amt_last_1w AS value, epoch_ms(write_time)::DOUBLE AS wt
        FROM read_parquet(${lit(join(offline, 'stored', 'cc_batch', '*', '*', '*.parquet'))}, hive_partitioning = true)`);
      const seen = new Map<string, Array<{ deleted: boolean; value: number | null; wt: number }>>();
      for (const r of rows) {
        const id = `${String(r['cc_num'])}@${Number(r['et'])}`;
        const list = seen.get(id) ?? [];
        list.push({ deleted: r['deleted'] as boolean, value: (r['value'] as number | null) ?? null, wt: Number(r['wt']) });
        seen.set(id, list);
      }
      const problems: string[] = [];
      let durableBeforeResend = 0;
      for (const a of acked) {
        const got = seen.get(`${a.key}@${a.et}`) ?? [];
        if (got.length !== 1 || got[0]!.deleted !== (a.value === null) || got[0]!.value !== a.value) {
          if (problems.length < 10) problems.push(`${a.key} @${a.et} (${a.value === null ? 'delete' : a.value}, resent ${a.resent}): rows ${JSON.stringify(got)}`);
        }
        // a resent write whose row was written before the resend: its first attempt was durable, its answer lost
        if (a.resent && got.length === 1 && got[0]!.wt < a.lastAttemptAt) durableBeforeResend++;
      }
      expect(problems).toEqual([]);
      expect(rows.length).toBe(acked.length); // and no row of anything else
      // some kills fell after a write was durable and before its answer: the resend added no row
      expect(durableBeforeResend).toBeGreaterThan(0);
    } finally {
      duck.close();
    }

    // the training set from that history: as of each write's event time, that write (or null after a delete)
    const labels = join(dir, 'labels.parquet');
    const sink = new FileSink(labels);
    const w = new ParquetStreamWriter(sink, [
      { name: 'cc_num', type: 'string', required: true },
      { name: 'event_time', type: 'timestamp', required: true },
    ]);
    w.writeRowGroup([acked.map((a) => a.key), acked.map((a) => a.et)], acked.length);
    w.finish();
    sink.close();
    const out = join(dir, 'train.parquet');
    const spec = await loadConfig(config);
    const r = await runTrainingSet({ spec, labels, features: 'cc_batch:avg_amt_last_1w', out, quiet: true });
    expect(r.storedRows).toBe(acked.length);
    const train = await readTable([out]);
    expect(Array.from(train.columns.get('avg_amt_last_1w')!, (v) => (Number.isNaN(v) ? null : v))).toEqual(acked.map((a) => a.value));
  }, 400_000);
});
