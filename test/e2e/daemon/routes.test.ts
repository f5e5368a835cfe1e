import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../../core/errors.js';
import { json, post, startTestDaemon, type RunningDaemon } from './harness.js';

let d: RunningDaemon;
beforeAll(async () => {
  d = await startTestDaemon();
});
afterAll(async () => {
  await d?.stop();
});

const T = (hms: string): string => `2026-01-01T${hms}Z`;
const tx = (card: string, amount: number, hms: string): Record<string, unknown> => ({ cc_num: card, amount, trans_time: T(hms) });

function expectError(body: any, code: keyof typeof ERROR_CODES): void {
  expect(body).toHaveProperty('error.code', code);
  expect(typeof body.error.message).toBe('string');
}

describe('daemon HTTP API over a real socket', () => {
  it('answers healthz, readyz, catalog, metrics and the OpenAPI document', async () => {
    expect(await json(await fetch(`${d.url}/healthz`))).toEqual({ status: 'ok' });
    expect((await fetch(`${d.url}/readyz`)).status).toBe(200);
    const cat = await json(await fetch(`${d.url}/v1/catalog`));
    expect(cat.featureGroups.map((g: any) => g.name).sort()).toEqual(['cc_agg', 'cc_batch', 'cc_ws_agg']);
    const agg = cat.featureGroups.find((g: any) => g.name === 'cc_agg');
    expect(agg.features.find((f: any) => f.name === 'avg_amt_last_10m')).toMatchObject({ agg: 'avg', field: 'amount', type: 'double' });
    expect(cat.sources.find((s: any) => s.name === 'transactions')).toMatchObject({ type: 'http', push: true });
    const doc = await json(await fetch(`${d.url}/docs/json`));
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/features/{group}/{key}', '/v1/features', '/v1/ingest/{source}', '/FeatureGroup/{name}', '/BatchGetRecord', '/v1/catalog']));
    await post(`${d.url}/v1/ingest/transactions`, tx('metrics-card', 1, '00:00:00'));
    await fetch(`${d.url}/v1/features/cc_agg/metrics-card`);
    const m = await (await fetch(`${d.url}/metrics`)).text();
    expect(m).toMatch(/fenestra_ingest_events_total\{source="transactions",outcome="accepted"\} \d+/);
    for (const name of ['fenestra_dead_letters_total', 'fenestra_checkpoint_age_seconds', 'fenestra_checkpoint_duration_seconds', 'fenestra_read_latency_seconds_bucket', 'fenestra_source_lag_records']) {
      expect(m).toContain(name);
    }
  });

  it('serves the window-decay example: 4 payments read 4 / 200 at 22:05:05 and 0 / null at 22:30', async () => {
    const events = [tx('1248', 50, '22:01:00'), tx('1248', 200, '22:03:59'), tx('1248', 50, '22:04:28'), tx('1248', 500, '22:05:05')];
    const r = await json(await post(`${d.url}/v1/ingest/transactions?wait=visible`, events));
    expect(r).toMatchObject({ accepted: 4, rejected: [], duplicate: false, visible: true });
    const at = await json(await fetch(`${d.url}/v1/features/cc_agg/1248?asOf=${encodeURIComponent(T('22:05:05'))}&request.amount=400`));
    expect(at).toMatchObject({ group: 'cc_agg', key: '1248', found: true, asOf: Date.parse(T('22:05:05')) });
    expect(at.features).toMatchObject({ num_trans_last_10m: 4, avg_amt_last_10m: 200, amt_ratio1: 1, amt_ratio2: 2, count_ratio: 1 });
    const quiet = await json(await fetch(`${d.url}/v1/features/cc_agg/1248?asOf=${Date.parse(T('22:30:00'))}&features=num_trans_last_10m,avg_amt_last_10m`));
    expect(quiet.features).toEqual({ num_trans_last_10m: 0, avg_amt_last_10m: null });
  });

  it('reports unknown keys as found:false with nulls, unknown groups 404, unknown features and bad asOf 400', async () => {
    const miss = await json(await fetch(`${d.url}/v1/features/cc_agg/nobody`));
    expect(miss.found).toBe(false);
    expect(miss.features.avg_amt_last_10m).toBeNull();
    expect(miss.features.num_trans_last_10m).toBe(0);
    let res = await fetch(`${d.url}/v1/features/nope/1`);
    expect(res.status).toBe(404);
    expectError(await json(res), 'UNKNOWN_GROUP');
    res = await fetch(`${d.url}/v1/features/cc_agg/1?features=amt`);
    expect(res.status).toBe(400);
    expectError(await json(res), 'UNKNOWN_FEATURE');
    res = await fetch(`${d.url}/v1/features/cc_agg/1?asOf=yesterday`);
    expect(res.status).toBe(400);
    expectError(await json(res), 'INVALID_AS_OF');
    res = await fetch(`${d.url}/v1/nothing-here`);
    expect(res.status).toBe(404);
    expectError(await json(res), 'NOT_FOUND');
  });

  it('reads many keys × features: group:feature, group:*, a service, per-key request fields', async () => {
    await post(`${d.url}/v1/ingest/transactions?wait=visible`, [tx('b1', 10, '10:00:00'), tx('b2', 30, '10:00:00'), tx('b2', 50, '10:01:00')]);
    const asOf = T('10:02:00');
    const r = await json(await post(`${d.url}/v1/features`, { keys: ['b1', 'b2', 'zz'], features: ['cc_agg:num_trans_last_10m', 'cc_agg:amt_ratio2'], request: [{ amount: 20 }, { amount: 80 }, { amount: 1 }], asOf }));
    expect(r.features).toEqual(['cc_agg:num_trans_last_10m', 'cc_agg:amt_ratio2']);
    expect(r.results.map((x: any) => [x.key, x.found.cc_agg, x.features['cc_agg:num_trans_last_10m'], x.features['cc_agg:amt_ratio2']])).toEqual([
      ['b1', true, 1, 2],
      ['b2', true, 2, 2],
      ['zz', false, 0, null],
    ]);
    const all = await json(await post(`${d.url}/v1/features`, { keys: ['b2'], features: ['cc_agg:*'], asOf }));
    expect(Object.keys(all.results[0].features)).toHaveLength(8);
    const svc = await json(await post(`${d.url}/v1/features`, { keys: ['b2'], features: ['fraud_model'], request: { amount: 40 }, asOf }));
    expect(svc.results[0].features).toMatchObject({ 'cc_agg:avg_amt_last_10m': 40, 'cc_agg:amt_ratio2': 1, 'cc_batch:avg_amt_last_1w': null });
    let res = await post(`${d.url}/v1/features`, { keys: ['b2'], features: ['no_service'] });
    expect(res.status).toBe(400);
    expectError(await json(res), 'UNKNOWN_SERVICE');
    res = await post(`${d.url}/v1/features`, { keys: 'b2', features: ['cc_agg:*'] });
    expect(res.status).toBe(400);
    const wrongType = await json(res);
    expectError(wrongType, 'BAD_REQUEST');
    // A schema error names the field at fault, as the handlers' own errors do.
    expect(wrongType.error.field).toBe('keys');
    res = await post(`${d.url}/v1/features`, { keys: ['b2', 7], features: ['cc_agg:*'] });
    expect(res.status).toBe(400);
    expect((await json(res)).error).toMatchObject({ code: 'BAD_REQUEST', field: 'keys[1]' });
    res = await post(`${d.url}/v1/features`, { keys: ['b2'], features: ['cc_agg:*'], asOff: 1 });
    expect(res.status).toBe(400);
    expect((await json(res)).error).toMatchObject({ code: 'BAD_REQUEST', field: 'asOff' });
    res = await post(`${d.url}/v1/features`, { keys: ['b2'], features: ['cc_agg:nope'] });
    expectError(await json(res), 'UNKNOWN_FEATURE');
    res = await post(`${d.url}/v1/features`, '{"keys": [');
    expect(res.status).toBe(400);
    expectError(await json(res), 'BAD_REQUEST');
    const tooMany = Array.from({ length: 10_001 }, (_, i) => `k${i}`);
    res = await post(`${d.url}/v1/features`, { keys: tooMany, features: ['cc_agg:*'] });
    expect(res.status).toBe(400);
    expectError(await json(res), 'BAD_REQUEST');
    const oversized = JSON.stringify({ keys: Array.from({ length: 9_000 }, (_, i) => `${'card-'.repeat(30)}${i}`), features: ['cc_agg:*'] });
    expect(Buffer.byteLength(oversized)).toBeGreaterThan(d.daemon.engine.spec.server.bodyLimit);
    res = await post(`${d.url}/v1/features`, oversized);
    expect(res.status).toBe(413);
    expectError(await json(res), 'PAYLOAD_TOO_LARGE');
  });

  it('ingest: mixed batch keeps the good events and reports each bad one by index, field and reason', async () => {
    const res = await post(`${d.url}/v1/ingest/transactions?wait=visible`, [
      tx('mix', 10, '11:00:00'),
      { cc_num: 'mix', amount: 'ten', trans_time: T('11:00:01') },
      { cc_num: 'mix', amount: 5 },
      { cc_num: 'mix', amount: 5, trans_time: 'soon' },
      7,
      tx('mix', 20, '11:00:02'),
    ]);
    expect(res.status).toBe(200);
    const r = await json(res);
    expect(r.accepted).toBe(2);
    expect(r.rejected.map((x: any) => [x.index, x.code, x.field ?? null])).toEqual([
      [1, 'EVENT_FIELD_TYPE', 'amount'],
      [2, 'EVENT_FIELD_MISSING', 'trans_time'],
      [3, 'EVENT_TIME_INVALID', 'trans_time'],
      [4, 'EVENT_MALFORMED', null],
    ]);
    for (const x of r.rejected) expect(x.reason.length).toBeGreaterThan(5);
    const f = await json(await fetch(`${d.url}/v1/features/cc_agg/mix?asOf=${encodeURIComponent(T('11:00:02'))}`));
    expect(f.features).toMatchObject({ num_trans_last_10m: 2, avg_amt_last_10m: 15 });
  });

  it('ingest: a single wrong event is a 400 with its code; NDJSON lines are events; bad lines are rejections', async () => {
    let res = await post(`${d.url}/v1/ingest/transactions`, { cc_num: 5, amount: 1, trans_time: 1 });
    expect(res.status).toBe(400);
    const bad = await json(res);
    expectError(bad, 'EVENT_FIELD_TYPE');
    expect(bad.error.field).toBe('cc_num');
    res = await fetch(`${d.url}/v1/ingest/transactions?wait=visible`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: `${JSON.stringify(tx('nd', 1, '12:00:00'))}\n{not json\n\n${JSON.stringify(tx('nd', 3, '12:00:01'))}\n`,
    });
    const r = await json(res);
    expect(res.status).toBe(200);
    expect(r.accepted).toBe(2);
    expect(r.rejected).toEqual([expect.objectContaining({ index: 1, code: 'EVENT_MALFORMED' })]);
    const f = await json(await fetch(`${d.url}/v1/features/cc_agg/nd?asOf=${encodeURIComponent(T('12:00:01'))}`));
    expect(f.features.avg_amt_last_10m).toBe(2);
  });

  it('ingest: malformed JSON 400, unknown source 404, wrong media type 415, oversized body 413', async () => {
    let res = await post(`${d.url}/v1/ingest/transactions`, '{"cc_num": ');
    expect(res.status).toBe(400);
    expectError(await json(res), 'BAD_REQUEST');
    res = await post(`${d.url}/v1/ingest/nope`, tx('x', 1, '00:00:00'));
    expect(res.status).toBe(404);
    expectError(await json(res), 'UNKNOWN_SOURCE');
    res = await fetch(`${d.url}/v1/ingest/transactions`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    expect(res.status).toBe(415);
    expectError(await json(res), 'UNSUPPORTED_MEDIA_TYPE');
    const big = Array.from({ length: 20_000 }, (_, i) => tx(`big${i}`, i, '00:00:00'));
    res = await post(`${d.url}/v1/ingest/transactions`, big);
    expect(res.status).toBe(413);
    expectError(await json(res), 'PAYLOAD_TOO_LARGE');
    const f = await json(await fetch(`${d.url}/v1/features/cc_agg/big1`));
    expect(f.found).toBe(false);
  });

  it('ingest: a retried Idempotency-Key is acknowledged again and counted once; producer seq dedupes', async () => {
    const batch = [tx('idem', 10, '13:00:00'), tx('idem', 20, '13:00:01')];
    const a = await json(await post(`${d.url}/v1/ingest/transactions`, batch, { 'idempotency-key': 'batch-1' }));
    const b = await json(await post(`${d.url}/v1/ingest/transactions?wait=visible`, batch, { 'idempotency-key': 'batch-1' }));
    expect(a.duplicate).toBe(false);
    expect(b).toMatchObject({ accepted: 2, duplicate: true, position: a.position, visible: true });
    const seq = (n: number): Record<string, unknown> => ({ ...tx('idem', 100, '13:00:02'), producerId: 'p1', seq: n });
    const c = await json(await post(`${d.url}/v1/ingest/transactions`, [seq(1), seq(2)]));
    const e = await json(await post(`${d.url}/v1/ingest/transactions?wait=visible`, [seq(2), seq(3)]));
    expect([c.accepted, e.accepted, e.duplicates]).toEqual([2, 1, 1]);
    const f = await json(await fetch(`${d.url}/v1/features/cc_agg/idem?asOf=${encodeURIComponent(T('13:00:02'))}`));
    expect(f.features.num_trans_last_10m).toBe(5);
  });
});
