/**
 * The built-in `kinesis` source against the whole source kit on kinesalite (a real Kinesis
 * implementation, in-process): each kit split is a shard of a fresh 3-shard stream (records placed
 * with ExplicitHashKey, one PutRecords call per shard so each shard keeps seq order); positions are the
 * sequence numbers of the last applied record.
 *
 * - Restoring onto more or fewer instances: the Kinesis source has no lease table — one instance reads
 *   every shard of its stream. The kit's instance i of n is modelled by giving that instance only its
 *   share of the shards (`OwnedShards`: the shards whose split index % n === i; records of other shards
 *   are never handed to the kit, so their positions never enter the checkpoint from this instance).
 *   Every instance is restored with the whole checkpoint, as the runtime restores; so the case proves
 *   that positions applied by one set of instances resume exactly on another set, 2 → 3 → 1.
 * - A checkpoint of a previous version: Kinesis assigns sequence numbers at write time, so a stored
 *   fixture names, for each sequence number in it, the kit event it was assigned to
 *   (`SourceCheckpointFixture.assigned`); on replay the kit substitutes the sequence number kinesalite
 *   assigned to the same event of the fresh stream (`assignedTokens`), keeping the stored shard ids
 *   and position format. Fixtures: test/conformance/fixtures/kinesis-source-checkpoint-<version>.json.
 */
import { ListShardsCommand, PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { conformanceSourceSpec, describeSourceConformance, testLogger, type SourceConformanceContext } from '../../plugins/testkit/index.js';
import kinesisPlugin from '../../adapters/sources/kinesis/index.js';
import { startKinesalite, type KinesaliteService } from '../services/kinesalite.js';
import type { Position, Source, SourceContext, SourceRecord } from '../../plugins/sdk/index.js';
import { ENGINE_VERSION, FIXTURE_SHAPE, recordFixtureIfAsked, storedFixtures } from './support/fixtures.js';

const SHARDS = 3;

/** What writeData leaves behind for one stream: the split index of each shard, and each event's sequence number. */
interface Stream {
  readonly name: string;
  readonly splitOfShard: ReadonlyMap<string, number>;
  readonly sequenceOf: Readonly<Record<string, string>>;
}

/**
 * Instance i of n: the Kinesis source over the whole stream, of which this instance hands out only the
 * shards it owns (the source itself reads every shard: it has no shard-ownership option).
 */
class OwnedShards implements Source {
  constructor(private readonly inner: Source, private readonly owns: (shard: string) => boolean) {}
  open(ctx: SourceContext): Promise<void> {
    return this.inner.open(ctx);
  }
  async poll(max: number, waitMs: number): Promise<readonly SourceRecord[]> {
    return (await this.inner.poll(max, waitMs)).filter((r) => this.owns(r.split));
  }
  finished(): boolean {
    return this.inner.finished();
  }
  async checkpointed(positions: Readonly<Record<string, Position>>): Promise<void> {
    await this.inner.checkpointed?.(positions);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

let kinesis: KinesaliteService | undefined;
let client: KinesisClient | undefined;
let streams = 0;

const ctx: SourceConformanceContext = {
  splits: SHARDS,
  bounded: false,
  get fixtures() {
    return storedFixtures('kinesis-source');
  },
  version: ENGINE_VERSION,
  timeoutMs: 30_000,
  async setup() {
    kinesis = await startKinesalite();
    client = kinesis.client();
    await recordFixtureIfAsked('kinesis-source', ctx, FIXTURE_SHAPE.multi);
  },
  async teardown() {
    await kinesis?.stop();
  },
  async writeData(_caseId, events): Promise<Stream> {
    const name = `kit-${process.pid}-${++streams}`;
    await kinesis!.createStream(name, SHARDS);
    const shards = ((await client!.send(new ListShardsCommand({ StreamName: name }))).Shards ?? [])
      .map((s) => ({ id: s.ShardId!, start: BigInt(s.HashKeyRange!.StartingHashKey!) }))
      .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    if (shards.length !== SHARDS) throw new Error(`stream ${name} has ${shards.length} shards, expected ${SHARDS}`);
    const sequenceOf: Record<string, string> = {};
    for (let split = 0; split < SHARDS; split++) {
      const mine = events.filter((e) => e.split === split).sort((a, b) => a.seq - b.seq);
      if (mine.length === 0) continue;
      const res = await client!.send(new PutRecordsCommand({
        StreamName: name,
        Records: mine.map((e) => ({ PartitionKey: e.key, ExplicitHashKey: String(shards[split]!.start + 1n), Data: Buffer.from(JSON.stringify(e)) })),
      }));
      if ((res.FailedRecordCount ?? 0) > 0) throw new Error(`kinesalite refused ${res.FailedRecordCount} records`);
      res.Records!.forEach((r, i) => {
        if (r.ShardId !== shards[split]!.id) throw new Error(`event ${mine[i]!.id} landed in ${r.ShardId}, not ${shards[split]!.id}`);
        sequenceOf[mine[i]!.id] = r.SequenceNumber!;
      });
    }
    return { name, splitOfShard: new Map(shards.map((s, i) => [s.id, i] as const)), sequenceOf };
  },
  assignedTokens: (dataset) => (dataset as Stream).sequenceOf,
  async createSource(dataset, { instance, instances }): Promise<Source> {
    if (kinesisPlugin.kind !== 'source') throw new Error('kinesis plugin is not a source');
    const stream = dataset as Stream;
    const source = await kinesisPlugin.create(
      { stream: stream.name, region: kinesis!.region, endpoint: kinesis!.endpoint, credentials: { accessKeyId: 'fenestra', secretAccessKey: 'fenestra' }, idleWait: '50ms' },
      { logger: testLogger(), baseDir: process.cwd(), engineVersion: ENGINE_VERSION, source: conformanceSourceSpec('kit', 'kinesis') },
    );
    if (instances === 1) return source;
    return new OwnedShards(source, (shard) => {
      const split = stream.splitOfShard.get(shard);
      if (split === undefined) throw new Error(`record of unknown shard ${shard}`);
      return split % instances === instance;
    });
  },
};

describeSourceConformance('kinesis (built-in, kinesalite)', ctx);
