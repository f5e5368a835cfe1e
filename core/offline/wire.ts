/**
 * Wiring of offline history into the engine: a `HistoryHook` over an offline store, and a group
 * factory that remembers the groups the engine builds so the hook can read features synchronously
 * right after each apply (for `feature/<group>` rows). Pass both to `new Engine(spec, { offline,
 * createGroup, ... })`.
 */
import type { OfflineStore } from '../contracts/offline-store.js';
import type { EngineSpec } from '../model.js';
import { createAggregatedGroup } from '../runtime/default-groups.js';
import { defaultDerived } from '../runtime/reader.js';
import type { AggregatingGroup, GroupFactory } from '../runtime/state-group.js';
import { HistoryHook } from './history-hook.js';

export interface OfflineWiring {
  readonly offline: HistoryHook;
  readonly createGroup: GroupFactory;
}

export function wireOfflineHistory(
  spec: EngineSpec,
  store: OfflineStore,
  opts: { features?: boolean; base?: GroupFactory; clock?: () => number } = {},
): OfflineWiring {
  const groups = new Map<string, AggregatingGroup>();
  const base = opts.base ?? createAggregatedGroup;
  const createGroup: GroupFactory = (g, source) => {
    const made = base(g, source);
    groups.set(g.name, made);
    return made;
  };
  const derivedFactory = defaultDerived(spec);
  const derived = new Map([...spec.groups.values()].map((g) => [g.name, derivedFactory(g)] as const));
  const readFeatures = (group: string, key: string, asOf: number, event: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> => {
    const values = groups.get(group)!.read(key, asOf).values;
    const d = derived.get(group);
    return d ? { ...values, ...d(values, event) } : values;
  };
  const offline = new HistoryHook({ store, spec, ...(opts.features === false ? {} : { readFeatures }), ...(opts.clock ? { clock: opts.clock } : {}) });
  return { offline, createGroup };
}
