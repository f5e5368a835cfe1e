import { stringify } from 'yaml';
import { checkConfigText } from '../../../config/load.js';
import type { ConfigCheck } from '../../../config/load.js';
import type { ConfigIssue } from '../../../config/issues.js';

/** issue 2's example config as a JS object (a fresh copy each call, for tests to mutate). */
export function exampleConfig(): Record<string, any> {
  return {
    server: { host: '127.0.0.1', port: 8080 },
    state: { dir: './.fenestra/state', checkpointInterval: '1s' },
    entities: { card: { key: 'cc_num' } },
    sources: {
      transactions: {
        type: 'http',
        entity: 'card',
        eventTime: { field: 'trans_time' },
        schema: { cc_num: 'string', amount: 'double', trans_time: 'timestamp', merchant: { type: 'string', optional: true } },
      },
    },
    featureGroups: {
      cc_agg: {
        source: 'transactions',
        features: {
          num_trans_last_10m: { agg: 'count', window: '10m' },
          avg_amt_last_10m: { agg: 'avg', field: 'amount', window: '10m' },
          num_trans_last_1w: { agg: 'count', window: '7d' },
          avg_amt_last_1w: { agg: 'avg', field: 'amount', window: '7d', precision: '1h' },
          max_amt_last_30d: { agg: 'max', field: 'amount', window: '30d', precision: '1d' },
        },
        derived: {
          amt_ratio1: { expr: 'avg_amt_last_10m / avg_amt_last_1w' },
          amt_ratio2: { expr: 'request.amount / avg_amt_last_1w' },
          count_ratio: { expr: 'num_trans_last_10m / num_trans_last_1w' },
        },
      },
    },
    featureServices: { fraud_model: ['cc_agg:*'] },
  };
}

export const CONFIG_FILE = '/tmp/fenestra-config-tests/fenestra.yaml';

/** Checks a config given as an object (stringified to YAML) or as YAML text. */
export function check(config: Record<string, unknown> | string, env: Record<string, string> = {}): Promise<ConfigCheck> {
  const text = typeof config === 'string' ? config : stringify(config);
  return checkConfigText(text, CONFIG_FILE, env);
}

/** A readable dump of issues for assertion messages. */
export function show(issues: readonly ConfigIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message} [${i.code}]`).join('\n');
}
