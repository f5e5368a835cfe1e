/**
 * The built-in `kafka` source passes the source kit against a real Kafka broker (KRaft, started by
 * the test harness): each kit split is a partition of a fresh topic; the instances of a phase share
 * one consumer group, so the group protocol (with the source's onRevoked/onAssigned hooks) decides
 * which instance reads which partition when the kit rescales 2 → 3 → 1.
 */
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { conformanceSourceSpec, describeSourceConformance, testLogger, type SourceConformanceContext } from '../../plugins/testkit/index.js';
import kafkaPlugin from '../../adapters/sources/kafka/index.js';
import { startKafka, type KafkaService } from '../services/kafka.js';
import type { Source } from '../../plugins/sdk/index.js';
import { ENGINE_VERSION, FIXTURE_SHAPE, recordFixtureIfAsked, storedFixtures } from './support/fixtures.js';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

// Fixtures: the positions each released version's kafka source checkpointed (the next offset, as a
// string) after 5, 12 and 0 events of the kit's standard data set in partitions 0, 1, 2 of a fresh topic
// (test/conformance/fixtures/kafka-source-checkpoint-<version>.json).

let kafka: KafkaService | undefined;
let producer: Producer | undefined;
let topics = 0;

const ctx: SourceConformanceContext = {
  splits: 3,
  bounded: false,
  get fixtures() {
    return storedFixtures('kafka-source');
  },
  version: ENGINE_VERSION,
  timeoutMs: 45_000,
  async setup() {
    kafka = await startKafka();
    producer = new Kafka({ clientId: 'kit', brokers: [...kafka.brokers], logLevel: logLevel.NOTHING }).producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await recordFixtureIfAsked('kafka-source', ctx, FIXTURE_SHAPE.multi);
  },
  async teardown() {
    await producer?.disconnect().catch(() => undefined);
    await kafka?.stop();
  },
  async writeData(_caseId, events) {
    const topic = `kit-${process.pid}-${++topics}`;
    await kafka!.createTopic(topic, 3);
    await producer!.send({ topic, messages: events.map((e) => ({ partition: e.split, value: JSON.stringify(e) })) });
    return topic;
  },
  async createSource(dataset): Promise<Source> {
    if (kafkaPlugin.kind !== 'source') throw new Error('kafka plugin is not a source');
    const topic = dataset as string;
    return kafkaPlugin.create(
      { brokers: [...kafka!.brokers], topic, groupId: `${topic}-group`, sessionTimeout: '6s', heartbeatInterval: '500ms', rebalanceTimeout: '20s' },
      { logger: testLogger(), baseDir: process.cwd(), engineVersion: ENGINE_VERSION, source: conformanceSourceSpec('kit', 'kafka') },
    );
  },
};

describeSourceConformance('kafka (built-in)', ctx);
