import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { CheckpointData, CheckpointStore, RecoveredState } from '../contracts/checkpoint-store.js';
import type { CheckpointStorage, WritePhase, WriterGuard } from '../contracts/checkpoint-storage.js';
import type { Logger } from '../contracts/logger.js';
import { FenestraError } from '../errors.js';
import { frame, FrameKind, unframe } from './frame.js';
import { decodeManifest, encodeManifest, type Manifest, MANIFEST_NAME, type ManifestFile, stateFileName } from './manifest.js';
import { FoldIndex, type LoadedStateFile } from './fold.js';
import { parseStateFile, StateFileWriter } from './state-file.js';

/** Points where a test may crash the process to prove atomicity (see CheckpointStoreOptions.faultHook). */
export type FaultPoint =
  | 'state-temp-half'
  | 'state-temp-written'
  | 'state-renamed'
  | 'manifest-temp-written'
  | 'manifest-renamed'
  | 'compaction-snapshot-written'
  | 'compaction-manifest-renamed';

export interface CheckpointStoreOptions {
  /**
   * Compact (fold the deltas into a new snapshot) when the deltas' total size exceeds the snapshot's
   * size times this factor (default 2) and `minCompactBytes`, or when there are `maxDeltas` deltas.
   */
  readonly compactRatio?: number;
  /** Do not compact for less than this many delta bytes (default 1 MiB). */
  readonly minCompactBytes?: number;
  /** Compact when this many deltas accumulate, whatever their size (default 100). */
  readonly maxDeltas?: number;
  /** Entries folded between yields to the event loop during compaction (default 20,000). */
  readonly yieldEvery?: number;
  readonly logger?: Logger;
  /** Test seam: called at points inside commit/compaction where a crash test may kill the process. */
  readonly faultHook?: (point: FaultPoint) => void;
}

export interface CheckpointStoreStats {
  readonly commits: number;
  /** Compactions started / completed. */
  readonly compactionsStarted: number;
  readonly compactions: number;
  readonly snapshotBytes: number;
  readonly deltaBytes: number;
  readonly deltas: number;
}

const STATE_FILE = /^(snapshot|delta)-\d+\.fnck$/;

/**
 * A `CheckpointStore` of checksummed snapshot and delta files published by a manifest, over any
 * `CheckpointStorage` (a local directory: `FileCheckpointStore`; an S3 prefix: adapters/shared-state).
 *
 * `commit` writes the checkpoint's entries as a delta (`storage.writeAtomic`), then atomically
 * replaces MANIFEST to name it: the checkpoint exists exactly when the manifest names it (the
 * storage's read-after-write ordering makes every file a visible manifest names readable). `recover`
 * verifies the manifest and every file it names (magic, version, lengths, CRC32) and folds the deltas
 * onto the snapshot into fresh maps, so it either returns the whole state or throws
 * CHECKPOINT_CORRUPT / CHECKPOINT_VERSION naming the object; it also deletes temp files and state
 * files no manifest names. Compaction runs in the background after a commit (reads and writes are
 * async and folding yields to the event loop every `yieldEvery` entries), writes a snapshot equal to
 * the fold of the files it read, publishes it by a manifest that keeps the deltas committed meanwhile,
 * then removes the folded files.
 *
 * Threading: `commit` is never called concurrently with itself (the runtime's rule); manifest
 * replacements by commit and compaction are serialized internally. One writer per storage:
 * `recover`/`commit` take the storage's writer guard (`acquireWriter`: a LOCK file, an S3 lease) and
 * `close` releases it. `peek` takes no guard and modifies nothing (a peer instance reading this
 * store's last checkpoint).
 */
export class ManifestCheckpointStore implements CheckpointStore {
  private readonly opts: Required<Omit<CheckpointStoreOptions, 'logger' | 'faultHook'>>;
  private manifest: Manifest | null = null;
  private loaded = false;
  private manifestLock: Promise<unknown> = Promise.resolve();
  private compaction: Promise<void> | null = null;
  private closing = false;
  private commits = 0;
  private compactions = 0;
  private compactionsStarted = 0;
  private guard: WriterGuard | null = null;

  constructor(
    readonly storage: CheckpointStorage,
    private readonly options: CheckpointStoreOptions = {},
  ) {
    this.opts = {
      compactRatio: options.compactRatio ?? 2,
      minCompactBytes: options.minCompactBytes ?? 1 << 20,
      maxDeltas: options.maxDeltas ?? 100,
      yieldEvery: options.yieldEvery ?? 20_000,
    };
  }

  stats(): CheckpointStoreStats {
    const m = this.manifest;
    return {
      commits: this.commits,
      compactionsStarted: this.compactionsStarted,
      compactions: this.compactions,
      snapshotBytes: m?.snapshot?.bytes ?? 0,
      deltaBytes: m ? m.deltas.reduce((s, d) => s + d.bytes, 0) : 0,
      deltas: m?.deltas.length ?? 0,
    };
  }

  /** Resolves when no compaction is running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.compaction) await this.compaction;
  }

  async recover(): Promise<RecoveredState | null> {
    await this.openForWriting();
    await this.removeGarbage();
    const m = this.manifest;
    if (!m) return null;
    return recovered(await this.fold(m.snapshot, m.deltas, false));
  }

  /**
   * Reads the last complete checkpoint of a storage another process may be writing (a peer
   * instance's store): no guard is taken and nothing is deleted. A file the manifest named can vanish
   * under a concurrent compaction; the read then starts over from the new manifest (up to `attempts`
   * times). The manifest itself may read torn while its writer replaces it on a storage whose
   * replacement is not atomic to readers (s3rver's is not; S3's and a directory's rename are): a
   * manifest that does not verify is read again, after 20, 40, ... ms, and refused (CHECKPOINT_CORRUPT)
   * only when it still does not on the last attempt. Verification is the same as `recover`'s: the
   * whole state or CHECKPOINT_CORRUPT.
   */
  async peek(attempts = 5): Promise<RecoveredState | null> {
    for (let attempt = 1; ; attempt++) {
      let m: Manifest | null;
      try {
        m = await this.readManifest();
      } catch (e) {
        if (attempt >= attempts || !(e instanceof FenestraError && e.code === 'CHECKPOINT_CORRUPT')) throw e;
        await new Promise((r) => setTimeout(r, 20 * attempt));
        continue;
      }
      if (!m) return null;
      try {
        return recovered(await this.fold(m.snapshot, m.deltas, false));
      } catch (e) {
        const again = await this.readManifest().catch(() => null);
        if (attempt >= attempts || again === null || (again.id === m.id && sameFiles(again, m))) throw e;
      }
    }
  }

  async commit(data: CheckpointData): Promise<void> {
    if (!this.loaded) await this.openForWriting();
    const prev = this.manifest;
    if (prev && data.id <= prev.id) {
      throw new Error(`checkpoint id ${data.id} is not greater than the last committed id ${prev.id}`);
    }
    const w = new StateFileWriter();
    for (const e of data.entries) w.add(e.group, e.key, e.value);
    const payload = w.finish({
      type: 'delta',
      id: data.id,
      createdAt: data.createdAt,
      positions: data.positions,
      offlineFiles: data.offlineFiles,
      meta: data.meta,
    });
    const name = stateFileName('delta', data.id);
    const hook = this.options.faultHook;
    const onPhase = hook ? (p: WritePhase) => hook(p === 'half' ? 'state-temp-half' : 'state-temp-written') : undefined;
    const bytes = await this.storage.writeAtomic(name, frame(FrameKind.State, payload), onPhase ? { onPhase } : {});
    hook?.('state-renamed');
    await this.withManifestLock(async () => {
      const cur = this.manifest;
      const next: Manifest = {
        id: data.id,
        snapshot: cur?.snapshot ?? null,
        deltas: [...(cur?.deltas ?? []), { file: name, id: data.id, bytes }],
      };
      await this.writeManifest(next);
    });
    this.commits++;
    this.maybeCompact();
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.idle();
    const g = this.guard;
    this.guard = null;
    await g?.release();
  }

  /** Starts a compaction now if none is running (normally triggered by size after a commit). */
  compactNow(): Promise<void> {
    if (!this.compaction) this.startCompaction();
    return this.idle();
  }

  // --- internals -----------------------------------------------------------------------

  /** Takes the storage's writer guard (a LOCK file, an S3 lease) and reads the current manifest. */
  private async openForWriting(): Promise<void> {
    this.guard ??= await this.storage.acquireWriter();
    this.manifest = await this.readManifest();
    this.loaded = true;
  }

  private maybeCompact(): void {
    const m = this.manifest;
    if (!m || this.compaction || this.closing || m.deltas.length === 0) return;
    const deltaBytes = m.deltas.reduce((s, d) => s + d.bytes, 0);
    const snapBytes = m.snapshot?.bytes ?? 0;
    const bySize = deltaBytes >= this.opts.minCompactBytes && deltaBytes > snapBytes * this.opts.compactRatio;
    if (bySize || m.deltas.length >= this.opts.maxDeltas) this.startCompaction();
  }

  private startCompaction(): void {
    this.compactionsStarted++;
    const p = this.compact()
      .catch((e: unknown) => {
        // The previous snapshot and deltas stay valid; the next commit retries.
        this.options.logger?.error({ err: e }, 'checkpoint compaction failed');
      })
      .finally(() => {
        if (this.compaction === p) this.compaction = null;
      });
    this.compaction = p;
  }

  private async compact(): Promise<void> {
    const m = this.manifest;
    if (!m || m.deltas.length === 0) return;
    const started = Date.now();
    const folded = await this.fold(m.snapshot, m.deltas, true);
    const header = folded.header;
    if (this.closing) return;
    const w = new StateFileWriter();
    let n = 0;
    for (const [group, key, value] of folded.raw()) {
      w.addLatin1Key(group, key, value);
      if (++n % this.opts.yieldEvery === 0) await yieldToLoop();
    }
    const payload = w.finish({
      type: 'snapshot',
      id: header.id,
      createdAt: header.createdAt,
      positions: header.positions,
      offlineFiles: header.offlineFiles,
      meta: header.meta,
    });
    const name = stateFileName('snapshot', header.id);
    const bytes = await this.storage.writeAtomic(name, frame(FrameKind.State, payload), { background: true });
    this.options.faultHook?.('compaction-snapshot-written');
    const foldedFiles = new Set([...(m.snapshot ? [m.snapshot.file] : []), ...m.deltas.map((d) => d.file)]);
    await this.withManifestLock(async () => {
      const cur = this.manifest!;
      const next: Manifest = {
        id: cur.id,
        snapshot: { file: name, id: header.id, bytes },
        deltas: cur.deltas.filter((d) => d.id > header.id),
      };
      await this.writeManifest(next);
    });
    this.options.faultHook?.('compaction-manifest-renamed');
    for (const f of foldedFiles) {
      if (f !== name) await this.storage.remove(f).catch(() => undefined);
    }
    this.compactions++;
    this.options.logger?.debug({ id: header.id, entries: n, bytes, ms: Date.now() - started }, 'checkpoint compacted');
  }

  private withManifestLock<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.manifestLock.then(fn, fn);
    this.manifestLock = run.catch(() => undefined);
    return run;
  }

  private async writeManifest(m: Manifest): Promise<void> {
    const hook = this.options.faultHook;
    const onPhase = hook ? (p: WritePhase) => p === 'written' && hook('manifest-temp-written') : undefined;
    await this.storage.writeAtomic(MANIFEST_NAME, frame(FrameKind.Manifest, [encodeManifest(m)]), { publishes: true, ...(onPhase ? { onPhase } : {}) });
    this.manifest = m;
    hook?.('manifest-renamed');
  }

  private async readManifest(): Promise<Manifest | null> {
    const buf = await this.storage.read(MANIFEST_NAME);
    return buf === null ? null : decodeManifest(buf, this.storage.describe(MANIFEST_NAME));
  }

  /** Deletes temp files and state files the manifest does not name (crash leftovers, folded files). */
  private async removeGarbage(): Promise<void> {
    const keep = new Set<string>([MANIFEST_NAME]);
    if (this.manifest?.snapshot) keep.add(this.manifest.snapshot.file);
    for (const d of this.manifest?.deltas ?? []) keep.add(d.file);
    for (const f of await this.storage.list()) {
      if (keep.has(f)) continue;
      if (f.endsWith('.tmp') || STATE_FILE.test(f)) await this.storage.remove(f).catch(() => undefined);
    }
  }

  private async readStateFile(mf: ManifestFile): Promise<LoadedStateFile> {
    const path = this.storage.describe(mf.file);
    const buf = await this.storage.read(mf.file);
    if (buf === null) throw new FenestraError('CHECKPOINT_CORRUPT', `checkpoint file ${path} named by the manifest is missing`, { path });
    const payload = unframe(buf, FrameKind.State, path);
    const parsed = parseStateFile(payload, path);
    if (parsed.header.id !== mf.id) {
      throw new FenestraError('CHECKPOINT_CORRUPT', `checkpoint file ${path} holds checkpoint ${parsed.header.id}, the manifest says ${mf.id}`, { path });
    }
    return { name: path, header: parsed.header, payload, entriesAt: parsed.entriesAt };
  }

  /**
   * Reads and verifies the snapshot and deltas and folds them (newest first) into an index of
   * references into their buffers (core/checkpoint/fold.ts); any error discards the whole fold.
   */
  private async fold(snapshot: ManifestFile | null, deltas: readonly ManifestFile[], yielding: boolean): Promise<FoldIndex> {
    const files: LoadedStateFile[] = [];
    for (const mf of [...(snapshot ? [snapshot] : []), ...deltas]) files.push(await this.readStateFile(mf));
    const where = this.storage.location;
    if (files.length === 0) throw new FenestraError('CHECKPOINT_CORRUPT', `checkpoint manifest in ${where} names no files`, { path: where });
    return new FoldIndex(files).build(this.opts.yieldEvery, yielding ? () => yieldToLoop() : undefined);
  }
}

function recovered(folded: FoldIndex): RecoveredState {
  const h = folded.header;
  return { id: h.id, positions: h.positions, offlineFiles: h.offlineFiles, meta: h.meta, entries: () => folded.entries() };
}

function sameFiles(a: Manifest, b: Manifest): boolean {
  return a.snapshot?.file === b.snapshot?.file && a.deltas.length === b.deltas.length && a.deltas.every((d, i) => d.file === b.deltas[i]!.file);
}
