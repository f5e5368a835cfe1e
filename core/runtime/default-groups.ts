import { AggregatedGroupState } from '../window/index.js';
import type { GroupFactory } from './state-group.js';

/** The engine's default group implementation: core/window's aggregated per-entity state. */
export const createAggregatedGroup: GroupFactory = (spec, source) => new AggregatedGroupState(spec, source);
