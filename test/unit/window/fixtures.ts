/** Hand-built compiled-model fixtures for window tests (what config/ would produce). */
import type { AggFeatureSpec, AggregatedGroupSpec, FieldSpec, SourceSpec } from '../../../core/model.js';

export const MIN = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/** A source with the given extra fields (optional unless listed in `required`). */
export function source(fields: Array<[string, FieldSpec['type']]>, allowedLateness: number, required: readonly string[] = []): SourceSpec {
  return {
    name: 'tx',
    type: 'http',
    entity: 'card',
    keyField: 'cc_num',
    eventTimeField: 'trans_time',
    fields: [
      { name: 'cc_num', type: 'string', optional: false },
      { name: 'trans_time', type: 'timestamp', optional: false },
      ...fields.map(([name, type]) => ({ name, type, optional: !required.includes(name) })),
    ],
    allowedLateness,
    exactlyOnce: true,
    options: {},
  };
}

export function group(features: AggFeatureSpec[], includeCurrent = true): AggregatedGroupSpec {
  return { kind: 'aggregated', name: 'g', entity: 'card', source: 'tx', features, derived: [], includeCurrent };
}

/** The core issue's example feature set (cc_agg), with the config's default precision for 7d. */
export function ccAgg(): AggFeatureSpec[] {
  return [
    { name: 'num_trans_last_10m', agg: 'count', window: { kind: 'sliding', size: 10 * MIN }, precision: 0 },
    { name: 'avg_amt_last_10m', agg: 'avg', field: 'amount', window: { kind: 'sliding', size: 10 * MIN }, precision: 0 },
    { name: 'num_trans_last_1w', agg: 'count', window: { kind: 'sliding', size: 7 * DAY }, precision: HOUR },
    { name: 'avg_amt_last_1w', agg: 'avg', field: 'amount', window: { kind: 'sliding', size: 7 * DAY }, precision: HOUR },
    { name: 'max_amt_last_30d', agg: 'max', field: 'amount', window: { kind: 'sliding', size: 30 * DAY }, precision: DAY },
  ];
}
