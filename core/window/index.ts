// Public surface of core/window: per-entity windowed aggregation state.
export { AggregatedGroupState, readEncoded } from './group-state.js';
export type { ApplyOutcome, AggRead, AggValue } from './group-state.js';
