/** Phases of one atomic write at which a crash test may kill the process (nothing is visible yet). */
export type WritePhase = 'half' | 'written';

export interface AtomicWriteOptions {
  /** Background work (compaction): the storage may use slower, non-blocking I/O. */
  readonly background?: boolean;
  /**
   * This write publishes a checkpoint (the store's manifest): a storage whose writer guard can be
   * lost without notice (an S3 lease) confirms it still holds it before the write.
   */
  readonly publishes?: boolean;
  /**
   * Test seam: called with `half` when about half the chunks are stored and with `written` once all
   * bytes are stored but not yet visible under the name (a crash there must leave the old content).
   */
  readonly onPhase?: (phase: WritePhase) => void;
}

/** Held by the one writer of a storage; `release` gives the storage up (idempotent). */
export interface WriterGuard {
  release(): Promise<void>;
}

/**
 * Where a checkpoint store keeps its files: one flat namespace of named, immutable-once-written
 * objects — a local directory (core/checkpoint/directory-storage.ts) or an S3 prefix
 * (adapters/shared-state/s3-checkpoint-storage.ts). The checkpoint logic (delta, then manifest
 * replacement; verified recovery; background compaction; a peer's lock-free peek) lives in
 * core/checkpoint/manifest-store.ts and relies only on what this contract states.
 *
 * Atomicity and durability: `writeAtomic` leaves `name` holding either its previous content (or
 * nothing) or all of `chunks`, never a prefix or a mixture, also if the process dies during the call;
 * when it resolves the new content is durable (a local directory: fsync of the file, rename, fsync of
 * the directory; S3: the PUT's 200 response).
 *
 * Ordering: read-after-write — a `read` or `list` that starts after a `writeAtomic` or `remove`
 * resolved (in any process) sees its effect. The store publishes a checkpoint by writing its delta and
 * *then* replacing the manifest, so a reader that sees the manifest also sees every file it names.
 *
 * Threading: calls may overlap (a commit while a compaction runs); the store never writes one name by
 * two overlapping calls. One writer per storage (`acquireWriter`); any number of readers, which take
 * no guard and never modify anything.
 *
 * Idempotency: `remove` of a missing name resolves; `writeAtomic` replaces the whole object.
 */
export interface CheckpointStorage {
  /** Human-readable location (`/abs/dir`, `s3://bucket/prefix`), for messages. */
  readonly location: string;
  /** How messages name one object of the storage (a path or an `s3://` URL). */
  describe(name: string): string;
  /** The object's bytes, or null when it does not exist. */
  read(name: string): Promise<Buffer | null>;
  /** Stores `chunks` under `name` atomically and durably (see above); resolves to the bytes written. */
  writeAtomic(name: string, chunks: readonly Uint8Array[], opts?: AtomicWriteOptions): Promise<number>;
  /** Names of the objects directly in the storage (sorted); empty when the storage does not exist yet. */
  list(): Promise<string[]>;
  remove(name: string): Promise<void>;
  /**
   * Makes this process the storage's one writer (creating the storage if needed) until `release`:
   * refuses with STATE_LOCKED (a directory's LOCK file) or STATE_LEASED (an S3 lease) while another
   * live process holds it; a dead holder's guard is taken over.
   */
  acquireWriter(): Promise<WriterGuard>;
}
