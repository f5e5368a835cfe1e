import type { Logger } from '../core/contracts/logger.js';
import type { OnlineStore } from '../core/contracts/online-store.js';

export interface OnlineHealthOptions {
  /** Store name for messages (`online.type`). */
  readonly name: string;
  /** Milliseconds between probes (default 1000). */
  readonly intervalMs?: number;
  /** Called when a probe succeeds after a failed one (the daemon flushes the keys kept dirty meanwhile). */
  readonly onRecovered?: () => void;
  readonly logger: Logger;
}

/** The probe's view of the store. */
export interface ProbeState {
  /** The last probe got an answer (true before the first probe). */
  readonly up: boolean;
  /** Why the last probe failed (null when up). */
  readonly error: string | null;
  /** Epoch ms of the last probe (0: none yet). */
  readonly at: number;
}

/**
 * Probes the online store (`OnlineStore.healthy()`: Redis PING, DynamoDB DescribeTable) on an interval,
 * so an outage shows in `/readyz` and `/metrics` even while nothing is written (a serving-only
 * instance never flushes). When the store answers again it calls `onRecovered` at once, rather than
 * leaving the dirty keys to the flusher's backoff (up to 30 s). Probes never overlap; the timer does
 * not keep the process alive. Start it once the store is open (after engine recovery).
 */
export class OnlineHealth {
  private state: ProbeState = { up: true, error: null, at: 0 };
  private timer: NodeJS.Timeout | null = null;
  private probing: Promise<void> | null = null;

  constructor(
    private readonly store: OnlineStore,
    private readonly opts: OnlineHealthOptions,
  ) {}

  get current(): ProbeState {
    return this.state;
  }

  start(): void {
    if (this.timer !== null) return;
    void this.probe();
    this.timer = setInterval(() => void this.probe(), this.opts.intervalMs ?? 1000);
    this.timer.unref();
  }

  /** One probe now (joins a running one). */
  probe(): Promise<void> {
    this.probing ??= this.probeOnce().finally(() => {
      this.probing = null;
    });
    return this.probing;
  }

  private async probeOnce(): Promise<void> {
    let up: boolean;
    let error: string | null = null;
    try {
      up = await this.store.healthy();
      if (!up) error = `online store "${this.opts.name}" does not answer its health check`;
    } catch (e) {
      up = false;
      error = `online store "${this.opts.name}" health check failed: ${(e as Error).message ?? String(e)}`;
    }
    const was = this.state.up;
    this.state = { up, error, at: Date.now() };
    if (was && !up) this.opts.logger.warn({ store: this.opts.name, reason: error }, 'online store is down');
    if (!was && up) {
      this.opts.logger.info({ store: this.opts.name }, 'online store answers again');
      this.opts.onRecovered?.();
    }
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
