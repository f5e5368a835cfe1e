/**
 * The replay join on several threads (worker_threads), split by entity (see partition.ts): the same
 * `replayJoin` per part, results scattered back to label order. Equivalent to `replayJoin` on the
 * whole input (entities are independent); used by training sets when the input is large.
 */
import { Worker } from 'node:worker_threads';
import { FenestraError, type ErrorCode } from '../errors.js';
import type { EngineSpec, FeatureRef } from '../model.js';
import { partitionJoin } from './partition.js';
import type { TrainingPlan } from './plan.js';
import { replayJoin, type EventColumns, type FeatureColumn, type JoinProgress, type JoinResult, type LabelColumns } from './replay-join.js';

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
  const parts = partitionJoin(events, labels, threads);
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  let done = 0;
  const results = await Promise.all(
    parts.map(
      (part) =>
        new Promise<{ columns: Record<string, FeatureColumn>; eventsApplied: number; eventsRejected: number }>((resolve, reject) => {
          const transfer = [part.evKey, part.evTime, part.lbKey, part.lbTime, ...Object.values(part.evFields), ...Object.values(part.lbRequest)]
            .filter((a): a is Float64Array | Int32Array => ArrayBuffer.isView(a))
            .map((a) => a.buffer as ArrayBuffer);
          const entry = new URL(`./join-worker${ext}`, import.meta.url);
          const options = { workerData: { spec, refs, part: { ...part, lbRows: new Uint32Array(0) } }, transferList: transfer };
          // Running from TypeScript sources (tsx, tests): register tsx in the worker before loading the entry.
          const w =
            ext === '.ts'
              ? new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`, { ...options, eval: true })
              : new Worker(entry, options);
          w.on('message', (m: { kind: string; done?: number; columns?: Record<string, FeatureColumn>; eventsApplied?: number; eventsRejected?: number; message?: string; code?: string; path?: string }) => {
            if (m.kind === 'progress') {
              done += m.done!;
              onProgress?.(done, 0);
            } else if (m.kind === 'done') {
              resolve({ columns: m.columns!, eventsApplied: m.eventsApplied!, eventsRejected: m.eventsRejected! });
              void w.terminate();
            } else {
              reject(new FenestraError((m.code as ErrorCode | undefined) ?? 'INTERNAL', `training-set worker: ${m.message}`, m.path ? { path: m.path } : {}));
              void w.terminate();
            }
          });
          w.once('error', reject);
        }),
    ),
  );
  const columns = new Map<string, FeatureColumn>();
  for (const g of plan.groups) {
    g.columns.forEach((name, c) => {
      const out: FeatureColumn = g.types[c] === 'double' ? new Float64Array(labels.rows).fill(NaN) : new Array<unknown>(labels.rows).fill(null);
      parts.forEach((part, p) => {
        const src = results[p]!.columns[name]!;
        const rows = part.lbRows;
        for (let i = 0; i < rows.length; i++) (out as unknown[] | Float64Array)[rows[i]!] = src[i] as never;
      });
      columns.set(name, out);
    });
  }
  onProgress?.(labels.rows, 0);
  return { columns, eventsApplied: results.reduce((a, r) => a + r.eventsApplied, 0), eventsRejected: results.reduce((a, r) => a + r.eventsRejected, 0) };
}
