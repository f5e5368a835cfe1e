import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { defaultInstanceId } from '../../../config/compile.js';
import { checkConfig, loadConfig } from '../../../config/load.js';
import { check, exampleConfig, show } from './helpers.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const examplePath = resolve(root, 'config/examples/fraud.yaml');

describe('issue 2 example config', () => {
  it('is the example from the issue, unchanged', () => {
    expect(parse(readFileSync(examplePath, 'utf8'))).toEqual(exampleConfig());
  });

  it('validates with no issue', async () => {
    const { spec, issues } = await checkConfig(examplePath, {});
    expect(issues, show(issues)).toEqual([]);
    expect(spec).toBeDefined();
  });

  it('compiles to the expected EngineSpec', async () => {
    const spec = await loadConfig(examplePath, {});
    const dir = dirname(examplePath);
    expect(spec.baseDir).toBe(dir);
    expect(spec.server).toEqual({ host: '127.0.0.1', port: 8080, bodyLimit: 1_048_576 });
    expect(spec.state).toEqual({ dir: resolve(dir, '.fenestra/state'), checkpointInterval: 1000, flushInterval: 100, instanceId: defaultInstanceId(resolve(dir, '.fenestra/state')) });
    expect(spec.state.instanceId).toMatch(/^[A-Za-z0-9_.-]+-[0-9a-f]{8}$/);
    expect(spec.deadLetters.path).toBe(resolve(dir, '.fenestra/state/dead-letters.ndjson'));
    expect(spec.online).toEqual({ type: 'embedded', options: {} });
    expect(spec.offline).toEqual({ type: 'parquet', options: { path: './.fenestra/offline' } });
    expect([...spec.entities.values()]).toEqual([{ name: 'card', key: 'cc_num' }]);

    expect(spec.sources.get('transactions')).toEqual({
      name: 'transactions', type: 'http', entity: 'card', keyField: 'cc_num', eventTimeField: 'trans_time',
      fields: [
        { name: 'cc_num', type: 'string', optional: false },
        { name: 'amount', type: 'double', optional: false },
        { name: 'trans_time', type: 'timestamp', optional: false },
        { name: 'merchant', type: 'string', optional: true },
      ],
      allowedLateness: 0, exactlyOnce: true, options: {},
    });

    const group = spec.groups.get('cc_agg');
    if (group?.kind !== 'aggregated') throw new Error('cc_agg must be an aggregated group');
    expect(group.entity).toBe('card');
    expect(group.source).toBe('transactions');
    expect(group.includeCurrent).toBe(true);
    const H = 3_600_000;
    expect(group.features).toEqual([
      { name: 'num_trans_last_10m', agg: 'count', window: { kind: 'sliding', size: 600_000 }, precision: 0 },
      { name: 'avg_amt_last_10m', agg: 'avg', field: 'amount', window: { kind: 'sliding', size: 600_000 }, precision: 0 },
      // 7d / 100 = 1h40m: the default precision is the largest step <= that, 1h.
      { name: 'num_trans_last_1w', agg: 'count', window: { kind: 'sliding', size: 168 * H }, precision: H },
      { name: 'avg_amt_last_1w', agg: 'avg', field: 'amount', window: { kind: 'sliding', size: 168 * H }, precision: H },
      { name: 'max_amt_last_30d', agg: 'max', field: 'amount', window: { kind: 'sliding', size: 720 * H }, precision: 24 * H },
    ]);
    expect(group.derived).toEqual([
      { name: 'amt_ratio1', expr: 'avg_amt_last_10m / avg_amt_last_1w', onNull: 'null', onDivZero: 'null', requestFields: [] },
      { name: 'amt_ratio2', expr: 'request.amount / avg_amt_last_1w', onNull: 'null', onDivZero: 'null', requestFields: ['amount'] },
      { name: 'count_ratio', expr: 'num_trans_last_10m / num_trans_last_1w', onNull: 'null', onDivZero: 'null', requestFields: [] },
    ]);
    expect(spec.services.get('fraud_model')?.features.map((f) => `${f.group}:${f.feature}`)).toEqual([
      'cc_agg:num_trans_last_10m', 'cc_agg:avg_amt_last_10m', 'cc_agg:num_trans_last_1w', 'cc_agg:avg_amt_last_1w',
      'cc_agg:max_amt_last_30d', 'cc_agg:amt_ratio1', 'cc_agg:amt_ratio2', 'cc_agg:count_ratio',
    ]);
  });

  it('accepts DESIGN §5 stored group unchanged: the event-time feature is an implicit timestamp', async () => {
    const c = exampleConfig();
    c.featureGroups.cc_batch = {
      entity: 'card',
      stored: { eventTime: 'event_time', ttl: '48h', schema: { avg_amt_last_1w: 'double', num_trans_last_1w: 'int' } },
    };
    const { spec, issues } = await check(c);
    expect(issues).toEqual([]);
    const g = spec?.groups.get('cc_batch');
    if (g?.kind !== 'stored') throw new Error('cc_batch must be a stored group');
    expect(g.ttl).toBe(48 * 3_600_000);
    expect(g.fields.map((f) => `${f.name}:${f.type}`)).toEqual(['event_time:timestamp', 'avg_amt_last_1w:double', 'num_trans_last_1w:int']);
  });

  it('loadConfig throws CONFIG_NOT_FOUND for a missing file', async () => {
    await expect(loadConfig(resolve(root, 'config/examples/nope.yaml'), {})).rejects.toMatchObject({ code: 'CONFIG_NOT_FOUND' });
  });
});
