/**
 * Training sets over a stored feature group, through a real daemon (`startDaemon`, its HTTP server,
 * the AWS SDK's SageMaker Feature Store Runtime client, the parquet offline store on local disk):
 * PutRecord / BatchWriteRecord / DeleteRecord with request TTLs and the group's TTL, event times out
 * of order and tied, values left out. After the daemon stops, the training set computed by the CLI's
 * function (`runTrainingSet`) from the offline store equals
 *  (a) DuckDB's ASOF JOIN over the committed `stored/cc_batch` Parquet files on every label row
 *      (ties on event time resolved to the later write: later file, later row), and
 *  (b) the daemon's answers to `GET /v1/features/cc_batch/:key?asOf=` (and `POST /v1/features` with
 *      a feature service mixing the aggregated and the stored group) for label times at or after the
 *      key's newest event time — serving holds only each key's newest record, so it cannot answer
 *      earlier times the way the history does.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchWriteRecordCommand,
  DeleteRecordCommand,
  PutRecordCommand,
  SageMakerFeatureStoreRuntimeClient,
} from '@aws-sdk/client-sagemaker-featurestore-runtime';
import { afterAll, describe, expect, it } from 'vitest';
import { runTrainingSet } from '../../../cli/commands/training-set.js';
import { startDaemon } from '../../../daemon/assemble.js';
import { FileSink } from '../../../adapters/offline/parquet/file-sink.js';
import { ParquetStreamWriter } from '../../../adapters/offline/parquet/parquet-writer.js';
import { readTable } from '../../../adapters/offline/parquet/table-reader.js';
import { Prng } from '../../../core/datagen/prng.js';
import type { StoredGroupSpec } from '../../../core/model.js';
import { storedHistoryLayout } from '../../../core/stored/history.js';
import { planTraining, resolveFeatureRefs } from '../../../core/training/plan.js';
import { lit, openDuck } from './duckdb.js';
import { loadYaml } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'fenestra-training-stored-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const BASE = Date.UTC(2024, 2, 1);

const YAML = `
state: { dir: ./state, checkpointInterval: 200ms }
entities: { card: { key: cc_num } }
sources:
  transactions:
    type: http
    entity: card
    eventTime: { field: trans_time }
    allowedLateness: 30d
    schema: { cc_num: string, trans_time: timestamp, amount: double }
featureGroups:
  cc_agg:
    source: transactions
    features:
      num_trans_last_1d: { agg: count, window: 1d }
      avg_amt_last_1d:   { agg: avg, field: amount, window: 1d }
  cc_batch:
    entity: card
    stored:
      eventTime: event_time
      ttl: 48h
      schema:
        event_time: timestamp
        avg_amt_last_1w: double
        num_trans_last_1w: int
        segment: { type: string, optional: true }
        vip: { type: boolean, optional: true }
    derived:
      avg_per_trans: { expr: "avg_amt_last_1w / num_trans_last_1w" }
      amt_vs_avg:    { expr: "request.amount / avg_amt_last_1w" }
featureServices:
  fraud_model: [ "cc_agg:*", "cc_batch:*" ]
offline: { type: parquet, path: ./offline }
`;

const STORED = ['event_time', 'avg_amt_last_1w', 'num_trans_last_1w', 'segment', 'vip', 'avg_per_trans', 'amt_vs_avg'];
const AGG = ['num_trans_last_1d', 'avg_amt_last_1d'];

interface Write {
  readonly key: string;
  readonly op: 'put' | 'delete';
  readonly et: number;
  /** Expiry (put): et + TTL; 0 never. */
  readonly exp: number;
  readonly values?: { avg: number; num: number; segment?: string; vip?: boolean };
  /** As sent: ISO-8601 or SageMaker's fractional seconds. */
  readonly etText: string;
  readonly ttl?: { Unit: 'Hours' | 'Minutes'; Value: number };
}

interface Label {
  readonly key: string;
  readonly t: number;
  readonly amount: number;
}

function record(w: Write): Array<{ FeatureName: string; ValueAsString: string }> {
  const v = w.values!;
  const r = [
    { FeatureName: 'cc_num', ValueAsString: w.key },
    { FeatureName: 'event_time', ValueAsString: w.etText },
    { FeatureName: 'avg_amt_last_1w', ValueAsString: String(v.avg) },
    { FeatureName: 'num_trans_last_1w', ValueAsString: String(v.num) },
  ];
  if (v.segment !== undefined) r.push({ FeatureName: 'segment', ValueAsString: v.segment });
  if (v.vip !== undefined) r.push({ FeatureName: 'vip', ValueAsString: String(v.vip) });
  return r;
}

/** Every file under a directory (recursively). */
function filesUnder(path: string): string[] {
  if (!existsSync(path)) return [];
  return readdirSync(path).flatMap((n) => {
    const p = join(path, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

function writeLabels(path: string, labels: readonly Label[]): void {
  const sink = new FileSink(path);
  const w = new ParquetStreamWriter(sink, [
    { name: 'pair', type: 'long', required: true },
    { name: 'cc_num', type: 'string', required: true },
    { name: 'trans_time', type: 'timestamp', required: true },
    { name: 'amount', type: 'double', required: true },
  ]);
  w.writeRowGroup([labels.map((_, i) => i), labels.map((l) => l.key), labels.map((l) => l.t), labels.map((l) => l.amount)], labels.length);
  w.finish();
  sink.close();
}

describe('training sets over a stored group (PutRecord / DeleteRecord through the daemon)', () => {
  it('equal DuckDB ASOF JOIN on every row, and the online reads at or after each key\'s newest write', async () => {
    const spec = await loadYaml(dir, 'fenestra.yaml', YAML);
    const rng = new Prng(2024);
    const keys = Array.from({ length: 120 }, (_, i) => `card-${String(i).padStart(3, '0')}`);

    // --- the writes: per key, in the order they are sent ---
    const byKey = new Map<string, Write[]>();
    const mkPut = (key: string, et: number): Write => {
      const r = rng.next();
      const ttl = r < 0.25 ? { Unit: 'Hours' as const, Value: 1 + rng.int(72) } : r < 0.35 ? { Unit: 'Minutes' as const, Value: 1 + rng.int(120) } : undefined;
      const ttlMs = ttl ? ttl.Value * (ttl.Unit === 'Hours' ? HOUR : 60_000) : 48 * HOUR;
      const values = {
        avg: Math.round(rng.next() * 50_000) / 100,
        num: rng.int(20), // 0 included: avg_per_trans divides by zero (null)
        ...(rng.next() < 0.7 ? { segment: ['gold', 'silver', 'new'][rng.int(3)]! } : {}),
        ...(rng.next() < 0.6 ? { vip: rng.next() < 0.5 } : {}),
      };
      const etText = rng.next() < 0.2 ? (et / 1000).toFixed(3) : new Date(et).toISOString();
      return { key, op: 'put', et, exp: et + ttlMs, values, etText, ...(ttl ? { ttl } : {}) };
    };
    for (const key of keys) {
      const n = key.endsWith('7') ? 0 : rng.int(9); // some keys are never written
      const ws: Write[] = [];
      for (let i = 0; i < n; i++) {
        // random (out-of-order) event times over 10 days; sometimes the event time of an earlier write (a tie)
        const et = ws.length > 0 && rng.next() < 0.15 ? ws[rng.int(ws.length)]!.et : BASE + rng.int(10 * DAY);
        if (rng.next() < 0.15) ws.push({ key, op: 'delete', et, exp: 0, etText: new Date(et).toISOString() });
        else ws.push(mkPut(key, et));
      }
      byKey.set(key, ws);
    }
    // A BatchWriteRecord of one put for 40 keys, sent before their other writes.
    const batchKeys = keys.filter((k) => byKey.get(k)!.length > 0).slice(0, 40);
    const batch = batchKeys.map((k) => mkPut(k, BASE + rng.int(10 * DAY)));
    batch.forEach((w) => byKey.get(w.key)!.unshift(w));
    const allWrites = [...byKey.values()].flat();

    // transactions for the aggregated group of the mixed service (first two days)
    const tx = keys.flatMap((key) => Array.from({ length: 1 + rng.int(6) }, () => ({ cc_num: key, trans_time: BASE + rng.int(2 * DAY), amount: Math.round(rng.next() * 30_000) / 100 })));
    const txEnd = Math.max(...tx.map((e) => e.trans_time));

    // --- through the daemon ---
    const daemon = await startDaemon(spec, { host: '127.0.0.1', port: 0, processMetrics: false });
    const client = new SageMakerFeatureStoreRuntimeClient({ endpoint: daemon.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
    const labels: Label[] = [];
    const getProbes: Array<{ label: number; features: Record<string, unknown>; found: boolean }> = [];
    const postProbes: Array<{ label: number; features: Record<string, unknown> }> = [];
    try {
      await daemon.ready;
      const ing = await fetch(`${daemon.url}/v1/ingest/transactions?wait=visible`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(tx) });
      expect(ing.status).toBe(200);
      const b = await client.send(new BatchWriteRecordCommand({ Entries: batch.map((w) => ({ FeatureGroupName: 'cc_batch', Record: record(w), ...(w.ttl ? { TtlDuration: w.ttl } : {}) })) }));
      expect(b.Errors ?? []).toEqual([]);
      // each key's writes in order (ties are decided by write order); keys 16 at a time
      const send = async (w: Write): Promise<void> => {
        if (w.op === 'delete') await client.send(new DeleteRecordCommand({ FeatureGroupName: 'cc_batch', RecordIdentifierValueAsString: w.key, EventTime: w.etText }));
        else await client.send(new PutRecordCommand({ FeatureGroupName: 'cc_batch', Record: record(w), ...(w.ttl ? { TtlDuration: w.ttl } : {}) }));
      };
      const queue = [...keys];
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
            const ws = byKey.get(key)!;
            for (const w of ws.slice(batchKeys.includes(key) ? 1 : 0)) await send(w);
          }
        }),
      );

      // online probes at or after each key's newest event time (the record serving holds)
      for (const key of keys) {
        const ws = byKey.get(key)!;
        const newest = ws.length === 0 ? BASE + rng.int(10 * DAY) : Math.max(...ws.map((w) => w.et));
        const current = ws.filter((w) => w.et === newest).at(-1);
        const times = [newest, newest + rng.int(72 * HOUR)];
        if (current?.op === 'put') times.push(current.exp - 1, current.exp, current.exp + 1);
        for (const t of times) {
          const amount = Math.round(rng.next() * 100_000) / 100;
          const r = await fetch(`${daemon.url}/v1/features/cc_batch/${key}?asOf=${t}&request.amount=${amount}`);
          expect(r.status).toBe(200);
          const body = (await r.json()) as { found: boolean; asOf: number; features: Record<string, unknown> };
          expect(body.asOf).toBe(t);
          getProbes.push({ label: labels.length, features: body.features, found: body.found });
          labels.push({ key, t, amount });
        }
        // the feature service mixing both groups, once every event of the aggregated group is in
        const t = Math.max(newest, txEnd) + rng.int(DAY);
        const amount = Math.round(rng.next() * 100_000) / 100;
        const r = await fetch(`${daemon.url}/v1/features`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ keys: [key], features: ['fraud_model'], request: [{ amount }], asOf: t }) });
        expect(r.status).toBe(200);
        const body = (await r.json()) as { results: Array<{ features: Record<string, unknown> }> };
        postProbes.push({ label: labels.length, features: body.results[0]!.features });
        labels.push({ key, t, amount });
      }
    } finally {
      client.destroy();
      await daemon.stop();
    }

    // labels at the edges of every write (event time ± 1 ms, expiry ± 1 ms) and at random times
    for (const w of allWrites) {
      for (const t of [w.et - 1, w.et, w.et + 1]) labels.push({ key: w.key, t, amount: 1 + rng.int(500) });
      if (w.op === 'put') for (const t of [w.exp - 1, w.exp]) labels.push({ key: w.key, t, amount: 1 + rng.int(500) });
    }
    for (let i = 0; i < 5_000; i++) labels.push({ key: keys[rng.int(keys.length)]!, t: BASE - DAY + rng.int(13 * DAY), amount: Math.round(rng.next() * 1000) / 10 });
    labels.push({ key: 'never-seen', t: BASE + DAY, amount: 3 });

    // --- the offline history: every write once, all committed ---
    const offline = join(dir, 'offline');
    const table = join(offline, 'stored', 'cc_batch');
    expect(filesUnder(join(offline, '_staging'))).toEqual([]);
    const duck = await openDuck();
    try {
      const glob = lit(join(table, '*', '*', '*.parquet'));
      const [{ n }] = (await duck.rows(`SELECT count(*)::INTEGER AS n FROM read_parquet(${glob}, hive_partitioning = true)`)) as [{ n: number }];
      expect(n).toBe(allWrites.length);

      const labelPath = join(dir, 'labels.parquet');
      writeLabels(labelPath, labels);
      const stored = join(dir, 'train-stored.parquet');
      const mixed = join(dir, 'train-mixed.parquet');
      const aggOnly = join(dir, 'train-agg.parquet');
      const rs = await runTrainingSet({ spec, labels: labelPath, features: 'cc_batch:*', labelTime: 'trans_time', out: stored, quiet: true });
      expect(rs.events).toBe(0); // stored groups only: no source replay
      expect(rs.storedRows).toBe(allWrites.length);
      const rm = await runTrainingSet({ spec, labels: labelPath, features: 'fraud_model', out: mixed, quiet: true });
      expect(rm.eventsApplied).toBeGreaterThan(0);
      await runTrainingSet({ spec, labels: labelPath, features: 'cc_agg:*', out: aggOnly, quiet: true });
      const ts = await readTable([stored]);
      const tm = await readTable([mixed]);
      const ta = await readTable([aggOnly]);
      expect(ts.rows).toBe(labels.length);
      expect(tm.names).toEqual(['pair', 'cc_num', 'trans_time', 'amount', ...AGG, ...STORED]);
      // the mixed set = the stored-only set beside the aggregated-only set
      for (const f of STORED) expect(Array.from(tm.columns.get(f)!)).toEqual(Array.from(ts.columns.get(f)!));
      for (const f of AGG) expect(Array.from(tm.columns.get(f)!)).toEqual(Array.from(ta.columns.get(f)!));

      // (a) DuckDB: ASOF JOIN over the committed history; among equal event times the later write
      // (file names sort by checkpoint, rows by write); null when deleted or expired at the label time
      const ref = await duck.rows(`
        WITH h AS (
          SELECT *,
            row_number() OVER (PARTITION BY cc_num, event_time ORDER BY filename DESC, file_row_number DESC) AS rn,
            count(*) OVER (PARTITION BY cc_num, event_time) > 1 AS tie,
            -- written after a record with a later event time (which the state kept instead)
            coalesce(max(event_time) OVER (PARTITION BY cc_num ORDER BY ckpt, file_row_number ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) > event_time, false) AS late
          FROM (
            SELECT *, regexp_extract(filename, 'part-([0-9]+-[0-9]+)[.]parquet', 1) AS ckpt
            FROM read_parquet(${glob}, hive_partitioning = true, filename = true, file_row_number = true)
          )
        ), latest AS (SELECT * FROM h WHERE rn = 1),
        j AS (
          SELECT l.pair, l.amount, r.cc_num IS NOT NULL AS seen, coalesce(r.deleted, false) AS deleted,
            r.expires_at IS NOT NULL AND r.expires_at <= l.trans_time AS expired, r.late,
            coalesce(r.tie, false) AS tie,
            r.event_time, r.avg_amt_last_1w, r.num_trans_last_1w, r.segment, r.vip
          FROM read_parquet(${lit(labelPath)}) l ASOF LEFT JOIN latest r ON l.cc_num = r.cc_num AND r.event_time <= l.trans_time
        )
        SELECT pair::INTEGER AS pair, seen, deleted, expired, late, tie, seen AND NOT deleted AND NOT expired AS live,
          epoch_ms(event_time)::DOUBLE AS event_time, avg_amt_last_1w, num_trans_last_1w, segment, vip,
          CASE WHEN num_trans_last_1w <> 0 THEN avg_amt_last_1w / num_trans_last_1w END AS avg_per_trans,
          CASE WHEN avg_amt_last_1w <> 0 THEN amount / avg_amt_last_1w END AS amt_vs_avg
        FROM j ORDER BY pair`);
      expect(ref.length).toBe(labels.length);
      const mismatches: string[] = [];
      const cover = { live: 0, expired: 0, deleted: 0, before: 0, tie: 0, late: 0, nullDerived: 0 };
      ref.forEach((r, i) => {
        expect(r['pair']).toBe(i);
        const live = r['live'] as boolean;
        if (live) cover.live++;
        if (r['seen'] && !r['deleted'] && r['expired']) cover.expired++;
        if (r['deleted']) cover.deleted++;
        if (!r['seen']) cover.before++;
        if (live && r['tie']) cover.tie++;
        if (live && r['late']) cover.late++;
        if (live && r['avg_per_trans'] === null) cover.nullDerived++;
        for (const f of STORED) {
          const want = live ? (r[f] ?? null) : null;
          const got = ts.columns.get(f)![i] ?? null;
          if (!Object.is(got, want) && mismatches.length < 10) {
            mismatches.push(`label ${i} ${labels[i]!.key} @${new Date(labels[i]!.t).toISOString()} ${f}: training ${String(got)}, DuckDB ${String(want)}`);
          }
        }
      });
      expect(mismatches).toEqual([]);
      // every case was exercised
      for (const [k, v] of Object.entries(cover)) expect(v, k).toBeGreaterThan(0);

      // (b) the online answers: the same record, the same derived values
      const online: string[] = [];
      for (const p of getProbes) {
        expect(ts.columns.get('event_time')![p.label] !== null).toBe(p.found);
        for (const f of STORED) {
          const got = ts.columns.get(f)![p.label] ?? null;
          if (!Object.is(got, p.features[f] ?? null) && online.length < 10) online.push(`GET label ${p.label} ${f}: training ${String(got)}, API ${String(p.features[f])}`);
        }
      }
      for (const p of postProbes) {
        for (const [g, names] of [['cc_agg', AGG], ['cc_batch', STORED]] as const) {
          for (const f of names) {
            const got = tm.columns.get(f)![p.label] ?? null;
            const api = p.features[`${g}:${f}`] ?? null;
            if (!Object.is(got, api) && online.length < 10) online.push(`POST label ${p.label} ${g}:${f}: training ${String(got)}, API ${String(api)}`);
          }
        }
      }
      expect(online).toEqual([]);
      expect(getProbes.filter((p) => p.found).length).toBeGreaterThan(50);
      expect(getProbes.filter((p) => !p.found).length).toBeGreaterThan(50);
    } finally {
      duck.close();
    }
  }, 300_000);
});

describe('stored groups in training plans', () => {
  it('plans stored-only and mixed requests, reads no history when none is committed, refuses clashing names', async () => {
    const spec = await loadYaml(dir, 'plan.yaml', YAML.replace('path: ./offline', 'path: ./offline-empty'));
    const only = planTraining(spec, resolveFeatureRefs(spec, 'cc_batch:avg_per_trans'));
    expect(only.source).toBeNull();
    expect([only.keyField, only.timeField]).toEqual(['cc_num', 'event_time']);
    // a derived feature reads the fields it needs, only those
    expect(only.stored[0]!.fieldsRead).toEqual(['avg_amt_last_1w', 'num_trans_last_1w']);
    const mixed = planTraining(spec, resolveFeatureRefs(spec, 'fraud_model'));
    expect(mixed.timeField).toBe('trans_time');
    expect(mixed.output.map((o) => `${o.group}:${o.column}:${o.type}`)).toEqual([
      'cc_agg:num_trans_last_1d:double', 'cc_agg:avg_amt_last_1d:double',
      'cc_batch:event_time:timestamp', 'cc_batch:avg_amt_last_1w:double', 'cc_batch:num_trans_last_1w:int',
      'cc_batch:segment:string', 'cc_batch:vip:boolean', 'cc_batch:avg_per_trans:double', 'cc_batch:amt_vs_avg:double',
    ]);

    // nothing written yet: every label reads null (no error)
    const labels = join(dir, 'plan-labels.parquet');
    writeLabels(labels, [{ key: 'a', t: BASE, amount: 1 }, { key: 'b', t: BASE + 1, amount: 2 }]);
    const out = join(dir, 'plan-out.parquet');
    const r = await runTrainingSet({ spec, labels, features: 'cc_batch:*', labelTime: 'trans_time', out, quiet: true });
    expect(r.storedRows).toBe(0);
    const t = await readTable([out]);
    for (const f of STORED) expect(Array.from(t.columns.get(f)!, (v) => (Number.isNaN(v) ? null : v))).toEqual([null, null]);
    // --input names a source's history: meaningless for stored groups only
    await expect(runTrainingSet({ spec, labels, features: 'cc_batch:*', labelTime: 'trans_time', input: [labels], out, quiet: true })).rejects.toMatchObject({ code: 'BAD_REQUEST' });

    const g = spec.groups.get('cc_batch') as StoredGroupSpec;
    expect(storedHistoryLayout(spec, g).columns.map((c) => c.name)).toEqual(['cc_num', 'event_time', 'expires_at', 'avg_amt_last_1w', 'num_trans_last_1w', 'segment', 'vip', 'deleted', 'write_time']);
    const clash: StoredGroupSpec = { ...g, fields: [...g.fields, { name: 'deleted', type: 'boolean', optional: true }] };
    expect(() => storedHistoryLayout(spec, clash)).toThrow(/field "deleted" clashes/);
  });
});
