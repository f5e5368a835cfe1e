import type { AtomicWriteOptions, CheckpointStorage, WriterGuard } from '../../core/contracts/checkpoint-storage.js';
import type { S3Prefix } from '../s3/prefix.js';
import { S3Lease, type S3LeaseOptions } from './s3-lease.js';

/**
 * `CheckpointStorage` under an S3 prefix (`s3://bucket/…/checkpoints/`), for the manifest checkpoint
 * store (core/checkpoint/manifest-store.ts): the same MANIFEST, snapshot and delta objects as on disk.
 *
 * What replaces the local directory's guarantees:
 * - **fsync + rename** → one PUT per object: S3 stores an object whole or not at all, and answers
 *   200 only once it is durably stored; there are no temp objects. The SigV4 payload hash makes S3
 *   reject a body damaged in transit; the frames' CRC32s are verified on every read. A snapshot is one
 *   PUT (S3's limit: 5 GiB per object; multipart upload is not used).
 * - **directory fsync / read-after-rename** → S3's strong read-after-write consistency (GET and LIST
 *   after a PUT or DELETE see it), so "PUT the delta, then PUT the MANIFEST" publishes a checkpoint
 *   exactly when the manifest names it, as the rename order does on disk.
 * - **LOCK file** → a lease object (`LEASE`, adapters/shared-state/s3-lease.ts) with the holder's host,
 *   pid and a heartbeat: a second live writer is refused with STATE_LEASED, and a holder that lost its
 *   lease stops writing. One live process per instance id remains the deployment's rule; the lease
 *   catches mistakes, it does not fence.
 *
 * The crash-test phases (`onPhase`) are reported before the PUT: nothing is visible at either.
 * Threading: calls may overlap (the SDK client is shared and concurrent-safe).
 */
export class S3CheckpointStorage implements CheckpointStorage {
  readonly location: string;
  private lease: S3Lease | null = null;

  constructor(
    private readonly dir: S3Prefix,
    private readonly leaseOptions: S3LeaseOptions = {},
  ) {
    this.location = dir.url();
  }

  describe(name: string): string {
    return this.dir.url(name);
  }

  read(name: string): Promise<Buffer | null> {
    return this.dir.get(name);
  }

  async writeAtomic(name: string, chunks: readonly Uint8Array[], opts: AtomicWriteOptions = {}): Promise<number> {
    // A publishing write (the manifest): the lease is read back first, not left to the heartbeat, so a
    // writer that lost it never publishes (other objects are invisible until a manifest names them).
    if (opts.publishes) await this.lease?.verify();
    else this.lease?.check();
    opts.onPhase?.('half');
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    opts.onPhase?.('written');
    await this.dir.put(name, body);
    return body.byteLength;
  }

  list(): Promise<string[]> {
    return this.dir.list();
  }

  async remove(name: string): Promise<void> {
    this.lease?.check();
    await this.dir.delete(name);
  }

  async acquireWriter(): Promise<WriterGuard> {
    const lease = new S3Lease(this.dir, this.leaseOptions);
    await lease.acquire();
    this.lease = lease;
    return {
      release: async () => {
        if (this.lease === lease) this.lease = null;
        await lease.release();
      },
    };
  }
}
