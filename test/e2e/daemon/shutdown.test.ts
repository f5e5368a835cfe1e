import type { ChildProcess } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { decodeManifest } from '../../../core/checkpoint/manifest.js';
import { exited } from '../../services/child-registry.js';
import { startDaemonChild, startDaemonChildOnFreePort } from './child.js';
import { json, post, tempConfig } from './harness.js';

/**
 * SIGINT stops `fenestra start` gracefully with a final checkpoint: with the checkpoint interval at an
 * hour, the acknowledged events are only in the write-ahead logs until the shutdown; afterwards the
 * checkpoint manifest on disk has advanced, and a restart recovers that checkpoint and replays nothing.
 */
let child: ChildProcess | null = null;
let dir = '';
afterAll(async () => {
  if (child !== null && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await exited(child);
  }
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

async function manifestId(stateDir: string): Promise<number | null> {
  const file = join(stateDir, 'checkpoints', 'MANIFEST');
  const buf = await readFile(file).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : Promise.reject(e)));
  return buf === null ? null : decodeManifest(buf, file).id;
}

/** Sends one ingest message over a new WebSocket and waits for its ack. */
async function wsIngest(url: string, msg: Record<string, unknown>): Promise<any> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/ws`);
  try {
    await new Promise((res, rej) => ws.once('open', res).once('error', rej));
    const ack = new Promise<any>((res) => ws.on('message', (m: Buffer) => res(JSON.parse(m.toString('utf8')))));
    ws.send(JSON.stringify(msg));
    return await ack;
  } finally {
    ws.close();
  }
}

const logged = (log: ReadonlyArray<Record<string, unknown>>, msg: string) => log.filter((l) => l['msg'] === msg);

describe('SIGINT: graceful shutdown with a final checkpoint', () => {
  it('the checkpoint on disk advances at shutdown and a restart recovers it without replaying the logs', async () => {
    const cfg = await tempConfig((y) => y.replace('checkpointInterval: 1s', 'checkpointInterval: 1h'));
    dir = cfg.dir;
    const stateDir = join(cfg.dir, '.fenestra', 'state');
    const first = await startDaemonChildOnFreePort(cfg.config);
    const port = first.port;
    const url = `http://127.0.0.1:${port}`;
    child = first.child;

    const t0 = Date.now() - 60_000;
    const http = Array.from({ length: 30 }, (_, i) => ({ cc_num: `sd-${i % 3}`, amount: i + 1, trans_time: t0 + i * 100 }));
    const r = await json(await post(`${url}/v1/ingest/transactions?wait=visible`, http));
    expect(r).toMatchObject({ accepted: 30, rejected: [], visible: true });
    const ack = await wsIngest(url, { op: 'ingest', id: 1, source: 'tx_ws', producerId: 'sd', events: http.slice(0, 10).map((e, seq) => ({ ...e, seq })) });
    expect(ack).toMatchObject({ op: 'ack', id: 1, accepted: 10, rejected: [] });
    const before = await manifestId(stateDir);

    child.kill('SIGINT');
    await exited(child);
    expect(child.exitCode).toBe(0);
    const after = await manifestId(stateDir);
    expect(after).not.toBeNull();
    expect(after!).toBeGreaterThan(before ?? 0);

    const restarted = await startDaemonChild(cfg.config, port);
    child = restarted.child;
    expect(logged(restarted.startupLog, 'recovered checkpoint').map((l) => l['id'])).toEqual([after]);
    const opened = logged(restarted.startupLog, 'push source log opened');
    expect(opened.map((l) => [l['source'], l['head'], l['replay']]).sort()).toEqual([
      ['transactions', 30, 0],
      ['tx_ws', 10, 0],
    ]);

    const asOf = t0 + 30 * 100;
    const res = await json(await post(`${url}/v1/features`, { keys: ['sd-0', 'sd-1', 'sd-2'], features: ['cc_agg:num_trans_last_10m', 'cc_ws_agg:sum_amt_lifetime'], asOf }));
    const expected = (k: number) => ({
      n: http.filter((_, i) => i % 3 === k).length,
      ws: http.slice(0, 10).filter((_, i) => i % 3 === k).reduce((s, e) => s + e.amount, 0),
    });
    expect(res.results.map((x: any) => [x.key, x.features['cc_agg:num_trans_last_10m'], x.features['cc_ws_agg:sum_amt_lifetime']])).toEqual(
      [0, 1, 2].map((k) => [`sd-${k}`, expected(k).n, expected(k).ws]),
    );
    child.kill('SIGTERM');
    await exited(child);
    expect(child.exitCode).toBe(0);
  }, 60_000);
});
