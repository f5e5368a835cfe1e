import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Position, SplitState } from '../../../core/contracts/position.js';
import type { Source, SourceContext, SourceRecord } from '../../../core/contracts/source.js';
import type { SourceSpec } from '../../../core/model.js';
import { testLogger } from '../../../plugins/testkit/logger.js';

/**
 * A shared checkpoint store as the runtime keeps one for a group of instances: per split, the
 * position and the records applied up to it (so a test can check that the committed history of a
 * split is exactly its produced sequence).
 */
export class SharedCheckpoints {
  readonly positions = new Map<string, Position>();
  readonly applied = new Map<string, SourceRecord[]>();

  commit(split: string, position: Position, records: readonly SourceRecord[]): void {
    this.positions.set(split, position);
    const list = this.applied.get(split) ?? [];
    list.push(...records);
    this.applied.set(split, list);
  }

  restored(splits?: readonly string[]): SplitState[] {
    return [...this.positions].filter(([id]) => !splits || splits.includes(id)).map(([id, position]) => ({ id, position }));
  }
}

export function streamSpec(name: string, type: string): SourceSpec {
  return {
    name,
    type,
    entity: 'card',
    keyField: 'key',
    eventTimeField: 'ts',
    allowedLateness: 0,
    exactlyOnce: true,
    options: {},
    fields: [
      { name: 'key', type: 'string', optional: false },
      { name: 'ts', type: 'timestamp', optional: false },
      { name: 'seq', type: 'long', optional: false },
      { name: 'amount', type: 'double', optional: false },
    ],
  };
}

/**
 * Plays the runtime for one source instance, as the contract describes it: polls from one loop,
 * "applies" records (keeps them, in order, per split) and their positions, checkpoints revoked splits
 * into the shared store before `onRevoked` resolves, and restores assigned splits from it.
 */
export class Driver {
  /** Records applied since the split's last checkpoint, per split. */
  private pending = new Map<string, SourceRecord[]>();
  private current = new Map<string, Position>();
  readonly events: string[] = [];
  private stopped = false;
  /** Set by `crash()`: what was applied since the last checkpoint is lost, as with SIGKILL. */
  private dead = false;
  private loop: Promise<void> | undefined;

  constructor(
    readonly name: string,
    readonly source: Source,
    readonly store: SharedCheckpoints,
  ) {}

  context(restored: readonly SplitState[] = this.store.restored()): SourceContext {
    return {
      spec: streamSpec('tx', 'kafka'),
      restored,
      logger: testLogger({ instance: this.name }),
      dataDir: mkdtempSync(join(tmpdir(), 'fenestra-streams-')),
      onRevoked: async (splits) => {
        this.events.push(`revoked ${splits.join(',')}`);
        if (this.dead) return; // a killed process checkpoints nothing
        for (const s of splits) this.checkpointSplit(s);
      },
      onAssigned: async (splits) => {
        this.events.push(`assigned ${splits.join(',')}`);
        return this.store.restored(splits);
      },
    };
  }

  async open(restored?: readonly SplitState[]): Promise<void> {
    await this.source.open(this.context(restored));
  }

  /** Applies one polled batch synchronously (as the engine does) and returns its size. */
  async pollOnce(max = 500, waitMs = 100): Promise<SourceRecord[]> {
    const batch = await this.source.poll(max, waitMs);
    for (const r of batch) {
      const list = this.pending.get(r.split) ?? [];
      list.push(r);
      this.pending.set(r.split, list);
      this.current.set(r.split, r.position);
    }
    return [...batch];
  }

  private checkpointSplit(split: string): void {
    const pos = this.current.get(split);
    const recs = this.pending.get(split) ?? [];
    if (pos !== undefined) this.store.commit(split, pos, recs);
    this.pending.delete(split);
    this.current.delete(split);
  }

  /** A checkpoint of every split this instance has applied records of; then `checkpointed`. */
  async checkpoint(): Promise<Record<string, Position>> {
    const positions: Record<string, Position> = {};
    for (const [s, p] of this.current) positions[s] = p;
    for (const s of [...this.current.keys()]) {
      this.store.commit(s, this.current.get(s)!, this.pending.get(s) ?? []);
      this.pending.set(s, []);
    }
    await this.source.checkpointed?.(positions);
    return positions;
  }

  /** Runs the poll loop in the background until `stop()`. */
  start(): void {
    this.loop = (async () => {
      while (!this.stopped) await this.pollOnce(500, 50);
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  /** Dies like a killed process: stops polling, loses every uncheckpointed record, leaves the group. */
  async crash(): Promise<void> {
    this.dead = true;
    await this.stop();
    this.pending.clear();
    this.current.clear();
    await this.source.close();
  }

  /** Stops the loop, checkpoints, closes the source. */
  async close(): Promise<void> {
    await this.stop();
    await this.checkpoint();
    await this.source.close();
  }
}

export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
