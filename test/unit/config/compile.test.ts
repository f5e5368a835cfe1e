import { describe, expect, it } from 'vitest';
import { defaultPrecision } from '../../../config/windows.js';
import { check, CONFIG_FILE, exampleConfig, show } from './helpers.js';
import { dirname, resolve } from 'node:path';

const M = 60_000;
const H = 60 * M;
const D = 24 * H;

describe('compiling options and defaults', () => {
  it('compiles tumbling, explicit sliding and lifetime windows, includeCurrent and lateness', async () => {
    const c = exampleConfig();
    const f = c.featureGroups.cc_agg.features;
    f.daily_sum = { agg: 'sum', field: 'amount', window: { tumbling: '1d' } };
    f.hourly_max = { agg: 'max', field: 'amount', window: { tumbling: '1h' }, precision: '15m' };
    f.lifetime_count = { agg: 'count', window: 'lifetime' };
    f.distinct_merchants_1h30m = { agg: 'count_distinct', field: 'merchant', window: { sliding: '1h30m' } };
    f.last_merchant = { agg: 'last', field: 'merchant', window: '7d' };
    c.featureGroups.cc_agg.includeCurrent = false;
    c.featureGroups.cc_agg.derived.same_merchant = { expr: 'last_merchant == request.merchant' };
    c.sources.transactions.allowedLateness = '5s';
    c.sources.transactions.exactlyOnce = false;
    c.sources.transactions.path = '/ingest';
    const { spec, issues } = await check(c);
    expect(issues, show(issues)).toEqual([]);
    const g = spec!.groups.get('cc_agg');
    if (g?.kind !== 'aggregated') throw new Error('aggregated group expected');
    const byName = new Map(g.features.map((x) => [x.name, x]));
    expect(byName.get('daily_sum')).toMatchObject({ window: { kind: 'tumbling', size: D }, precision: 5 * M });
    expect(byName.get('hourly_max')).toMatchObject({ window: { kind: 'tumbling', size: H }, precision: 15 * M });
    expect(byName.get('lifetime_count')).toMatchObject({ window: { kind: 'lifetime' }, precision: 0 });
    expect(byName.get('distinct_merchants_1h30m')).toMatchObject({ window: { kind: 'sliding', size: 90 * M }, precision: 0, field: 'merchant' });
    expect(g.includeCurrent).toBe(false);
    expect(g.derived.find((d) => d.name === 'same_merchant')!.requestFields).toEqual(['merchant']);
    const s = spec!.sources.get('transactions')!;
    expect(s.allowedLateness).toBe(5000);
    expect(s.exactlyOnce).toBe(false);
    expect(s.options).toEqual({ path: '/ingest' });
  });

  it('compiles a stored group, resolves paths against the config directory, and takes store options', async () => {
    const c = exampleConfig();
    c.featureGroups.cc_batch = {
      entity: 'card',
      stored: { eventTime: 'event_time', ttl: '48h', schema: { event_time: 'timestamp', avg_amt_last_1w: 'double', num_trans_last_1w: 'int' } },
      derived: { per_trans: { expr: 'avg_amt_last_1w / num_trans_last_1w', onDivZero: 'zero', onNull: 'zero' } },
    };
    c.featureServices.batch = { features: ['cc_batch:avg_amt_last_1w', 'cc_batch:per_trans', 'cc_agg:amt_ratio1'], description: 'x' };
    c.online = { type: 'redis', url: 'redis://127.0.0.1:6379' };
    c.offline = { type: 'parquet', path: 's3://features/' };
    c.deadLetters = { path: 'dl/dead.ndjson' };
    c.server.bodyLimit = '2mb';
    c.state.flushInterval = 250;
    const { spec, issues } = await check(c);
    expect(issues, show(issues)).toEqual([]);
    expect(spec!.groups.get('cc_batch')).toEqual({
      kind: 'stored', name: 'cc_batch', entity: 'card', eventTimeField: 'event_time', ttl: 48 * H,
      fields: [
        { name: 'event_time', type: 'timestamp', optional: false },
        { name: 'avg_amt_last_1w', type: 'double', optional: false },
        { name: 'num_trans_last_1w', type: 'int', optional: false },
      ],
      derived: [{ name: 'per_trans', expr: 'avg_amt_last_1w / num_trans_last_1w', onNull: 'zero', onDivZero: 'zero', requestFields: [] }],
    });
    expect(spec!.services.get('batch')!.features).toEqual([
      { group: 'cc_batch', feature: 'avg_amt_last_1w' }, { group: 'cc_batch', feature: 'per_trans' }, { group: 'cc_agg', feature: 'amt_ratio1' },
    ]);
    expect(spec!.online).toEqual({ type: 'redis', options: { url: 'redis://127.0.0.1:6379' } });
    expect(spec!.offline).toEqual({ type: 'parquet', options: { path: 's3://features/' } });
    expect(spec!.deadLetters.path).toBe(resolve(dirname(CONFIG_FILE), 'dl/dead.ndjson'));
    expect(spec!.server.bodyLimit).toBe(2_000_000);
    expect(spec!.state.flushInterval).toBe(250);
  });

  it('keeps an s3:// state.shared as a URL with its state.s3 block, and resolves a directory against the config', async () => {
    const c = exampleConfig();
    c.state.shared = 's3://fenestra-state/prod/';
    c.state.instanceId = 'a';
    c.state.s3 = { endpoint: 'http://127.0.0.1:4569', region: 'eu-west-1', forcePathStyle: true, credentials: { accessKeyId: 'k', secretAccessKey: 's' } };
    const { spec, issues } = await check(c);
    expect(issues, show(issues)).toEqual([]);
    expect(spec!.state.shared).toBe('s3://fenestra-state/prod/');
    expect(spec!.state.s3).toEqual({ endpoint: 'http://127.0.0.1:4569', region: 'eu-west-1', forcePathStyle: true, credentials: { accessKeyId: 'k', secretAccessKey: 's' } });
    const d = exampleConfig();
    d.state.shared = 'shared';
    const dir = await check(d);
    expect(dir.issues, show(dir.issues)).toEqual([]);
    expect(dir.spec!.state.shared).toBe(resolve(dirname(CONFIG_FILE), 'shared'));
    expect(dir.spec!.state.s3).toBeUndefined();
  });

  it('picks the default precision by the documented rule', () => {
    expect(defaultPrecision({ kind: 'sliding', size: 10 * M })).toBe(0);
    expect(defaultPrecision({ kind: 'sliding', size: H })).toBe(0);
    expect(defaultPrecision({ kind: 'sliding', size: 90 * M })).toBe(0); // 54s < 1m: nothing fits, exact
    expect(defaultPrecision({ kind: 'sliding', size: 2 * H })).toBe(M);
    expect(defaultPrecision({ kind: 'sliding', size: 12 * H })).toBe(5 * M);
    expect(defaultPrecision({ kind: 'sliding', size: D })).toBe(5 * M);
    expect(defaultPrecision({ kind: 'sliding', size: 2 * D })).toBe(15 * M);
    expect(defaultPrecision({ kind: 'sliding', size: 7 * D })).toBe(H);
    expect(defaultPrecision({ kind: 'sliding', size: 30 * D })).toBe(H);
    expect(defaultPrecision({ kind: 'sliding', size: 100 * D })).toBe(D);
    expect(defaultPrecision({ kind: 'tumbling', size: 7 * H })).toBe(M);
    expect(defaultPrecision({ kind: 'lifetime' })).toBe(0);
  });
});

describe('DESIGN §5 config names', () => {
  it('accepts every source kind, the stored group and the store blocks of DESIGN §5 (adapter options kept)', async () => {
    const schema = 'schema: { cc_num: string, amount: double, trans_time: timestamp }';
    const yaml = `
entities: { card: { key: cc_num } }
sources:
  tx_kafka:   { type: kafka, brokers: ["127.0.0.1:9092"], topic: cc-transactions, groupId: fenestra,
                format: json, entity: card, eventTime: { field: trans_time }, ${schema} }
  tx_kinesis: { type: kinesis, stream: cc-transactions, region: us-east-1,
                endpoint: "http://127.0.0.1:4567", entity: card, eventTime: { field: trans_time }, ${schema} }
  tx_ws:      { type: websocket, entity: card, eventTime: { field: trans_time }, ${schema} }
  history:    { type: file, path: ./data/tx.parquet, entity: card, eventTime: { field: trans_time }, ${schema} }
featureGroups:
  cc_batch:
    entity: card
    stored:
      eventTime: event_time
      ttl: 48h
      schema: { event_time: timestamp, avg_amt_last_1w: double, num_trans_last_1w: int }
online:
  type: redis
  url: redis://127.0.0.1:6379
offline:
  type: parquet
  path: s3://features/fenestra/
  s3: { endpoint: "http://127.0.0.1:4569", region: us-east-1, forcePathStyle: true }
`;
    const { spec, issues } = await check(yaml);
    expect(issues, show(issues)).toEqual([]);
    expect(spec!.sources.get('tx_kafka')!.options).toEqual({ brokers: ['127.0.0.1:9092'], topic: 'cc-transactions', groupId: 'fenestra', format: 'json' });
    expect(spec!.sources.get('tx_kinesis')!.options).toEqual({ stream: 'cc-transactions', region: 'us-east-1', endpoint: 'http://127.0.0.1:4567' });
    expect(spec!.sources.get('history')!.options).toEqual({ path: './data/tx.parquet' });
    expect(spec!.offline.options).toEqual({ path: 's3://features/fenestra/', s3: { endpoint: 'http://127.0.0.1:4569', region: 'us-east-1', forcePathStyle: true } });
  });
});
