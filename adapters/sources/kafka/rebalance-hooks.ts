import { createRequire } from 'node:module';
import { PartitionAssigners, type PartitionAssigner } from 'kafkajs';

/**
 * kafkajs (2.2.4, pinned) has no onPartitionsRevoked/onPartitionsAssigned callbacks, and its rejoin
 * cannot be delayed from a public event. The source needs both: before this member sends JoinGroup it
 * must hand its partitions back to the runtime (which checkpoints them, so the next owner restores
 * their latest state), and after SyncGroup it must seek each new partition to the runtime's restored
 * position before the first fetch. kafkajs rebalances eagerly: every join releases every partition.
 *
 * So `ConsumerGroup.prototype.joinAndSync` (the one place every join goes through: start, rebalance,
 * unknown member, stale metadata) is wrapped once per process. The wrapper finds the hooks on the
 * group's partition assigner (made by {@link hookedAssigner}); consumers without them are untouched.
 * kafkajs calls joinAndSync from its runner (fetchers stopped) and also from inside a fetch, on stale
 * metadata (`ConsumerGroup.recoverFromFetch`), when a batch may still be in flight: the source drops
 * every batch between `beforeJoin` and `afterJoin` (no partition buffer), and after `afterJoin` every
 * batch of a partition whose seek is still pending (`isStale`). A test runs three joins at once
 * (test/integration/streams/kafka-source.test.ts).
 */
export interface RebalanceHooks {
  /** Called before every JoinGroup; resolves once the runtime has checkpointed what this member owned. */
  beforeJoin(): Promise<void>;
  /** Called after SyncGroup with this member's new assignment; `seek` positions the next fetch. */
  afterJoin(assignment: ReadonlyArray<{ topic: string; partitions: number[] }>, seek: (topic: string, partition: number, offset: string) => void): Promise<void>;
}

const HOOKS = Symbol.for('fenestra.kafka.rebalanceHooks');
const PATCHED = Symbol.for('fenestra.kafka.joinAndSyncPatched');

interface ConsumerGroupLike {
  assigners: ReadonlyArray<Record<symbol, unknown>>;
  assigned(): Array<{ topic: string; partitions: number[] }>;
  seek(tp: { topic: string; partition: number; offset: string }): void;
  joinAndSync(): Promise<void>;
}

function install(): void {
  const require = createRequire(import.meta.url);
  const ConsumerGroup = require('kafkajs/src/consumer/consumerGroup.js') as { prototype: ConsumerGroupLike & Record<symbol, unknown> };
  const proto = ConsumerGroup.prototype;
  if (proto[PATCHED]) return;
  const original = proto.joinAndSync;
  if (typeof original !== 'function') throw new Error('kafkajs: ConsumerGroup.joinAndSync not found (kafkajs version changed?)');
  proto.joinAndSync = async function joinAndSync(this: ConsumerGroupLike): Promise<void> {
    const hooks = this.assigners.map((a) => a[HOOKS] as RebalanceHooks | undefined).find((h) => h !== undefined);
    if (!hooks) return original.call(this);
    await hooks.beforeJoin();
    await original.call(this);
    await hooks.afterJoin(this.assigned(), (topic, partition, offset) => this.seek({ topic, partition, offset }));
  };
  proto[PATCHED] = true;
}

/** kafkajs' round-robin assigner carrying `hooks` (pass it as the consumer's only partition assigner). */
export function hookedAssigner(hooks: RebalanceHooks): PartitionAssigner {
  install();
  return (config) => Object.assign({}, PartitionAssigners.roundRobin(config), { [HOOKS]: hooks });
}
