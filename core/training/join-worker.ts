/**
 * Worker-thread entry of the parallel replay join: receives the spec, the plan's feature refs and
 * one range of entities in entity order (`OrderedJoin`), replays it with `replayOrdered`, and posts
 * back the feature columns (typed arrays transferred) and progress messages.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { EngineSpec, FeatureRef } from '../model.js';
import { planTraining } from './plan.js';
import { replayOrdered, type OrderedJoin } from './replay-join.js';

interface Input {
  readonly spec: EngineSpec;
  readonly refs: readonly FeatureRef[];
  readonly ordered: OrderedJoin;
}

const { spec, refs, ordered } = workerData as Input;
try {
  const plan = planTraining(spec, refs);
  let last = 0;
  const res = replayOrdered(spec, plan, ordered, (done) => {
    parentPort!.postMessage({ kind: 'progress', done: done - last });
    last = done;
  });
  const transfer = res.columns.flat().flatMap((c) => (c instanceof Float64Array ? [c.buffer as ArrayBuffer] : []));
  parentPort!.postMessage({ kind: 'done', columns: res.columns, eventsApplied: res.eventsApplied, eventsRejected: res.eventsRejected }, transfer);
} catch (e) {
  parentPort!.postMessage({ kind: 'error', message: e instanceof Error ? e.message : String(e), code: (e as { code?: string }).code, path: (e as { path?: string }).path });
}
