import type { OnlineRecord, OnlineWriteResult } from '../../../plugins/sdk/index.js';
import { MemoryOnlineStore } from '../../../adapters/online/memory/index.js';

/** Broken on purpose: applies every write, so an older version overwrites a newer one (no version guard). */
export class LastWriteWinsStore extends MemoryOnlineStore {
  override async write(records: readonly OnlineRecord[]): Promise<OnlineWriteResult> {
    for (const r of records) await super.delete(r.group, r.key, Number.MAX_SAFE_INTEGER);
    return super.write(records);
  }
}

/** Broken on purpose: ignores `expiresAt` on read. */
export class NoExpiryStore extends MemoryOnlineStore {
  override async write(records: readonly OnlineRecord[]): Promise<OnlineWriteResult> {
    return super.write(records.map(({ expiresAt: _drop, ...r }) => r));
  }
}

/** Broken on purpose: drops misses from read results instead of answering null (results shift). */
export class CompactingReadStore extends MemoryOnlineStore {
  override async read(group: string, keys: readonly string[], now: number): Promise<ReadonlyArray<OnlineRecord | null>> {
    return (await super.read(group, keys, now)).filter((r) => r !== null);
  }
}

/** Broken on purpose: every other read is served by a "replica" that lags three writes behind. */
export class LaggingReplicaStore extends MemoryOnlineStore {
  private readonly replica = new MemoryOnlineStore();
  private readonly pending: Array<readonly OnlineRecord[]> = [];
  private reads = 0;
  override async open(): Promise<void> {
    await super.open();
    await this.replica.open();
  }
  override async write(records: readonly OnlineRecord[]): Promise<OnlineWriteResult> {
    this.pending.push(records);
    if (this.pending.length > 3) await this.replica.write(this.pending.shift()!);
    return super.write(records);
  }
  override async read(group: string, keys: readonly string[], now: number): Promise<ReadonlyArray<OnlineRecord | null>> {
    this.reads += 1;
    return this.reads % 2 === 0 ? this.replica.read(group, keys, now) : super.read(group, keys, now);
  }
}

/** Broken on purpose: an equal version replaces the stored record (a `>=` version guard instead of `>`). */
export class EqualVersionWinsStore extends MemoryOnlineStore {
  override async write(records: readonly OnlineRecord[]): Promise<OnlineWriteResult> {
    for (const r of records) {
      const [held] = await super.read(r.group, [r.key], Number.NEGATIVE_INFINITY);
      if (held != null && held.version === r.version) await super.delete(r.group, r.key, r.version);
    }
    return super.write(records);
  }
}

/** Broken on purpose: delete ignores its version and removes whatever is stored. */
export class UnguardedDeleteStore extends MemoryOnlineStore {
  override async delete(group: string, key: string, _version: number): Promise<void> {
    return super.delete(group, key, Number.MAX_SAFE_INTEGER);
  }
}

/** Broken on purpose: checks expiry against the wall clock instead of the `now` it is given. */
export class WallClockExpiryStore extends MemoryOnlineStore {
  override async read(group: string, keys: readonly string[], _now: number): Promise<ReadonlyArray<OnlineRecord | null>> {
    return super.read(group, keys, Date.now());
  }
}

/** Broken on purpose: keys are not scoped by group, so one group's record answers for another's. */
export class GroupBlindStore extends MemoryOnlineStore {
  override async write(records: readonly OnlineRecord[]): Promise<OnlineWriteResult> {
    const res = await super.write(records.map((r) => ({ ...r, group: 'all' })));
    return res;
  }
  override async read(group: string, keys: readonly string[], now: number): Promise<ReadonlyArray<OnlineRecord | null>> {
    return (await super.read('all', keys, now)).map((r) => (r === null ? null : { ...r, group }));
  }
}
