import { FenestraError } from '../errors.js';
import type { KeyUpdate } from '../runtime/api.js';
import type { StoredHistory } from './history.js';
import type { StoredWrite } from './record.js';
import type { StoredGroupState } from './state.js';

/**
 * Applies writes to stored groups (PutRecord, BatchWriteRecord, DeleteRecord) and acknowledges
 * them once durable. Durability comes from the engine's checkpoint: the groups are the engine's
 * `extraGroups`, so a checkpoint holds their dirty keys; `write` applies the writes, then waits for
 * a checkpoint that started after them (DESIGN §4: "or waiting for the checkpoint"). Writes made in
 * the same tick share one checkpoint (group commit).
 *
 * Idempotency: a write is last-writer-wins by event time (see StoredGroupState), so a client retry
 * of an acknowledged or unacknowledged write changes nothing further. Readers may see a write just
 * before it is durable. Threading: the one event loop; `write` may be called concurrently.
 *
 * Offline history (`recordTo`): every accepted write — also one the state ignores because the key
 * holds a newer record (it is still the record as of times before that one) — is handed to the
 * history synchronously as it is applied, before the checkpoint it waits for is cut, so its row is
 * staged and committed with that checkpoint. A write identical to the key's current record (a retry
 * after a lost acknowledgement) adds no row.
 */
export class StoredWriter {
  private readonly listeners = new Set<(u: KeyUpdate) => void>();
  private next: Promise<void> | null = null;
  private history: StoredHistory | null = null;

  constructor(
    readonly groups: ReadonlyMap<string, StoredGroupState>,
    private readonly checkpoint: () => Promise<void>,
  ) {}

  /** Sends every accepted write to `history` from now on (set it before the first write; null: none). */
  recordTo(history: StoredHistory | null): void {
    this.history = history;
  }

  /** Applies the writes in order and resolves once they are durable; returns which ones changed state. */
  async write(group: string, writes: readonly StoredWrite[]): Promise<boolean[]> {
    const state = this.groups.get(group);
    if (state === undefined) throw new FenestraError('NOT_STORED_GROUP', `"${group}" is not a stored feature group`, { path: group });
    const history = this.history;
    const applied = writes.map((w) => {
      const retry = history !== null && state.holds(w);
      const changed = state.apply(w);
      if (history !== null && !retry) history.onStored(group, w);
      return changed;
    });
    const updates: KeyUpdate[] = [];
    writes.forEach((w, i) => {
      if (applied[i]) updates.push({ group, key: w.key, version: w.eventTime });
    });
    await this.durable();
    for (const u of updates) for (const l of this.listeners) l(u);
    return applied;
  }

  /** One checkpoint for every write applied in the current tick. */
  private durable(): Promise<void> {
    if (this.next !== null) return this.next;
    const p = new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        this.next = null;
        this.checkpoint().then(resolve, reject);
      });
    });
    this.next = p;
    return p;
  }

  /** Change notifications for stored keys (subscriptions), fired once a write is durable. */
  onUpdate(listener: (u: KeyUpdate) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
