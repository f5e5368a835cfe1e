import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../../core/errors.js';
import { check, exampleConfig, show } from './helpers.js';

type Config = Record<string, any>;
interface Case {
  readonly name: string;
  readonly mutate: (c: Config) => void;
  readonly path: string;
  readonly code?: ErrorCode;
  readonly fragment: string;
}

const agg = (c: Config): Config => c.featureGroups.cc_agg;
const feat = (c: Config, name: string): Config => c.featureGroups.cc_agg.features[name];
const tx = (c: Config): Config => c.sources.transactions;

const CASES: Case[] = [
  {
    name: 'unknown field in a feature',
    mutate: (c) => { feat(c, 'avg_amt_last_10m').field = 'amt'; },
    path: 'featureGroups.cc_agg.features.avg_amt_last_10m.field',
    fragment: 'unknown field "amt" in source "transactions" (fields: cc_num, amount, trans_time, merchant)',
  },
  {
    name: 'unknown entity in a source',
    mutate: (c) => { tx(c).entity = 'crad'; },
    path: 'sources.transactions.entity',
    fragment: 'unknown entity "crad" (entities: card)',
  },
  {
    name: 'unknown source in a group',
    mutate: (c) => { agg(c).source = 'transaction'; },
    path: 'featureGroups.cc_agg.source',
    fragment: 'unknown source "transaction" (sources: transactions)',
  },
  {
    name: 'numeric aggregation without a field',
    mutate: (c) => { delete feat(c, 'avg_amt_last_10m').field; },
    path: 'featureGroups.cc_agg.features.avg_amt_last_10m',
    fragment: 'agg "avg" needs a field',
  },
  {
    name: 'numeric aggregation over a string field',
    mutate: (c) => { feat(c, 'max_amt_last_30d').field = 'merchant'; },
    path: 'featureGroups.cc_agg.features.max_amt_last_30d.field',
    fragment: 'agg "max" needs a numeric field, but "merchant" is string (numeric fields: amount)',
  },
  {
    name: 'event-time field missing from the schema',
    mutate: (c) => { tx(c).eventTime.field = 'ts'; },
    path: 'sources.transactions.eventTime.field',
    fragment: 'unknown field "ts" in source "transactions"',
  },
  {
    name: 'event-time field of the wrong type',
    mutate: (c) => { tx(c).schema.trans_time = 'string'; },
    path: 'sources.transactions.eventTime.field',
    fragment: 'must be of type timestamp or long (epoch ms), not string',
  },
  {
    name: 'entity key field missing from the source schema',
    mutate: (c) => { delete tx(c).schema.cc_num; },
    path: 'sources.transactions.schema',
    fragment: 'entity key field "cc_num" of entity "card" is missing from the schema of source "transactions"',
  },
  {
    name: 'bad duration in a window',
    mutate: (c) => { feat(c, 'num_trans_last_10m').window = '10 minutes'; },
    path: 'featureGroups.cc_agg.features.num_trans_last_10m.window',
    fragment: 'invalid value "10 minutes": expected a window',
  },
  {
    name: 'instance id that is not a safe file name',
    mutate: (c) => { c.state.instanceId = '../b'; },
    path: 'state.instanceId',
    fragment: 'invalid value "../b": expected an id of letters, digits, _, . and -',
  },
  {
    name: 'state.s3 without an s3:// state.shared',
    mutate: (c) => { c.state.shared = './shared'; c.state.s3 = { region: 'eu-west-1' }; },
    path: 'state.s3',
    fragment: 'state.s3 applies only when state.shared is an s3:// URL',
  },
  {
    name: 'state.s3 credentials without the secret',
    mutate: (c) => { c.state.shared = 's3://bucket/p/'; c.state.s3 = { credentials: { accessKeyId: 'x' } }; },
    path: 'state.s3.credentials.secretAccessKey',
    fragment: 'is required',
  },
  {
    name: 'bad duration in state',
    mutate: (c) => { c.state.checkpointInterval = '1sec'; },
    path: 'state.checkpointInterval',
    fragment: 'invalid value "1sec": expected a duration',
  },
  {
    name: 'precision not shorter than its sliding window',
    mutate: (c) => { feat(c, 'avg_amt_last_10m').precision = '10m'; },
    path: 'featureGroups.cc_agg.features.avg_amt_last_10m.precision',
    fragment: 'precision 10m must be shorter than the window 10m',
  },
  {
    name: 'precision that does not divide a tumbling window',
    mutate: (c) => { feat(c, 'max_amt_last_30d').window = { tumbling: '1d' }; feat(c, 'max_amt_last_30d').precision = '7h'; },
    path: 'featureGroups.cc_agg.features.max_amt_last_30d.precision',
    fragment: 'precision 7h does not divide the tumbling window 1d',
  },
  {
    name: 'precision on a lifetime window',
    mutate: (c) => { feat(c, 'max_amt_last_30d').window = 'lifetime'; },
    path: 'featureGroups.cc_agg.features.max_amt_last_30d.precision',
    fragment: 'precision does not apply to a lifetime window',
  },
  {
    name: 'derived expression that does not parse',
    mutate: (c) => { agg(c).derived.amt_ratio1.expr = 'avg_amt_last_10m / (avg_amt_last_1w'; },
    path: 'featureGroups.cc_agg.derived.amt_ratio1.expr',
    fragment: 'expression does not parse',
  },
  {
    name: 'derived expression reading an unknown feature',
    mutate: (c) => { agg(c).derived.amt_ratio1.expr = 'avg_amt_last_10m / avg_amt_last_2w'; },
    path: 'featureGroups.cc_agg.derived.amt_ratio1.expr',
    fragment: 'unknown identifier "avg_amt_last_2w"',
  },
  {
    name: 'derived expression reading a non-request object',
    mutate: (c) => { agg(c).derived.amt_ratio2.expr = 'req.amount / avg_amt_last_1w'; },
    path: 'featureGroups.cc_agg.derived.amt_ratio2.expr',
    fragment: 'unknown identifier "req"',
  },
  {
    name: 'derived expression with a type error',
    mutate: (c) => { agg(c).derived.amt_ratio1.expr = 'avg_amt_last_10m + "x"'; },
    path: 'featureGroups.cc_agg.derived.amt_ratio1.expr',
    fragment: 'does not type-check: no such overload: double + string',
  },
  {
    name: 'derived feature named like an aggregated one',
    mutate: (c) => { agg(c).derived.avg_amt_last_10m = { expr: 'num_trans_last_10m / 2' }; },
    path: 'featureGroups.cc_agg.derived.avg_amt_last_10m',
    fragment: 'same name as a feature of group "cc_agg"',
  },
  {
    name: 'feature service referencing an unknown group',
    mutate: (c) => { c.featureServices.fraud_model = ['cc_agg:*', 'cc_aggs:*']; },
    path: 'featureServices.fraud_model[1]',
    fragment: 'unknown feature group "cc_aggs"',
  },
  {
    name: 'feature service referencing an unknown feature',
    mutate: (c) => { c.featureServices.fraud_model = ['cc_agg:amt_ratio3']; },
    path: 'featureServices.fraud_model[0]',
    fragment: 'unknown feature "amt_ratio3" in group "cc_agg" (features: num_trans_last_10m',
  },
  {
    name: 'malformed feature reference',
    mutate: (c) => { c.featureServices.fraud_model = ['cc_agg.amt_ratio1']; },
    path: 'featureServices.fraud_model[0]',
    fragment: 'is not a feature reference: write group:feature or group:*',
  },
  {
    name: 'stored group whose event-time field is not a time type',
    mutate: (c) => { c.featureGroups.cc_batch = { entity: 'card', stored: { eventTime: 'event_time', ttl: '48h', schema: { event_time: 'string', avg_amt_last_1w: 'double' } } }; },
    path: 'featureGroups.cc_batch.stored.eventTime',
    fragment: 'event-time field "event_time" must be of type timestamp or long',
  },
  {
    name: 'unknown aggregation',
    mutate: (c) => { feat(c, 'avg_amt_last_10m').agg = 'mean'; },
    path: 'featureGroups.cc_agg.features.avg_amt_last_10m.agg',
    fragment: 'must be one of count, sum, avg',
  },
  {
    name: 'misspelt key',
    mutate: (c) => { feat(c, 'avg_amt_last_10m').feild = 'amount'; },
    path: 'featureGroups.cc_agg.features.avg_amt_last_10m.feild',
    fragment: 'unknown key "feild" (allowed: agg, field, window, precision, description)',
  },
  {
    name: 'missing required key',
    mutate: (c) => { delete feat(c, 'num_trans_last_10m').window; },
    path: 'featureGroups.cc_agg.features.num_trans_last_10m.window',
    fragment: 'is required',
  },
  {
    name: 'unknown field type',
    mutate: (c) => { tx(c).schema.amount = 'float'; },
    path: 'sources.transactions.schema.amount',
    fragment: 'expected a field\'s type: string | int | long | double | boolean | timestamp',
  },
  {
    name: 'port out of range',
    mutate: (c) => { c.server.port = 70000; },
    path: 'server.port',
    fragment: 'must be <= 65535',
  },
  {
    name: 'group entity different from its source entity',
    mutate: (c) => { c.entities.merchant = { key: 'merchant' }; agg(c).entity = 'merchant'; },
    path: 'featureGroups.cc_agg.entity',
    fragment: 'differs from the entity "card" of its source "transactions"',
  },
  {
    name: 'invalid name',
    mutate: (c) => { c.featureGroups['cc-agg'] = c.featureGroups.cc_agg; delete c.featureGroups.cc_agg; },
    path: 'featureGroups.cc-agg',
    fragment: 'invalid name "cc-agg"',
  },
  {
    name: 'zero-length window',
    mutate: (c) => { feat(c, 'num_trans_last_10m').window = { tumbling: '0s' }; },
    path: 'featureGroups.cc_agg.features.num_trans_last_10m.window.tumbling',
    fragment: 'a window must be longer than 0',
  },
  {
    name: 'count with a field',
    mutate: (c) => { feat(c, 'num_trans_last_10m').field = 'amount'; },
    path: 'featureGroups.cc_agg.features.num_trans_last_10m.field',
    fragment: 'count counts events and takes no field',
  },
  {
    name: 'feature named request',
    mutate: (c) => { c.featureGroups.cc_agg.features.request = { agg: 'count', window: '1m' }; },
    path: 'featureGroups.cc_agg.features.request',
    fragment: 'the name "request" is reserved',
  },
];

describe('invalid configs are rejected with the path at fault', () => {
  it('has at least 15 distinct cases', () => {
    expect(new Set(CASES.map((c) => c.path)).size).toBeGreaterThanOrEqual(15);
  });

  for (const c of CASES) {
    it(c.name, async () => {
      const config = exampleConfig();
      c.mutate(config);
      const { spec, issues } = await check(config);
      expect(spec).toBeUndefined();
      const hit = issues.find((i) => i.path === c.path);
      expect(hit, `no issue at ${c.path}; got:\n${show(issues)}`).toBeDefined();
      expect(hit!.code).toBe(c.code ?? 'CONFIG_INVALID');
      expect(hit!.message).toContain(c.fragment);
    });
  }
});

describe('a file with several errors', () => {
  it('reports every error at once, each with its path', async () => {
    const config = exampleConfig();
    feat(config, 'avg_amt_last_10m').field = 'amt';
    tx(config).entity = 'crad';
    feat(config, 'num_trans_last_10m').window = '10x';
    agg(config).derived.amt_ratio1.expr = 'avg_amt_last_10m / nope';
    config.featureServices.fraud_model = ['cc_agg:missing'];
    config.server.bodyLimt = 5;
    const { spec, issues } = await check(config);
    expect(spec).toBeUndefined();
    expect(issues.map((i) => i.path).sort()).toEqual([
      'featureGroups.cc_agg.derived.amt_ratio1.expr',
      'featureGroups.cc_agg.features.avg_amt_last_10m.field',
      'featureGroups.cc_agg.features.num_trans_last_10m.window',
      'featureServices.fraud_model[0]',
      'server.bodyLimt',
      'sources.transactions.entity',
    ]);
    expect(issues.every((i) => typeof i.line === 'number' && i.line > 0), show(issues)).toBe(true);
  });

  it('reports YAML syntax errors with their line', async () => {
    const { issues } = await check('entities:\n  card: { key: cc_num\nsources: {}\n');
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0]!.code).toBe('CONFIG_YAML');
    expect(issues[0]!.message).toMatch(/line \d+, column \d+/);
  });

  it('reports duplicate keys as a YAML error', async () => {
    const { issues } = await check('entities:\n  card: { key: cc_num }\n  card: { key: x }\nfeatureGroups: {}\n');
    expect(issues.map((i) => i.code)).toContain('CONFIG_YAML');
  });
});
