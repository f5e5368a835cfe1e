import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { json, post, startTestDaemon, type RunningDaemon } from './harness.js';

let d: RunningDaemon;
beforeAll(async () => {
  d = await startTestDaemon();
});
afterAll(async () => {
  await d?.stop();
});

function connect(): Promise<WebSocket> {
  const ws = new WebSocket(`${d.url.replace('http', 'ws')}/v1/ws`);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Collects every message of a socket. */
function inbox(ws: WebSocket): any[] {
  const got: any[] = [];
  ws.on('message', (m: Buffer) => got.push(JSON.parse(m.toString('utf8'))));
  return got;
}

async function until<T>(f: () => T | undefined, what: string, ms = 30_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('WebSocket /v1/ws with the ws client', () => {
  it('ingest with acks: drop the connection mid-stream, resend what was not acknowledged, every event counted once', async () => {
    const card = 'ws-card';
    const base = Date.now() - 60_000;
    const total = 60;
    // Message i carries events 2i and 2i+1 of producer "dev-1" (seq = event number).
    const messages = Array.from({ length: total / 2 }, (_, i) => ({
      op: 'ingest',
      id: `m${i}`,
      source: 'tx_ws',
      events: [2 * i, 2 * i + 1].map((n) => ({ cc_num: card, amount: n + 1, trans_time: base + n, producerId: 'dev-1', seq: n })),
    }));
    const acked = new Set<string>();
    let ws = await connect();
    let dropped = false;
    ws.on('message', (m: Buffer) => {
      if (dropped) return;
      const a = JSON.parse(m.toString('utf8'));
      if (a.op === 'ack') acked.add(a.id);
      if (acked.size >= 2) {
        dropped = true;
        ws.terminate(); // drop mid-stream: later messages are unacknowledged (some maybe applied, some not received)
      }
    });
    for (const m of messages.slice(0, 20)) ws.send(JSON.stringify(m));
    await until(() => dropped || undefined, 'the drop');
    expect(acked.size).toBe(2);
    ws = await connect();
    const got = inbox(ws);
    const resend = messages.filter((m) => !acked.has(m.id));
    for (const m of resend) ws.send(JSON.stringify(m));
    await until(() => got.filter((a) => a.op === 'ack').length === resend.length || undefined, 'every resent message acked');
    for (const a of got) {
      expect(a.op).toBe('ack');
      expect(a.rejected).toEqual([]);
    }
    const dupes = got.reduce((n, a) => n + a.duplicates, 0);
    const accepted = got.reduce((n, a) => n + a.accepted, 0);
    expect(accepted + dupes).toBe(resend.length * 2);
    // Resend everything once more (a client that lost all its acks): all duplicates.
    got.length = 0;
    for (const m of messages) ws.send(JSON.stringify(m));
    await until(() => got.length === messages.length || undefined, 'acks of the full resend');
    expect(got.reduce((n, a) => n + a.accepted, 0)).toBe(0);
    ws.close();
    // wait until the engine applied everything acknowledged, then check: lifetime sum = 1 + 2 + ... + 60
    const src = d.daemon.pushSources.get('tx_ws')!;
    await src.waitVisible(src.head());
    const r = await json(await fetch(`${d.url}/v1/features/cc_ws_agg/${card}`));
    expect(r.features).toEqual({ num_trans_last_10m: total, avg_amt_last_10m: (total + 1) / 2, sum_amt_lifetime: (total * (total + 1)) / 2 });
  });

  it('a resent message with an idempotencyKey is acknowledged again and counted once', async () => {
    const ws = await connect();
    const got = inbox(ws);
    const msg = { op: 'ingest', id: 1, source: 'tx_ws', idempotencyKey: 'ws-key-1', events: [{ cc_num: 'ws-idem', amount: 5, trans_time: Date.now() }] };
    ws.send(JSON.stringify(msg));
    ws.send(JSON.stringify({ ...msg, id: 2 }));
    await until(() => got.length === 2 || undefined, 'two acks');
    expect(got.map((a) => [a.id, a.accepted, a.duplicate])).toEqual([
      [1, 1, false],
      [2, 1, true],
    ]);
    ws.close();
  });

  it('subscribe to a group key and to a service key: current features now, new ones on every change', async () => {
    const ws = await connect();
    const got = inbox(ws);
    ws.send(JSON.stringify({ op: 'subscribe', id: 's1', group: 'cc_ws_agg', key: 'sub-card' }));
    ws.send(JSON.stringify({ op: 'subscribe', id: 's2', service: 'fraud_model', key: 'sub-card' }));
    await until(() => got.filter((m) => m.op === 'features').length === 2 || undefined, 'initial features');
    const initial = got.find((m) => m.op === 'features' && m.group === 'cc_ws_agg');
    expect(initial.features.num_trans_last_10m).toBe(0);
    ws.send(JSON.stringify({ op: 'ingest', id: 'i1', source: 'tx_ws', events: [{ cc_num: 'sub-card', amount: 42, trans_time: Date.now() }] }));
    const pushed = await until(() => got.find((m) => m.op === 'features' && m.group === 'cc_ws_agg' && m.features.num_trans_last_10m === 1), 'group push');
    expect(pushed.features.sum_amt_lifetime).toBe(42);
    await post(`${d.url}/v1/ingest/transactions`, { cc_num: 'sub-card', amount: 10, trans_time: Date.now() });
    const svc = await until(() => got.find((m) => m.op === 'features' && m.service === 'fraud_model' && m.features['cc_agg:num_trans_last_10m'] === 1), 'service push');
    expect(svc.features['cc_agg:avg_amt_last_10m']).toBe(10);
    ws.send(JSON.stringify({ op: 'unsubscribe', group: 'cc_ws_agg', key: 'sub-card' }));
    await until(() => got.find((m) => m.op === 'unsubscribed'), 'unsubscribed');
    ws.close();
  });

  it('answers bad messages with error codes and keeps the connection open', async () => {
    const ws = await connect();
    const got = inbox(ws);
    ws.send('{nope');
    ws.send(JSON.stringify({ op: 'fly', id: 1 }));
    ws.send(JSON.stringify({ op: 'ingest', id: 2, source: 'nope', events: [] }));
    ws.send(JSON.stringify({ op: 'ingest', id: 3, source: 'tx_ws', events: 'x' }));
    ws.send(JSON.stringify({ op: 'subscribe', id: 4, group: 'nope', key: 'k' }));
    ws.send(JSON.stringify({ op: 'subscribe', id: 5, service: 'nope', key: 'k' }));
    await until(() => got.length === 6 || undefined, 'six errors');
    expect(got.map((m) => [m.op, m.id ?? null, m.error.code])).toEqual([
      ['error', null, 'BAD_REQUEST'],
      ['error', 1, 'BAD_REQUEST'],
      ['error', 2, 'UNKNOWN_SOURCE'],
      ['error', 3, 'BAD_REQUEST'],
      ['error', 4, 'UNKNOWN_GROUP'],
      ['error', 5, 'UNKNOWN_SERVICE'],
    ]);
    // Each names the message field at fault.
    expect(got.map((m) => m.error.field ?? null)).toEqual([null, 'op', 'source', 'events', 'group', 'service']);
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close();
  });

  it('a message over server.bodyLimit closes the connection with 1009 and applies nothing; a new connection works', async () => {
    const limit = d.daemon.engine.spec.server.bodyLimit;
    const ws = await connect();
    const closed = new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code)));
    const got = inbox(ws);
    const events = Array.from({ length: Math.ceil(limit / 60) + 10 }, (_, i) => ({ cc_num: 'ws-big', amount: i, trans_time: Date.now() }));
    const big = JSON.stringify({ op: 'ingest', id: 'big', source: 'tx_ws', events });
    expect(Buffer.byteLength(big)).toBeGreaterThan(limit);
    ws.send(big);
    expect(await closed).toBe(1009);
    expect(got).toEqual([]);
    const again = await connect();
    const answers = inbox(again);
    again.send(JSON.stringify({ op: 'ingest', id: 'small', source: 'tx_ws', events: [{ cc_num: 'ws-big', amount: 7, trans_time: Date.now() }] }));
    await until(() => answers.find((a) => a.op === 'ack'), 'ack of the small message');
    again.close();
    const src = d.daemon.pushSources.get('tx_ws')!;
    await src.waitVisible(src.head());
    const r = await json(await fetch(`${d.url}/v1/features/cc_ws_agg/ws-big`));
    expect(r.features.sum_amt_lifetime).toBe(7);
  });

  it('a plain GET /v1/ws (no upgrade) is 426 UPGRADE_REQUIRED', async () => {
    const res = await fetch(`${d.url}/v1/ws`);
    expect(res.status).toBe(426);
    expect((await json(res)).error.code).toBe('UPGRADE_REQUIRED');
  });
});
