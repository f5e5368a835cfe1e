/**
 * The replay join on several threads (worker_threads), split by entity: the input is put in entity
 * order once (`orderJoin`), cut into contiguous entity ranges of about equal work (events + labels),
 * the first range is replayed on this thread and the others on workers, each with the same
 * `replayOrdered`; the ranges' columns are joined and scattered back to label order. Equivalent to
 * `replayJoin` (entities are independent).
 */
import { startWorker } from '../worker-entry.js';
import { FenestraError, type ErrorCode } from '../errors.js';
import type { EngineSpec, FeatureRef } from '../model.js';
import { concatColumnChunks } from './columns.js';
import type { TrainingPlan } from './plan.js';
import {
  orderJoin, replayJoin, replayOrdered, scatterColumns, sliceOrdered,
  type EventColumns, type FeatureColumn, type JoinProgress, type JoinResult, type LabelColumns, type OrderedJoin, type RangeResult,
} from './replay-join.js';

/** Entity ranges [bounds[p], bounds[p + 1]) of about equal events + labels. */
function splitEntities(o: OrderedJoin, parts: number): number[] {
  const k = o.keys.length;
  const work = (e: number) => o.evStart[e]! + o.lbStart[e]!;
  const total = work(k);
  const bounds = [0];
  let e = 0;
  for (let p = 1; p < parts; p++) {
    while (e < k && work(e) < (total * p) / parts) e++;
    if (e > bounds[bounds.length - 1]!) bounds.push(e);
  }
  bounds.push(k);
  return bounds;
}

function runWorker(spec: EngineSpec, refs: readonly FeatureRef[], ordered: OrderedJoin, onDone: (n: number) => void): Promise<RangeResult> {
  const transfer = [ordered.evStart, ordered.lbStart, ordered.evTimes, ordered.lbTimes, ...Object.values(ordered.evFields), ...Object.values(ordered.lbRequest)]
    .filter((a): a is Float64Array | Uint32Array => ArrayBuffer.isView(a))
    .map((a) => a.buffer as ArrayBuffer);
  return new Promise((resolve, reject) => {
    const w = startWorker('join-worker', import.meta.url, { workerData: { spec, refs, ordered }, transferList: transfer });
    w.on('message', (m: { kind: string; done?: number; columns?: FeatureColumn[][]; eventsApplied?: number; eventsRejected?: number; message?: string; code?: string; path?: string }) => {
      if (m.kind === 'progress') onDone(m.done!);
      else if (m.kind === 'done') {
        resolve({ columns: m.columns!, eventsApplied: m.eventsApplied!, eventsRejected: m.eventsRejected! });
        void w.terminate();
      } else {
        reject(new FenestraError((m.code as ErrorCode | undefined) ?? 'INTERNAL', `training-set worker: ${m.message}`, m.path ? { path: m.path } : {}));
        void w.terminate();
      }
    });
    w.once('error', reject);
  });
}

export async function parallelReplayJoin(
  spec: EngineSpec,
  plan: TrainingPlan,
  refs: readonly FeatureRef[],
  events: EventColumns,
  labels: LabelColumns,
  threads: number,
  onProgress?: JoinProgress,
): Promise<JoinResult> {
  if (threads <= 1) return replayJoin(spec, plan, events, labels, onProgress);
  const { ordered, labelRows } = orderJoin(plan, events, labels);
  const bounds = splitEntities(ordered, threads);
  let done = 0;
  const progress = (n: number) => {
    done += n;
    onProgress?.(done, 0);
  };
  const remote = bounds.slice(1, -1).map((from, i) => runWorker(spec, refs, sliceOrdered(ordered, from, bounds[i + 2]!), progress));
  let last = 0;
  const local = replayOrdered(spec, plan, sliceOrdered(ordered, 0, bounds[1]!), (n) => {
    progress(n - last);
    last = n;
  });
  const results = [local, ...(await Promise.all(remote))];
  const columns = plan.groups.map((g, gi) => g.columns.map((_, c) => concatColumnChunks(results.map((r) => r.columns[gi]![c]!)) as FeatureColumn));
  onProgress?.(labels.rows, 0);
  return {
    columns: scatterColumns(plan, columns, labelRows),
    eventsApplied: results.reduce((a, r) => a + r.eventsApplied, 0),
    eventsRejected: results.reduce((a, r) => a + r.eventsRejected, 0),
  };
}
