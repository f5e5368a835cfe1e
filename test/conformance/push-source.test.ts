/**
 * The built-in `http` push source (the same PushSource serves `websocket`) against the source kit.
 * Its backend is its own write-ahead log in the `dataDir` the runtime gives it, filled by clients
 * through `append` (what POST /v1/ingest does). So the context's "client" appends the kit's events
 * once, before the first open of each case's instance, and every restore reopens the same log.
 *
 * Not applicable here, on purpose: restoring onto more or fewer instances — a push source has one
 * split (its log) per daemon, so there is no split set to partition differently.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import {
  conformanceSourceSpec,
  sourceOrderKeptPerSplit,
  sourcePreviousCodecDecodes,
  sourceSnapshotRestore,
  testLogger,
  type ConformanceEvent,
  type SourceCheckpointFixture,
  type SourceConformanceContext,
} from '../../plugins/testkit/index.js';
import httpPlugin from '../../adapters/sources/push/http.js';
import type { PushSource } from '../../adapters/sources/push/push-source.js';
import type { Position, Source, SourceContext, SourceRecord } from '../../plugins/sdk/index.js';

/**
 * The real PushSource, whose log a client filled with the case's events before the first open (as it
 * was when the checkpoint being restored was taken): the client's pushes go through a PushSource of
 * their own on the same log, opened fresh and closed before the source under test opens.
 */
class PushedOnce implements Source {
  private inner: PushSource | undefined;
  constructor(private readonly make: () => Promise<PushSource>, private readonly events: readonly ConformanceEvent[]) {}

  async open(ctx: SourceContext): Promise<void> {
    const marker = join(ctx.dataDir, 'kit-client-pushed');
    if (!existsSync(marker)) {
      const client = await this.make();
      await client.open({ ...ctx, restored: [] });
      const r = await client.append(this.events);
      await client.close();
      if (r.accepted !== this.events.length) throw new Error(`push source accepted ${r.accepted} of ${this.events.length} events: ${JSON.stringify(r.rejected.slice(0, 3))}`);
      writeFileSync(marker, '');
    }
    this.inner = await this.make();
    await this.inner.open(ctx);
  }

  poll(max: number, waitMs: number): Promise<readonly SourceRecord[]> {
    return this.inner!.poll(max, waitMs);
  }

  finished(): boolean {
    return this.inner!.finished();
  }

  checkpointed(positions: Readonly<Record<string, Position>>): Promise<void> {
    return this.inner!.checkpointed(positions);
  }

  close(): Promise<void> {
    return this.inner!.close();
  }
}

// Log positions are 1-based record counts, so the checkpoint 0.1.0 wrote after 5 of 12 events is {log: 5}.
const fixture: SourceCheckpointFixture = { version: '0.1.0', splits: 1, perSplit: 12, positions: { log: 5 }, consumed: { 0: 5 } };

const ctx: SourceConformanceContext = {
  splits: 1,
  bounded: false,
  fixtures: [fixture],
  timeoutMs: 10_000,
  writeData: async (_caseId, events) => events,
  async createSource(dataset): Promise<Source> {
    if (httpPlugin.kind !== 'source') throw new Error('http plugin is not a source');
    const make = async (): Promise<PushSource> =>
      (await httpPlugin.create({}, { logger: testLogger(), baseDir: process.cwd(), engineVersion: '0.1.0', source: conformanceSourceSpec('kit', 'http') })) as PushSource;
    return new PushedOnce(make, dataset as ConformanceEvent[]);
  },
};

describe('source conformance: http push source (built-in, write-ahead log)', () => {
  for (const c of [sourceOrderKeptPerSplit, sourceSnapshotRestore, sourcePreviousCodecDecodes]) it(c.title, () => c.run(ctx));
});
