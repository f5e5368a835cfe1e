import type { GroupRead, StateGroup } from '../core/runtime/state-group.js';
import type { StoredGroupState } from '../core/stored/state.js';

/**
 * A stored group as the engine gets it (`EngineDeps.extraGroups`) when it flushes to an external
 * online store: the same state, with every change kept for the online store until it is handed over.
 *
 * Why: the engine hands a stored group's changes to its online flusher by draining the group's dirty
 * keys at flush time (Engine.collectExtraDirty), but a checkpoint drains the same dirty keys for its
 * cut — and the stored-record writer checkpoints right after every write, so without this the change
 * reaches the checkpoint but never the online store. Here a drained key stays pending for the online
 * store and is returned by every `drainDirty` until the flusher takes it, which the engine does by
 * asking its `version` to mark it (the only use of `version`); a checkpoint that drains it meanwhile
 * just records it once more (idempotent). Everything else is the wrapped state's.
 */
export class OnlineTrackedStoredGroup implements StateGroup {
  private readonly pendingOnline = new Set<string>();

  constructor(readonly inner: StoredGroupState) {}

  get name(): string {
    return this.inner.name;
  }
  get layoutHash(): string {
    return this.inner.layoutHash;
  }
  get size(): number {
    return this.inner.size;
  }

  drainDirty(): string[] {
    for (const k of this.inner.drainDirty()) this.pendingOnline.add(k);
    return [...this.pendingOnline];
  }

  /** The version the flusher marks the key with; the key is then the flusher's. */
  version(key: string): number {
    this.pendingOnline.delete(key);
    return this.inner.version(key);
  }

  /** Expiry of the key's record, for the online store's TTL (core/runtime/online-flusher.ts). */
  expiresAt(key: string): number | undefined {
    return this.inner.expiresAt(key);
  }

  read(key: string, asOf: number): GroupRead {
    return this.inner.read(key, asOf);
  }
  has(key: string): boolean {
    return this.inner.has(key);
  }
  keys(): IterableIterator<string> {
    return this.inner.keys();
  }
  encode(key: string): Uint8Array | null {
    return this.inner.encode(key);
  }
  restore(key: string, bytes: Uint8Array): void {
    this.inner.restore(key, bytes);
  }
}
