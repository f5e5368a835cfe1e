import { DirectoryCheckpointStorage } from './directory-storage.js';
import { type CheckpointStoreOptions, ManifestCheckpointStore } from './manifest-store.js';

export type { CheckpointStoreStats } from './manifest-store.js';

export interface FileCheckpointStoreOptions extends CheckpointStoreOptions {
  /** Directory holding MANIFEST, snapshot-*.fnck and delta-*.fnck (created if missing). */
  readonly dir: string;
}

/**
 * A `CheckpointStore` on local disk: the manifest-published snapshot and delta files of
 * `ManifestCheckpointStore` (core/checkpoint/manifest-store.ts) in a directory
 * (`DirectoryCheckpointStorage`): each file is written to a temp name, fsynced, renamed and the
 * directory fsynced, so the checkpoint exists exactly when MANIFEST names it. One process per
 * directory: `recover`/`commit` take a `LOCK` file (pid) and refuse with STATE_LOCKED while another
 * live process holds it; `close` releases it (a crashed owner's lock is taken over). `peek` reads a
 * peer's directory without the lock.
 */
export class FileCheckpointStore extends ManifestCheckpointStore {
  constructor(options: FileCheckpointStoreOptions) {
    super(new DirectoryCheckpointStorage(options.dir), options);
  }
}
