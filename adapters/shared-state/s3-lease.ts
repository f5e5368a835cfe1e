import { sleep } from '../online/shared/backoff.js';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Logger } from '../../core/contracts/logger.js';
import { processAlive } from '../../core/checkpoint/dir-lock.js';
import { FenestraError } from '../../core/errors.js';
import type { S3Prefix } from '../s3/prefix.js';

export const LEASE_NAME = 'LEASE';

export interface S3LeaseOptions {
  /**
   * A lease whose object has not changed for this long (as this process observes it) is a dead
   * holder's and is taken over (default 30 s).
   */
  readonly ttlMs?: number;
  /** How often the holder rewrites the lease (default ttl / 3). */
  readonly heartbeatMs?: number;
  readonly logger?: Logger;
}

/** The lease object's content. `beats` changes with every heartbeat, so a live lease keeps changing. */
interface LeaseBody {
  readonly host: string;
  /** The kernel's boot id, when readable: a host name plus boot id identifies one running machine. */
  readonly boot: string;
  readonly pid: number;
  readonly token: string;
  readonly beats: number;
  readonly at: number;
  readonly ttlMs: number;
}

/** Tokens of leases this process took (a lease it left behind, e.g. a store not closed, is its own). */
const OWN_TOKENS = new Set<string>();

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

function parse(buf: Buffer | null): LeaseBody | null {
  if (buf === null) return null;
  try {
    const b = JSON.parse(buf.toString('utf8')) as LeaseBody;
    return typeof b.token === 'string' && typeof b.pid === 'number' ? b : null;
  } catch {
    return null; // unreadable: treated as absent (it guards nothing)
  }
}


/**
 * One writer per S3 checkpoint store: S3 has no locks, so the writer keeps a lease object (`LEASE`:
 * host, boot id, pid, a random token, a heartbeat counter) and rewrites it every `heartbeatMs`.
 *
 * `acquire` takes the lease when it is absent, this process's own, or a dead holder's: on the same
 * machine (host name and boot id equal) a holder whose pid is gone is dead at once; otherwise the
 * lease is watched, and a holder whose lease does not change for `ttlMs` is dead (no clocks are
 * compared). A lease that changes meanwhile is live: STATE_LEASED. After writing its lease the taker
 * reads it back and refuses if another token is there.
 *
 * Every heartbeat reads the lease first, and so does `verify` before each checkpoint is published:
 * if another process's token is there (it took the lease over, e.g. after this process could not
 * reach S3 for `ttlMs`), the lease is *lost* and `check` throws STATE_LEASED from then on, so the
 * store's writes stop.
 *
 * Limits (the deployment's rule is one live process per instance id): without conditional PUTs,
 * two processes starting in the same instant can both pass `acquire`; the loser notices at its next
 * heartbeat and between that and losing may have written. The lease is a guard against a second
 * process started by mistake, not a fence.
 */
export class S3Lease {
  private readonly ttlMs: number;
  private readonly heartbeatMs: number;
  private readonly me: Omit<LeaseBody, 'beats' | 'at'>;
  private beats = 0;
  private timer: NodeJS.Timeout | null = null;
  private lost: LeaseBody | null = null;
  private beating: Promise<void> = Promise.resolve();

  constructor(
    private readonly dir: S3Prefix,
    private readonly opts: S3LeaseOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 30_000;
    this.heartbeatMs = opts.heartbeatMs ?? Math.max(50, Math.floor(this.ttlMs / 3));
    this.me = { host: hostname(), boot: bootId(), pid: process.pid, token: randomUUID(), ttlMs: this.ttlMs };
  }

  get url(): string {
    return this.dir.url(LEASE_NAME);
  }

  async acquire(): Promise<void> {
    const held = await this.dir.get(LEASE_NAME);
    const holder = parse(held);
    if (holder && !OWN_TOKENS.has(holder.token)) await this.waitDead(holder, held!);
    OWN_TOKENS.add(this.me.token);
    await this.write();
    const back = parse(await this.dir.get(LEASE_NAME));
    if (back?.token !== this.me.token) throw this.refusal(back ?? holder, 'took the lease in the same instant');
    this.timer = setInterval(() => void this.heartbeat(), this.heartbeatMs);
    this.timer.unref();
  }

  /** Throws STATE_LEASED once another process has taken the lease over. */
  check(): void {
    if (this.lost) throw this.refusal(this.lost, 'took the lease over: this process no longer writes here');
  }

  /**
   * Reads the lease now and throws STATE_LEASED unless it is still this process's (then it is lost
   * for good, as when a heartbeat finds another token). One GET; used before publishing a checkpoint.
   */
  async verify(): Promise<void> {
    this.check();
    if (!(await this.stillMine())) this.check();
  }

  /** Reads the lease; false (and lost for good, logged) when another process's token is in it. */
  private async stillMine(): Promise<boolean> {
    const cur = parse(await this.dir.get(LEASE_NAME));
    if (!cur || cur.token === this.me.token) return true;
    this.lost = cur;
    this.opts.logger?.error({ lease: this.url, holder: cur }, 'checkpoint store lease lost to another process: checkpoints stop');
    return false;
  }

  /** Stops the heartbeat and deletes the lease if it is still this process's. Idempotent. */
  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.beating;
    OWN_TOKENS.delete(this.me.token);
    if (this.lost) return;
    const cur = parse(await this.dir.get(LEASE_NAME));
    if (cur?.token === this.me.token) await this.dir.delete(LEASE_NAME);
  }

  private async waitDead(holder: LeaseBody, held: Buffer): Promise<void> {
    const sameMachine = holder.host === this.me.host && holder.boot === this.me.boot && this.me.boot !== '';
    if (sameMachine && holder.pid !== process.pid) {
      if (processAlive(holder.pid)) throw this.refusal(holder, 'is alive on this machine');
      return; // its process is gone
    }
    // Another machine (or a pid reused by this process): dead when the lease stops changing for a ttl.
    const deadline = Date.now() + this.ttlMs;
    const step = Math.max(20, Math.min(1000, Math.floor(this.heartbeatMs / 2)));
    while (Date.now() < deadline) {
      await sleep(Math.min(step, Math.max(0, deadline - Date.now())));
      const now = await this.dir.get(LEASE_NAME);
      if (now === null) return; // released meanwhile
      if (!now.equals(held)) throw this.refusal(parse(now) ?? holder, 'is renewing it');
    }
    this.opts.logger?.warn({ lease: this.url, holder }, 'checkpoint store lease taken over: its holder stopped renewing it');
  }

  private async write(): Promise<void> {
    const body: LeaseBody = { ...this.me, beats: ++this.beats, at: Date.now() };
    await this.dir.put(LEASE_NAME, Buffer.from(JSON.stringify(body), 'utf8'));
  }

  private heartbeat(): void {
    this.beating = this.beating.then(async () => {
      if (this.lost || this.timer === null) return;
      try {
        if (await this.stillMine()) await this.write();
      } catch (e) {
        this.opts.logger?.warn({ err: e, lease: this.url }, 'checkpoint store lease heartbeat failed; retrying');
      }
    });
  }

  private refusal(holder: LeaseBody | null, what: string): FenestraError {
    const who = holder ? `process ${holder.pid} on ${holder.host}` : 'another process';
    return new FenestraError(
      'STATE_LEASED',
      `checkpoint store ${this.dir.url()} is leased by ${who}, which ${what} (${this.url}); one live process per state.instanceId — stop the other, or wait ${Math.round((holder?.ttlMs ?? this.ttlMs) / 1000)} s after it died`,
      { path: this.url, details: holder ? { host: holder.host, pid: holder.pid } : {} },
    );
  }
}
