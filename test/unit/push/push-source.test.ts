import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtemp, rm, readdir, stat, truncate, appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { PushSource, PUSH_SPLIT } from '../../../adapters/sources/push/push-source.js';
import { pushOptions } from '../../../adapters/sources/push/options.js';
import type { SourceSpec } from '../../../core/model.js';
import type { Logger } from '../../../core/contracts/logger.js';
import type { Position } from '../../../core/contracts/position.js';

const spec: SourceSpec = {
  name: 'transactions',
  type: 'http',
  entity: 'card',
  keyField: 'cc_num',
  eventTimeField: 'trans_time',
  fields: [
    { name: 'cc_num', type: 'string', optional: false },
    { name: 'amount', type: 'double', optional: false },
    { name: 'trans_time', type: 'timestamp', optional: false },
  ],
  allowedLateness: 0,
  exactlyOnce: true,
  options: {},
};

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function openSource(dir: string, position?: Position, options: Record<string, unknown> = {}): Promise<PushSource> {
  const s = new PushSource(spec, pushOptions(options));
  await s.open({
    spec,
    restored: position === undefined ? [] : [{ id: PUSH_SPLIT, position }],
    logger: silent,
    dataDir: dir,
    onRevoked: async () => {},
    onAssigned: async () => [],
  });
  return s;
}

const ev = (card: string, amount: number, t = 1_700_000_000_000): Record<string, unknown> => ({ cc_num: card, amount, trans_time: t });

async function drain(s: PushSource): Promise<unknown[]> {
  const out: unknown[] = [];
  for (;;) {
    const batch = await s.poll(1000, 0);
    if (batch.length === 0) return out;
    out.push(...batch.map((r) => r.value));
  }
}

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'fenestra-push-'));
  dirs.push(d);
  return d;
}

describe('PushSource', () => {
  it('accepts good events, reports bad ones by index and field, and hands out only the accepted ones', async () => {
    const s = await openSource(await tempDir());
    const r = await s.append([ev('1', 10), { cc_num: '2', amount: 'x', trans_time: 1 }, ev('3', 30), 'nope', { amount: 1, trans_time: 1 }]);
    expect(r.accepted).toBe(2);
    expect(r.duplicate).toBe(false);
    expect(r.rejected.map((x) => [x.index, x.code, x.field])).toEqual([
      [1, 'EVENT_FIELD_TYPE', 'amount'],
      [3, 'EVENT_MALFORMED', undefined],
      [4, 'EVENT_FIELD_MISSING', 'cc_num'],
    ]);
    expect(r.position).toBe(2);
    const recs = await s.poll(10, 0);
    expect(recs.map((x) => x.position)).toEqual([1, 2]);
    expect(recs.map((x) => (x.value as { cc_num: string }).cc_num)).toEqual(['1', '3']);
    await s.close();
  });

  it('answers a retried idempotency key with the first answer and appends nothing, also after a restart', async () => {
    const dir = await tempDir();
    let s = await openSource(dir);
    const first = await s.append([ev('1', 10), { bad: true }], { idempotencyKey: 'k1' });
    const again = await s.append([ev('1', 10), { bad: true }], { idempotencyKey: 'k1' });
    expect(again).toEqual({ ...first, duplicate: true });
    expect(await drain(s)).toHaveLength(1);
    await s.close();
    s = await openSource(dir, 1);
    const afterRestart = await s.append([ev('1', 10)], { idempotencyKey: 'k1' });
    expect(afterRestart).toEqual({ ...first, duplicate: true });
    expect(await drain(s)).toHaveLength(0);
    await s.close();
  });

  it('drops producer sequence numbers at or below the highest seen, across restarts', async () => {
    const dir = await tempDir();
    let s = await openSource(dir);
    const a = await s.append([{ ...ev('1', 1), producerId: 'p', seq: 1 }, { ...ev('1', 2), producerId: 'p', seq: 2 }]);
    expect(a.accepted).toBe(2);
    const b = await s.append([{ ...ev('1', 2), producerId: 'p', seq: 2 }, { ...ev('1', 3), producerId: 'p', seq: 3 }, { ...ev('1', 3), seq: 3, producerId: 'q' }]);
    expect([b.accepted, b.duplicates]).toEqual([2, 1]);
    const values = await drain(s);
    expect(values).toHaveLength(4);
    expect(values[0]).toEqual(ev('1', 1));
    await s.close();
    s = await openSource(dir, 4);
    const c = await s.append([{ ...ev('1', 3), producerId: 'p', seq: 3 }, { ...ev('1', 4), producerId: 'p', seq: 4 }]);
    expect([c.accepted, c.duplicates]).toEqual([1, 1]);
    expect(c.position).toBe(5);
    await s.close();
  });

  it('rejects malformed dedupe tags', async () => {
    const s = await openSource(await tempDir());
    const r = await s.append([{ ...ev('1', 1), producerId: 'p' }, { ...ev('1', 1), producerId: 'p', seq: -1 }, { ...ev('1', 1), producerId: 7, seq: 1 }]);
    expect(r.rejected.map((x) => [x.code, x.field])).toEqual([
      ['EVENT_FIELD_MISSING', 'seq'],
      ['EVENT_FIELD_TYPE', 'seq'],
      ['EVENT_FIELD_TYPE', 'producerId'],
    ]);
    await s.close();
  });

  it('replays exactly the events after the restored position', async () => {
    const dir = await tempDir();
    let s = await openSource(dir);
    for (let i = 0; i < 10; i++) await s.append([ev(String(i), i)]);
    await s.close();
    s = await openSource(dir, 6);
    const recs = await s.poll(100, 0);
    expect(recs.map((r) => r.position)).toEqual([7, 8, 9, 10]);
    expect(recs.map((r) => (r.value as { amount: number }).amount)).toEqual([6, 7, 8, 9]);
    const r = await s.append([ev('x', 1)]);
    expect(r.position).toBe(11);
    await s.close();
  });

  it('cuts a torn tail off the last segment and keeps everything before it', async () => {
    const dir = await tempDir();
    let s = await openSource(dir);
    await s.append([ev('1', 1)]);
    await s.append([ev('2', 2)]);
    await s.close();
    const seg = join(dir, (await readdir(dir)).filter((n) => n.endsWith('.wal')).sort().at(-1)!);
    const size = (await stat(seg)).size;
    await appendFile(seg, Buffer.from([200, 0, 0, 0, 1, 2, 3]));
    s = await openSource(dir);
    expect(await drain(s)).toHaveLength(2);
    expect((await stat(seg)).size).toBe(size);
    await s.close();
    await truncate(seg, size - 3);
    s = await openSource(dir);
    expect(await drain(s)).toHaveLength(1);
    expect((await s.append([ev('3', 3)])).position).toBe(2);
    await s.close();
  });

  it('wakes a waiting poll on append and resolves waitVisible on the next poll', async () => {
    const s = await openSource(await tempDir());
    // The poll would wait an hour: resolving at all (well within the test's timeout) shows the append woke it,
    // with no bound on how long the append itself takes on a loaded machine.
    const polled = s.poll(100, 3_600_000);
    const r = await s.append([ev('1', 1)]);
    let giveUp: NodeJS.Timeout | undefined;
    const recs = await Promise.race([polled, new Promise<'not woken'>((res) => (giveUp = setTimeout(() => res('not woken'), 30_000)))]);
    clearTimeout(giveUp);
    expect(recs).not.toBe('not woken');
    expect(recs).toHaveLength(1);
    let visible = false;
    const v = s.waitVisible(r.position).then(() => {
      visible = true;
    });
    await new Promise((res) => setTimeout(res, 10));
    expect(visible).toBe(false);
    await s.poll(100, 0);
    await v;
    expect(visible).toBe(true);
    await s.close();
  });

  it('deletes only checkpointed segments past retention, and keeps producer highs through deletion', async () => {
    const dir = await tempDir();
    let s = await openSource(dir, undefined, { segmentBytes: 4096, retention: 0 });
    for (let i = 1; i <= 200; i++) await s.append([{ ...ev('1', i), producerId: 'p', seq: i }]);
    await drain(s);
    const before = (await readdir(dir)).filter((n) => n.endsWith('.wal')).length;
    expect(before).toBeGreaterThan(3);
    await s.checkpointed({ [PUSH_SPLIT]: 100 });
    const mid = (await readdir(dir)).filter((n) => n.endsWith('.wal')).length;
    expect(mid).toBeLessThan(before);
    await s.checkpointed({ [PUSH_SPLIT]: 200 });
    expect((await readdir(dir)).filter((n) => n.endsWith('.wal')).length).toBe(1);
    await s.close();
    s = await openSource(dir, 200, { segmentBytes: 4096, retention: 0 });
    const r = await s.append([{ ...ev('1', 1), producerId: 'p', seq: 5 }, { ...ev('1', 1), producerId: 'p', seq: 201 }]);
    expect([r.accepted, r.duplicates, r.position]).toEqual([1, 1, 201]);
    await s.close();
  });

  it('commits concurrent appends in groups and answers all of them', async () => {
    const s = await openSource(await tempDir());
    const rs = await Promise.all(Array.from({ length: 200 }, (_, i) => s.append([ev(String(i), i)], { idempotencyKey: `k${i % 150}` })));
    const dup = rs.filter((r) => r.duplicate).length;
    expect(dup).toBe(50);
    expect((await drain(s)).length).toBe(150);
    await s.close();
  });
});

describe('PushSource log damage', () => {
  it('refuses a log whose damage is before the last segment (WAL_CORRUPT), never half-replaying it', async () => {
    const dir = await tempDir();
    const s = await openSource(dir, undefined, { segmentBytes: 4096 });
    for (let i = 0; i < 100; i++) await s.append([ev(String(i), i)]);
    await s.close();
    const segs = (await readdir(dir)).filter((n) => n.endsWith('.wal')).sort();
    expect(segs.length).toBeGreaterThan(1);
    const first = join(dir, segs[0]!);
    const { readFile, writeFile } = await import('node:fs/promises');
    const buf = await readFile(first);
    buf[20] = buf[20]! ^ 0xff;
    await writeFile(first, buf);
    await expect(openSource(dir)).rejects.toMatchObject({ code: 'WAL_CORRUPT' });
  });
});

describe('PushSource idempotency retention', () => {
  it('forgets idempotency keys older than the retention once a checkpoint passed, keeps younger ones', async () => {
    const dir = await tempDir();
    const old = await openSource(dir, undefined, { retention: '50ms' });
    // The clock stands still but for the explicit 80 ms step: a slow fsync under load cannot age 'young'
    // past the retention before the checkpoint (timers stay real, so the log's group commit runs as usual).
    vi.useFakeTimers({ toFake: ['Date'], now: 1_700_000_000_000 });
    try {
      await old.append([ev('1', 1)], { idempotencyKey: 'old' });
      vi.setSystemTime(1_700_000_000_080);
      await old.append([ev('1', 2)], { idempotencyKey: 'young' });
      await old.checkpointed({ [PUSH_SPLIT]: 2 });
      expect((await old.append([ev('1', 2)], { idempotencyKey: 'young' })).duplicate).toBe(true);
      expect((await old.append([ev('1', 1)], { idempotencyKey: 'old' })).duplicate).toBe(false);
    } finally {
      vi.useRealTimers();
    }
    await old.close();
  });
});
