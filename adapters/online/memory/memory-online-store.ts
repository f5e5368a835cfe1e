import type { OnlineRecord, OnlineStore, OnlineWriteResult } from '../../../core/contracts/online-store.js';

/**
 * An online store held in this process's memory: a map per feature group from key to the newest
 * record. It implements the contract exactly (version-guarded writes, one result per key, expiry
 * on read) and is the store behind the embedded default, where the engine's own checkpoint is what
 * makes state durable. Reads copy nothing: callers must not mutate the returned bytes.
 * Threading: every call completes in one synchronous step, so concurrent reads and a write never
 * observe a half-applied record.
 */
export class MemoryOnlineStore implements OnlineStore {
  private readonly groups = new Map<string, Map<string, OnlineRecord>>();
  private opened = false;

  async open(): Promise<void> {
    this.opened = true;
  }

  async write(records: readonly OnlineRecord[]): Promise<OnlineWriteResult> {
    this.assertOpen();
    let applied = 0;
    for (const r of records) {
      let g = this.groups.get(r.group);
      if (g === undefined) {
        g = new Map();
        this.groups.set(r.group, g);
      }
      const held = g.get(r.key);
      if (held !== undefined && held.version >= r.version) continue;
      g.set(r.key, { group: r.group, key: r.key, version: r.version, value: r.value, ...(r.expiresAt === undefined ? {} : { expiresAt: r.expiresAt }) });
      applied += 1;
    }
    return { applied, skipped: records.length - applied };
  }

  async read(group: string, keys: readonly string[], now: number): Promise<ReadonlyArray<OnlineRecord | null>> {
    this.assertOpen();
    const g = this.groups.get(group);
    return keys.map((k) => {
      const r = g?.get(k);
      if (r === undefined) return null;
      return r.expiresAt !== undefined && now > r.expiresAt ? null : r;
    });
  }

  async delete(group: string, key: string, version: number): Promise<void> {
    this.assertOpen();
    const g = this.groups.get(group);
    const held = g?.get(key);
    if (g !== undefined && held !== undefined && held.version <= version) g.delete(key);
  }

  async healthy(): Promise<boolean> {
    return this.opened;
  }

  async close(): Promise<void> {
    this.opened = false;
  }

  private assertOpen(): void {
    if (!this.opened) throw new Error('memory online store: used before open() or after close()');
  }
}
