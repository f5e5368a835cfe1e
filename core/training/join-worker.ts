/**
 * Worker-thread entry of the parallel replay join: receives the spec, the plan's feature refs and
 * one `JoinPart`, runs `replayJoin` on it, and posts back the feature columns (typed arrays
 * transferred) and progress messages.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { EngineSpec, FeatureRef } from '../model.js';
import { partColumns, type JoinPart } from './partition.js';
import { planTraining } from './plan.js';
import { replayJoin } from './replay-join.js';

interface Input {
  readonly spec: EngineSpec;
  readonly refs: readonly FeatureRef[];
  readonly part: JoinPart;
}

const { spec, refs, part } = workerData as Input;
try {
  const plan = planTraining(spec, refs);
  const { events, labels } = partColumns(part);
  let last = 0;
  const res = replayJoin(spec, plan, events, labels, (done) => {
    parentPort!.postMessage({ kind: 'progress', done: done - last });
    last = done;
  });
  const columns: Record<string, Float64Array | unknown[]> = Object.fromEntries(res.columns);
  const transfer = Object.values(columns).flatMap((c) => (c instanceof Float64Array ? [c.buffer as ArrayBuffer] : []));
  parentPort!.postMessage({ kind: 'done', columns, eventsApplied: res.eventsApplied, eventsRejected: res.eventsRejected }, transfer);
} catch (e) {
  parentPort!.postMessage({ kind: 'error', message: e instanceof Error ? e.message : String(e), code: (e as { code?: string }).code, path: (e as { path?: string }).path });
}
