import type { Logger } from '../contracts/logger.js';
import type { OnlineRecord, OnlineStore } from '../contracts/online-store.js';
import type { RuntimeStats } from './stats.js';
import type { StateGroup } from './state-group.js';

const BATCH = 500;
const MAX_BACKOFF_MS = 30_000;

/** Upper bounds (seconds) of the flush-duration histogram in `stats.online.flushSeconds`. */
export const FLUSH_SECONDS_BOUNDS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * A group whose records expire (core/stored's StoredGroupState for stored groups with `ttl` or a
 * request TtlDuration). Optional: groups without it write records that never expire.
 */
interface ExpiringGroup {
  expiresAt(key: string): number | undefined;
}

/** The expiry (epoch ms) a key's online record carries, if its group has one. */
function expiryOf(g: StateGroup, key: string): number | undefined {
  const f = (g as Partial<ExpiringGroup>).expiresAt;
  return typeof f === 'function' ? f.call(g, key) : undefined;
}

/**
 * Writes changed entities' encoded state to the online store with their version.
 * Keys are marked with the version of their latest applied event (synchronously, in the same block
 * that applied it); a flush encodes each key's current state, which matches that version. A failed
 * write keeps the keys pending (unless a newer version was marked meanwhile) and retries with
 * exponential backoff; the store's version guard makes a partly applied batch safe to resend.
 * Records of groups that expire (stored groups with a TTL) carry `expiresAt`, so the store sets its
 * own TTL (Redis PXAT, DynamoDB `ttl`) besides checking expiry on read. Every attempt's duration goes
 * to `stats.flushSeconds` (a plain cumulative histogram the daemon exports).
 * Threading: never two `write` calls at once (the store's contract).
 */
export class OnlineFlusher {
  private pending = new Map<string, Map<string, number>>();
  private inFlight: Promise<void> | null = null;
  private failures = 0;
  private nextAttemptAt = 0;

  constructor(
    private readonly store: OnlineStore,
    private readonly groups: ReadonlyMap<string, StateGroup>,
    private readonly stats: RuntimeStats['online'],
    private readonly logger: Logger,
    private readonly clock: () => number,
  ) {
    this.stats.flushSeconds ??= { bounds: FLUSH_SECONDS_BOUNDS, counts: new Array<number>(FLUSH_SECONDS_BOUNDS.length + 1).fill(0), sum: 0, count: 0 };
  }

  mark(group: string, key: string, version: number): void {
    let m = this.pending.get(group);
    if (!m) this.pending.set(group, (m = new Map()));
    m.set(key, version);
  }

  get pendingCount(): number {
    let n = 0;
    for (const m of this.pending.values()) n += m.size;
    return n;
  }

  /** Flushes unless a flush is running or the backoff has not expired (`force` ignores the backoff). */
  flush(force = false): Promise<void> {
    if (this.inFlight) return this.inFlight;
    if (!force && this.clock() < this.nextAttemptAt) return Promise.resolve();
    if (this.pendingCount === 0) return Promise.resolve();
    const t0 = performance.now();
    const p = this.flushOnce().finally(() => {
      this.observe((performance.now() - t0) / 1000);
      this.inFlight = null;
      this.stats.pending = this.pendingCount;
    });
    this.inFlight = p;
    return p;
  }

  private async flushOnce(): Promise<void> {
    const taken = this.pending;
    this.pending = new Map();
    const records: OnlineRecord[] = [];
    for (const [group, keys] of taken) {
      const g = this.groups.get(group);
      if (!g) continue;
      for (const [key, version] of keys) {
        const value = g.encode(key);
        if (value === null) continue;
        const expiresAt = expiryOf(g, key);
        records.push(expiresAt === undefined ? { group, key, version, value } : { group, key, version, value, expiresAt });
      }
    }
    let done = 0;
    try {
      while (done < records.length) {
        const batch = records.slice(done, done + BATCH);
        const r = await this.store.write(batch);
        this.stats.recordsWritten += r.applied;
        this.stats.recordsSkipped += r.skipped;
        done += batch.length;
      }
      this.stats.flushes++;
      this.stats.healthy = true;
      this.stats.lastError = null;
      this.failures = 0;
      this.nextAttemptAt = 0;
    } catch (e) {
      for (const r of records.slice(done)) {
        const m = this.pending.get(r.group);
        if (m?.has(r.key)) continue; // marked again meanwhile with a newer version
        this.mark(r.group, r.key, r.version);
      }
      this.failures++;
      this.stats.failures++;
      this.stats.healthy = false;
      this.stats.lastError = (e as Error).message ?? String(e);
      const backoff = Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(this.failures, 12));
      this.nextAttemptAt = this.clock() + backoff;
      this.logger.warn({ err: e, retryInMs: backoff, pending: this.pendingCount }, 'online store write failed; keeping keys dirty');
    }
  }

  private observe(seconds: number): void {
    const h = this.stats.flushSeconds!;
    let i = 0;
    while (i < h.bounds.length && seconds > h.bounds[i]) i++;
    h.counts[i]++;
    h.sum += seconds;
    h.count++;
  }

  /** Waits for the running flush, if any. */
  async idle(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }
}
