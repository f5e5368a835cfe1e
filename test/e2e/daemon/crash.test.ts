import type { ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { exited } from '../../services/child-registry.js';
import { startDaemonChild, startDaemonChildOnFreePort } from './child.js';
import { AckingWsClient } from './acking-ws-client.js';
import { tempConfig } from './harness.js';

/**
 * SIGKILLs a `fenestra start` child process at random moments (>= 10 times) while clients push
 * — Idempotency-Key batches over HTTP, producerId+seq messages over the WebSocket with acks — and
 * resend whatever was not acknowledged, and a SageMaker client rewrites stored records; afterwards
 * every key's features (10-minute, week, month, lifetime windows and stored values) equal an oracle
 * computed from the acknowledged events.
 */
const KILLS = 10;

let child: ChildProcess | null = null;
let dir = '';
afterAll(async () => {
  if (child !== null && child.exitCode === null) {
    child.kill('SIGKILL');
    await exited(child);
  }
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

const startChild = async (config: string, port: number): Promise<ChildProcess> => (await startDaemonChild(config, port)).child;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Ev {
  cc_num: string;
  amount: number;
  trans_time: number;
}

describe('crash test: SIGKILL the daemon while clients push and resend', () => {
  it(`features equal the oracle after ${KILLS} kills`, async () => {
    const cfg = await tempConfig((y) => y.replace('checkpointInterval: 1s', 'checkpointInterval: 150ms'));
    dir = cfg.dir;
    const first = await startDaemonChildOnFreePort(cfg.config);
    const port = first.port;
    const url = `http://127.0.0.1:${port}`;
    child = first.child;

    const base = Date.now() - 5 * 60_000;
    const cards = Array.from({ length: 8 }, (_, i) => `card-${i}`);
    const mkEvents = (n: number, seed: number): Ev[] =>
      Array.from({ length: n }, (_, i) => ({ cc_num: cards[(i * 7 + seed) % cards.length]!, amount: ((i * 13 + seed) % 97) + 1, trans_time: base + i * 50 + seed }));

    /** POSTs until a 200 answer arrives (connection errors and 503 while the daemon is down are retried). */
    const deliver = async (path: string, body: unknown, headers: Record<string, string> = {}): Promise<any> => {
      for (;;) {
        try {
          const res = await fetch(`${url}${path}`, { method: path.startsWith('/FeatureGroup') ? 'PUT' : 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
          if (res.status === 200) return await res.json();
          if (res.status !== 503) throw new Error(`unexpected ${res.status}: ${await res.text()}`);
        } catch (e) {
          if ((e as Error).message.startsWith('unexpected')) throw e;
        }
        await sleep(20);
      }
    };

    // Client A and B: batches of 5 with an Idempotency-Key each over HTTP. Client C: producerId+seq messages over
    // the WebSocket, each resent until acknowledged.
    // Each keeps pushing until the killer is done (and at least `min` events), resending unacknowledged batches.
    let killing = true;
    let stop = false;
    const evA: Ev[] = [];
    const evB: Ev[] = [];
    const evC: Ev[] = [];
    const more = (i: number, min: number): boolean => killing || i < min;
    const byKey = async (name: string, seed: number, sink: Ev[]): Promise<void> => {
      for (let i = 0; more(i, 200); i += 5) {
        const batch = mkEvents(i + 5, seed).slice(i, i + 5);
        const r = await deliver('/v1/ingest/transactions', batch, { 'idempotency-key': `${name}-${i}` });
        expect(r.rejected).toEqual([]);
        sink.push(...batch);
      }
    };
    const wsClient = new AckingWsClient(url);
    const bySeq = async (): Promise<void> => {
      for (let i = 0; more(i, 200); i += 4) {
        const events = mkEvents(i + 4, 3).slice(i, i + 4);
        const ack = await wsClient.deliver({ op: 'ingest', id: `c-${i}`, source: 'tx_ws', producerId: 'client-c', events: events.map((e, j) => ({ ...e, seq: i + j })) });
        expect(ack.rejected).toEqual([]);
        // A resend of a message applied before the kill is acknowledged as duplicates.
        expect(ack.accepted + ack.duplicates).toBe(events.length);
        evC.push(...events);
      }
    };
    // Client D: stored records, each key rewritten with increasing event times; the last write wins.
    const lastStored = new Map<string, number>();
    const stored = async (): Promise<void> => {
      for (let i = 0; more(i, 50); i++) {
        const key = cards[i % cards.length]!;
        const et = base + i * 1000;
        await deliver(`/FeatureGroup/cc_batch`, {
          Record: [
            { FeatureName: 'cc_num', ValueAsString: key },
            { FeatureName: 'event_time', ValueAsString: new Date(et).toISOString() },
            { FeatureName: 'avg_amt_last_1w', ValueAsString: String(i) },
            { FeatureName: 'num_trans_last_1w', ValueAsString: String(i * 2) },
          ],
        });
        lastStored.set(key, i);
      }
    };
    const clients = Promise.all([byKey('a', 1, evA), byKey('b', 2, evB), bySeq(), stored()]).finally(() => {
      stop = true;
    });

    let kills = 0;
    let killsWhilePushing = 0;
    while (kills < KILLS) {
      await sleep(150 + Math.random() * 500);
      child.kill('SIGKILL');
      await exited(child);
      kills++;
      if (!stop) killsWhilePushing++;
      child = await startChild(cfg.config, port);
    }
    killing = false;
    await clients;
    expect(stop).toBe(true);
    expect(kills).toBeGreaterThanOrEqual(10);
    // Every kill must have hit while the clients were still pushing (else the test proves little).
    expect(killsWhilePushing).toBe(kills);
    // One more kill after the clients finished, then read from a recovered daemon.
    child.kill('SIGKILL');
    await exited(child);
    child = await startChild(cfg.config, port);
    await deliver('/v1/ingest/transactions?wait=visible', []);
    await deliver('/v1/ingest/tx_ws?wait=visible', []);

    wsClient.close();
    // As of 10 minutes after the median event: the 10-minute windows hold only the later half of the
    // events (strictly after the median's time), the week/month/lifetime windows hold all of them.
    const times = [...evA, ...evB, ...evC].map((e) => e.trans_time).sort((x, y) => x - y);
    const asOf = times[times.length >> 1]! + 10 * 60_000;
    const oracle = (events: Ev[]) => {
      const m = new Map<string, { n: number; sum: number; max: number; n10: number; sum10: number }>();
      for (const e of events) {
        const o = m.get(e.cc_num) ?? { n: 0, sum: 0, max: -Infinity, n10: 0, sum10: 0 };
        o.n++;
        o.sum += e.amount;
        o.max = Math.max(o.max, e.amount);
        if (e.trans_time > asOf - 10 * 60_000 && e.trans_time <= asOf) {
          o.n10++;
          o.sum10 += e.amount;
        }
        m.set(e.cc_num, o);
      }
      return m;
    };
    const agg = oracle([...evA, ...evB]);
    const ws = oracle(evC);
    expect([agg.size, ws.size, lastStored.size]).toEqual([cards.length, cards.length, cards.length]);
    const res = await fetch(`${url}/v1/features`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ keys: cards, features: ['cc_agg:*', 'cc_ws_agg:*', 'cc_batch:*'], asOf }) });
    const body = (await res.json()) as { results: Array<{ key: string; features: Record<string, number | null> }> };
    // Every key is compared (a loop over an empty answer would prove nothing).
    expect(body.results.map((r) => r.key)).toEqual(cards);
    let partialWindows = 0;
    for (const r of body.results) {
      const a = agg.get(r.key)!;
      const w = ws.get(r.key)!;
      const s = lastStored.get(r.key)!;
      if (a.n10 > 0 && a.n10 < a.n) partialWindows++;
      expect({ key: r.key, ...r.features }).toMatchObject({
        key: r.key,
        'cc_agg:num_trans_last_10m': a.n10,
        'cc_agg:avg_amt_last_10m': a.n10 === 0 ? null : a.sum10 / a.n10,
        'cc_agg:num_trans_last_1w': a.n,
        'cc_agg:avg_amt_last_1w': a.sum / a.n,
        'cc_agg:max_amt_last_30d': a.max,
        'cc_ws_agg:num_trans_last_10m': w.n10,
        'cc_ws_agg:avg_amt_last_10m': w.n10 === 0 ? null : w.sum10 / w.n10,
        'cc_ws_agg:sum_amt_lifetime': w.sum,
        'cc_batch:avg_amt_last_1w': s,
        'cc_batch:num_trans_last_1w': s * 2,
      });
    }
    // The 10-minute windows really cut the event stream (else they would only repeat the week's figures).
    expect(partialWindows).toBeGreaterThan(0);
    child.kill('SIGTERM');
    await exited(child);
    expect(child.exitCode).toBe(0);
  }, 240_000);
});
