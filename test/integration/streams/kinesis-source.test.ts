import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeStreamCommand, PutRecordsCommand, SplitShardCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { startKinesalite, type KinesaliteService } from '../../services/kinesalite.js';
import { KinesisSource, kinesisOptions } from '../../../adapters/sources/kinesis/index.js';
import kinesisPlugin from '../../../adapters/sources/kinesis/index.js';
import { testLogger } from '../../../plugins/testkit/logger.js';
import { makeDecoder } from '../../../core/event/decode.js';
import type { SourceRecord } from '../../../core/contracts/source.js';
import { Driver, SharedCheckpoints, streamSpec, waitFor } from './driver.js';

let kinesis: KinesaliteService;
let client: KinesisClient;
let streamNo = 0;

beforeAll(async () => {
  kinesis = await startKinesalite();
  client = kinesis.client();
});

afterAll(async () => {
  await kinesis?.stop();
});

async function newStream(shards: number): Promise<string> {
  const name = `streams-${process.pid}-${++streamNo}`;
  await kinesis.createStream(name, shards);
  return name;
}

/** Puts `perKey` events for each key, in order (seq counts per key); returns the shard of each key. */
async function put(stream: string, keys: readonly string[], perKey: number, from = 0): Promise<Map<string, string>> {
  const shardOf = new Map<string, string>();
  const records = [];
  for (let q = from; q < from + perKey; q++) {
    for (const key of keys) records.push({ key, data: JSON.stringify({ key, ts: 1_700_000_000_000 + q, seq: q, amount: q }) });
  }
  for (let i = 0; i < records.length; i += 500) {
    const chunk = records.slice(i, i + 500);
    const res = await client.send(new PutRecordsCommand({ StreamName: stream, Records: chunk.map((r) => ({ PartitionKey: r.key, Data: Buffer.from(r.data) })) }));
    expect(res.FailedRecordCount ?? 0).toBe(0);
    res.Records!.forEach((r, j) => shardOf.set(chunk[j]!.key, r.ShardId!));
  }
  return shardOf;
}

function source(stream: string, endpoint = kinesis.endpoint, extra: Record<string, unknown> = {}): KinesisSource {
  const opts = kinesisOptions({
    stream,
    region: kinesis.region,
    endpoint,
    credentials: { accessKeyId: 'fenestra', secretAccessKey: 'fenestra' },
    idleWait: '20ms',
    shardRefreshInterval: '200ms',
    backoffBase: '20ms',
    backoffMax: '200ms',
    ...extra,
  });
  return new KinesisSource(opts, testLogger());
}

/** Per key: the seq numbers in the order the driver applied them (all splits). */
function perKey(records: readonly SourceRecord[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const r of records) {
    const v = r.value as { key: string; seq: number };
    const list = out.get(v.key) ?? [];
    list.push(v.seq);
    out.set(v.key, list);
  }
  return out;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const allApplied = (store: SharedCheckpoints) => [...store.applied.values()].flat();

/** Polls and checkpoints until `n` records are in the store (or the deadline). */
async function consume(d: Driver, store: SharedCheckpoints, n: number, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (allApplied(store).length < n && Date.now() < end) {
    await d.pollOnce(200, 50);
    await d.checkpoint();
  }
  expect(allApplied(store).length).toBe(n);
}

describe('kinesis source (kinesalite)', () => {
  it('plugin and options', () => {
    expect(kinesisPlugin.kind === 'source' && kinesisPlugin.capabilities.exactlyOnce).toBe(true);
    expect(() => kinesisOptions({ stream: 'bad name' })).toThrow(/stream/);
    expect(() => kinesisOptions({ stream: 's', endpoint: 'ftp://x' })).toThrow(/endpoint/);
    expect(() => kinesisOptions({ stream: 's', recordsPerCall: 20_000 })).toThrow(/recordsPerCall/);
  });

  it('a stream that does not exist fails open() with SOURCE_UNAVAILABLE naming it', async () => {
    const src = source('no-such-stream');
    const err = await src.open(new Driver('m', src, new SharedCheckpoints()).context([])).then(() => null, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'SOURCE_UNAVAILABLE' });
    expect(String((err as Error).message)).toContain('no-such-stream');
    await src.close();
  });

  it('keeps each key in order, restores after the checkpointed sequence numbers (no loss, no duplicate), dead-letters malformed data with shard/seq', async () => {
    const stream = await newStream(3);
    const keys = range(12).map((i) => `card-${i}`);
    await put(stream, keys, 50);
    await client.send(new PutRecordsCommand({ StreamName: stream, Records: [{ PartitionKey: 'card-0', Data: Buffer.from('{"key": "card-0", ') }] }));
    const store = new SharedCheckpoints();
    const a = new Driver('a', source(stream), store);
    await a.open([]);
    await consume(a, store, 300);
    await a.pollOnce(200, 100); // applied but never checkpointed: must come again after the restore
    await a.source.close();

    const b = new Driver('b', source(stream), store);
    await b.open(store.restored());
    await put(stream, keys, 50, 50);
    await consume(b, store, 12 * 100 + 1);
    await b.source.close();

    const recs = allApplied(store);
    const decode = makeDecoder(streamSpec('tx', 'kinesis'));
    const bad = recs.filter((r) => !decode(r.value).ok);
    expect(bad).toHaveLength(1);
    const rej = decode(bad[0]!.value);
    expect(!rej.ok && rej.code).toBe('EVENT_MALFORMED');
    expect(bad[0]!.origin).toMatch(/^shard shardId-\d{12} seq \d+$/);
    expect(!rej.ok && rej.reason).toContain(bad[0]!.origin!);
    const good = recs.filter((r) => decode(r.value).ok);
    for (const [key, seqs] of perKey(good)) expect(seqs, key).toEqual(range(100));
    // Sequence numbers increase within each shard, and each restored shard resumed right after its position.
    for (const [shard, list] of store.applied) {
      const s = list.map((r) => BigInt(r.position));
      expect(s.every((x, i) => i === 0 || x > s[i - 1]!), shard).toBe(true);
    }
  });

  it('a shard split midway: the parent is drained before its children start; every key stays in order across the split and a restore', async () => {
    const stream = await newStream(2);
    const keys = range(40).map((i) => `card-${i}`);
    const before = await put(stream, keys, 30);
    const store = new SharedCheckpoints();
    const a = new Driver('a', source(stream, kinesis.endpoint, { maxBuffered: 50, recordsPerCall: 25 }), store);
    await a.open([]);
    await consume(a, store, 400);
    // Split shard 0 in the middle of its hash range while the source is reading it.
    const desc = await client.send(new DescribeStreamCommand({ StreamName: stream }));
    const shard0 = desc.StreamDescription!.Shards![0]!;
    const lo = BigInt(shard0.HashKeyRange!.StartingHashKey!);
    const hi = BigInt(shard0.HashKeyRange!.EndingHashKey!);
    await client.send(new SplitShardCommand({ StreamName: stream, ShardToSplit: shard0.ShardId!, NewStartingHashKey: String((lo + hi) / 2n) }));
    const after = await put(stream, keys, 30, 30);
    const moved = keys.filter((k) => before.get(k) === shard0.ShardId);
    expect(moved.length).toBeGreaterThan(0);
    expect(moved.every((k) => after.get(k) !== shard0.ShardId)).toBe(true);
    await consume(a, store, 1000);
    await a.source.close();

    // Restore midway through the children, write more, finish.
    const b = new Driver('b', source(stream, kinesis.endpoint, { maxBuffered: 50, recordsPerCall: 25 }), store);
    await b.open(store.restored());
    await put(stream, keys, 20, 60);
    await consume(b, store, 40 * 80);
    await waitFor(() => (b.source as KinesisSource).shardStatus()[shard0.ShardId!] === 'drained', 30_000, 'parent drained');
    await b.source.close();

    const recs = allApplied(store);
    for (const [key, seqs] of perKey(recs)) expect(seqs, key).toEqual(range(80));
    // In the applied order, no child record comes before the parent's last record.
    const shardIds = recs.map((r) => r.split);
    const lastParent = shardIds.lastIndexOf(shard0.ShardId!);
    const split = await client.send(new DescribeStreamCommand({ StreamName: stream }));
    const children = split.StreamDescription!.Shards!.filter((x) => x.ParentShardId === shard0.ShardId).map((x) => x.ShardId!);
    expect(children).toHaveLength(2);
    const firstChild = Math.min(...children.map((c) => shardIds.indexOf(c)).filter((i) => i >= 0));
    expect(firstChild).toBeGreaterThan(lastParent);
  });

  it('throttling: GetRecords answered with ProvisionedThroughputExceeded is retried with backoff and nothing is lost', async () => {
    const stream = await newStream(2);
    const keys = range(10).map((i) => `card-${i}`);
    await put(stream, keys, 60);
    // A proxy in front of kinesalite that throttles 40% of GetRecords calls, as Kinesis does over 5 reads/s/shard.
    let throttled = 0;
    let n = 0;
    const upstream = new URL(kinesis.endpoint);
    const proxy: Server = createServer((req, res) => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (target.endsWith('.GetRecords') && ++n % 5 < 2) {
          throttled++;
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify({ __type: 'ProvisionedThroughputExceededException', message: 'Rate exceeded for shard' }));
          return;
        }
        const up = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (ur) => {
          res.writeHead(ur.statusCode ?? 500, ur.headers);
          ur.pipe(res);
        });
        up.on('error', () => res.destroy());
        up.end(Buffer.concat(chunks));
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    const endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      const store = new SharedCheckpoints();
      const src = source(stream, endpoint, { recordsPerCall: 20 });
      const d = new Driver('t', src, store);
      await d.open([]);
      await consume(d, store, 600);
      await d.source.close();
      expect(throttled).toBeGreaterThan(5);
      expect(src.throttles).toBe(throttled);
      for (const [key, seqs] of perKey(allApplied(store))) expect(seqs, key).toEqual(range(60));
    } finally {
      proxy.closeAllConnections();
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });
});
