/**
 * The built-in push sources — `http` (POST /v1/ingest/:source) and `websocket` (/v1/ws, op `ingest`) —
 * each against the whole source kit, created through its own plugin definition. Their backend is their
 * own write-ahead log in the `dataDir` the runtime gives them, filled by clients through `append`
 * (exactly what the daemon's ingest routes call). Each context's client speaks its transport's
 * idempotency protocol and retries once, and the kit then checks nothing was delivered twice:
 * - http: batches of 5 with an `Idempotency-Key` each; one batch is re-sent (a lost acknowledgement);
 * - websocket: one producer id with a per-event sequence number (`clientSeq`); an overlapping window
 *   of events is re-sent after a reconnect.
 *
 * The first half of a case's events is in the log before the source under test opens (as it was when
 * the checkpoint being restored was taken: a separate client instance on the same log appends them,
 * then closes); the second half is pushed live through the opened source. Every restore reopens the
 * same log and pushes nothing again.
 *
 * Restoring onto more or fewer instances does not apply: a push source has one split (its log) per
 * daemon. The contexts declare `singleSplit`, and the kit names that case "not applicable" and checks
 * the declaration. Fixtures: test/conformance/fixtures/push-source-checkpoint-<version>.json (one log
 * format for both transports).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  conformanceSourceSpec,
  describeSourceConformance,
  testLogger,
  type ConformanceEvent,
  type SourceConformanceContext,
} from '../../plugins/testkit/index.js';
import httpPlugin from '../../adapters/sources/push/http.js';
import websocketPlugin from '../../adapters/sources/push/websocket.js';
import type { AppendResult, PushSource } from '../../adapters/sources/push/push-source.js';
import type { Plugin, Position, Source, SourceContext, SourceRecord } from '../../plugins/sdk/index.js';
import { ENGINE_VERSION, FIXTURE_SHAPE, recordFixtureIfAsked, storedFixtures } from './support/fixtures.js';

/** A client of one transport: pushes `events` into an open push source, retrying once as that transport's clients do. */
type Client = (source: PushSource, events: readonly ConformanceEvent[], part: 'before-open' | 'live') => Promise<void>;

function expectAccepted(r: AppendResult, n: number, what: string): void {
  if (r.duplicate || r.accepted !== n || r.rejected.length > 0) throw new Error(`${what}: push source answered ${JSON.stringify(r)}, expected ${n} accepted`);
}

/** HTTP: batches of 5, each with an idempotency key; the first batch of each part is sent twice. */
const httpClient: Client = async (source, events, part) => {
  const batches: ConformanceEvent[][] = [];
  for (let i = 0; i < events.length; i += 5) batches.push(events.slice(i, i + 5));
  for (const [i, batch] of batches.entries()) {
    const key = `kit-${part}-${i}`;
    expectAccepted(await source.append(batch, { idempotencyKey: key }), batch.length, `batch ${key}`);
    if (i === 0) {
      const again = await source.append(batch, { idempotencyKey: key });
      if (!again.duplicate) throw new Error(`re-sent batch ${key} was not recognised as a retry: ${JSON.stringify(again)}`);
    }
  }
};

/** WebSocket: one producer, a sequence number per event; after the first 4, the last 2 are re-sent with the next ones. */
const wsClient: Client = async (source, events, part) => {
  const tagged = events.map((e) => ({ ...e, clientSeq: e.seq }));
  const producerId = 'kit-ws-client';
  const first = tagged.slice(0, 4);
  expectAccepted(await source.append(first, { producerId }), first.length, `${part} frame 1`);
  const rest = tagged.slice(2); // resends seq 2, 3 after a reconnect
  const r = await source.append(rest, { producerId });
  const resent = Math.min(2, first.length - 2);
  if (r.accepted !== rest.length - resent || r.duplicates !== resent) {
    throw new Error(`${part} frame 2 (${resent} resent events): push source answered ${JSON.stringify(r)}, expected ${rest.length - resent} accepted and ${resent} duplicates`);
  }
};

/**
 * The real push source under test, opened on a log that a client filled with the first half of the
 * case's events before; on the first open of a case's log the client pushes the second half live.
 */
class PushedLog implements Source {
  private inner: PushSource | undefined;
  constructor(private readonly make: () => Promise<PushSource>, private readonly client: Client, private readonly events: readonly ConformanceEvent[]) {}

  async open(ctx: SourceContext): Promise<void> {
    const marker = join(ctx.dataDir, 'kit-client-pushed');
    const fresh = !existsSync(marker);
    const half = Math.ceil(this.events.length / 2);
    if (fresh) {
      const before = await this.make();
      await before.open({ ...ctx, restored: [] });
      await this.client(before, this.events.slice(0, half), 'before-open');
      await before.close();
    }
    this.inner = await this.make();
    await this.inner.open(ctx);
    if (fresh) {
      await this.client(this.inner, this.events.slice(half), 'live');
      writeFileSync(marker, '');
    }
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

function pushContext(plugin: Plugin, options: Record<string, unknown>, client: Client): SourceConformanceContext {
  const ctx: SourceConformanceContext = {
    splits: 1,
    bounded: false,
    singleSplit: { reason: 'a push source has one split (its write-ahead log) per daemon, so there is no split set to spread over instances' },
    get fixtures() {
      return storedFixtures('push-source');
    },
    version: ENGINE_VERSION,
    timeoutMs: 10_000,
    setup: () => recordFixtureIfAsked('push-source', ctx, FIXTURE_SHAPE.single),
    writeData: async (_caseId, events) => events,
    async createSource(dataset): Promise<Source> {
      if (plugin.kind !== 'source') throw new Error(`${plugin.name} plugin is not a source`);
      const make = async (): Promise<PushSource> =>
        (await plugin.create(options, { logger: testLogger(), baseDir: process.cwd(), engineVersion: ENGINE_VERSION, source: conformanceSourceSpec('kit', plugin.name) })) as PushSource;
      return new PushedLog(make, client, dataset as ConformanceEvent[]);
    },
  };
  return ctx;
}

describeSourceConformance('http push source (built-in, write-ahead log, Idempotency-Key client)', pushContext(httpPlugin, {}, httpClient));
describeSourceConformance('websocket push source (built-in, write-ahead log, producer id + sequence client)', pushContext(websocketPlugin, { seqField: 'clientSeq' }, wsClient));
