import type { PushSource } from '../adapters/sources/push/push-source.js';
import type { KeyUpdate } from '../core/runtime/api.js';
import type { Engine } from '../core/runtime/engine.js';
import { StoredWriter } from '../core/stored/writer.js';
import type { StoredGroupState } from '../core/stored/state.js';
import type { StoredWrite } from '../core/stored/record.js';
import type { OnlineHealth } from './online-health.js';

/** Longest wait for the store in `?wait=visible` (the route answers `visible: false` after its own, shorter, timeout). */
const MAX_WAIT_MS = 30_000;

/**
 * "Visible" when reads come from the online store (`online.reads: store`): an event or record is
 * visible once it is in the store, not merely applied in memory. `flushNow` writes every changed entity
 * now (Engine.flush: waits for a running flush, then forces one, so concurrent callers share it);
 * after it, `stats().online.healthy` says whether that write succeeded.
 */
export class StoreVisibility {
  constructor(
    private readonly engine: Engine,
    private readonly health: OnlineHealth | undefined,
    private readonly retryMs: number,
  ) {}

  private storeUp(): boolean {
    return this.health?.current.up !== false && this.engine.stats().online.healthy;
  }

  /**
   * Resolves once everything applied before the call is in the store (true), or after `MAX_WAIT_MS`
   * (false). One forced write; if it fails, waits for the next successful one (the flusher's retry, or
   * the flush OnlineHealth triggers when the store answers again), which takes every key kept dirty.
   */
  async inStore(): Promise<boolean> {
    const deadline = Date.now() + MAX_WAIT_MS;
    await this.engine.flush();
    while (!this.engine.stats().online.healthy) {
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, this.retryMs));
    }
    return true;
  }

  /** One write attempt when the store is up; nothing while it is down (the flusher retries). */
  async flushIfUp(): Promise<void> {
    if (this.storeUp()) await this.engine.flush();
  }

  /**
   * A change listener (WebSocket subscriptions) that hears of a change only once the store has it, so a
   * subscriber's read from the store sees the new version. Changes are gathered (the newest per key) and
   * delivered after the next flush: one `inStore` per `retryMs` at most, which finds nothing left to
   * write when the periodic flush already wrote them.
   */
  afterStore(listener: (u: KeyUpdate) => void): (u: KeyUpdate) => void {
    let queued = new Map<string, KeyUpdate>();
    let timer: NodeJS.Timeout | null = null;
    let draining = false;
    const schedule = (): void => {
      if (timer !== null || draining) return;
      timer = setTimeout(() => void drain(), this.retryMs);
      timer.unref();
    };
    const drain = async (): Promise<void> => {
      timer = null;
      draining = true;
      const batch = queued;
      queued = new Map();
      try {
        await this.inStore();
      } finally {
        draining = false;
      }
      for (const u of batch.values()) listener(u);
      if (queued.size > 0) schedule();
    };
    return (u) => {
      queued.set(`${u.group}\0${u.key}`, u);
      schedule();
    };
  }

  /**
   * The push source as the routes see it: `waitVisible(position)` resolves once the events up to
   * `position` are applied *and* in the store, so `?wait=visible` means readable from any instance.
   */
  pushSource(src: PushSource): PushSource {
    const waitVisible = async (position: number): Promise<void> => {
      await src.waitVisible(position);
      await this.inStore();
    };
    return new Proxy(src, {
      get(target, prop, receiver) {
        if (prop === 'waitVisible') return waitVisible;
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  }

  /**
   * Stored groups' writer whose `write` (PutRecord, BatchWriteRecord, DeleteRecord) also flushes to
   * the store before answering when the store is up, so a GetRecord right after reads the record from
   * any instance. While the store is down the write is acknowledged once durable, as always. Its change
   * notifications come once the store has the change (`afterStore`).
   */
  storedWriter(groups: ReadonlyMap<string, StoredGroupState>, checkpoint: () => Promise<void>): StoredWriter {
    const visibility = this;
    return new (class extends StoredWriter {
      override async write(group: string, writes: readonly StoredWrite[]): Promise<boolean[]> {
        const applied = await super.write(group, writes);
        await visibility.flushIfUp();
        return applied;
      }

      override onUpdate(listener: (u: KeyUpdate) => void): () => void {
        return super.onUpdate(visibility.afterStore(listener));
      }
    })(groups, checkpoint);
  }
}
