import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Logger } from '../contracts/logger.js';
import type { Position } from '../contracts/position.js';
import type { Source, SourceRecord } from '../contracts/source.js';
import type { Decoder } from '../event/decode.js';
import type { SourceSpec } from '../model.js';
import type { AggregatingGroup } from './state-group.js';
import type { SourceStats } from './stats.js';

/** One source as the engine runs it. */
export interface SourceRuntime {
  readonly name: string;
  readonly spec: SourceSpec;
  readonly source: Source;
  readonly decode: Decoder;
  /** The aggregated groups fed by this source. */
  readonly groups: readonly AggregatingGroup[];
  /** Split → position of the next record to read, updated as batches are applied. */
  readonly positions: Record<string, Position>;
  /** Records which split each applied key came from (sources whose splits move between instances). */
  ledger?: { note(key: string, split: string): void } | undefined;
  loop: Promise<void> | null;
  finished: boolean;
  error: unknown;
}

export interface SourceLoopOptions {
  readonly batchSize: number;
  readonly pollWaitMs: number;
  /** Consecutive failed polls retried with backoff `baseMs`·2^(n−1) (at most 30 s) before giving up. */
  readonly retry: { readonly max: number; readonly baseMs: number };
  readonly stopping: () => boolean;
  /** Applies a batch synchronously (decode, apply, dead letters, positions). */
  readonly apply: (rt: SourceRuntime, records: readonly SourceRecord[]) => void;
  readonly stats: SourceStats;
  readonly logger: Logger;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The pull loop of one source: poll → apply (synchronously) → yield to the event loop, until the
 * engine stops or a bounded source is finished. A failed poll applied nothing, so it is retried with
 * backoff; after `retry.max` consecutive failures the loop ends with `rt.error` set. Records polled
 * while the engine is stopping are not applied (their positions do not advance; they are replayed).
 */
export async function runSourceLoop(rt: SourceRuntime, o: SourceLoopOptions): Promise<void> {
  let failures = 0;
  try {
    while (!o.stopping()) {
      let records: readonly SourceRecord[];
      try {
        records = await rt.source.poll(o.batchSize, o.pollWaitMs);
        failures = 0;
      } catch (e) {
        failures++;
        o.stats.pollErrors++;
        if (failures > o.retry.max) throw e;
        const wait = Math.min(30_000, o.retry.baseMs * 2 ** (failures - 1));
        o.logger.warn({ err: e, source: rt.name, retryInMs: wait }, 'source poll failed; retrying');
        for (let waited = 0; waited < wait && !o.stopping(); waited += 50) await sleep(Math.min(50, wait - waited));
        continue;
      }
      if (o.stopping()) break;
      if (records.length > 0) o.apply(rt, records);
      else if (rt.source.finished()) {
        rt.finished = true;
        o.stats.finished = true;
        break;
      }
      await yieldToLoop(); // let timers (checkpoints, flushes) and reads in
    }
  } catch (e) {
    rt.error = e;
    o.stats.error = (e as Error).message ?? String(e);
    o.logger.error({ err: e, source: rt.name }, 'source loop failed; the engine is no longer ready');
  }
}
