import type { StagedFile } from '../contracts/offline-store.js';
import type { StoredWrite } from '../stored/record.js';

/**
 * How the runtime drives offline (history) output so that it is exactly-once with checkpoints.
 * The offline engineer implements it over an OfflineStore.
 *
 * Ordering: `onApplied` is called synchronously for every applied event, in apply order; `cut` is
 * called synchronously at a checkpoint's cut and returns a token for exactly the rows received
 * before it; `stage(token, id)` writes them as staged files (invisible) listed in checkpoint `id`;
 * `commit(files)` runs after that checkpoint is durable. On start, `recover(files)` gets the files
 * listed by the last checkpoint (re-commit them, delete other staged files). Calls other than
 * `onApplied` are serialized by the runtime.
 */
export interface OfflineHook {
  recover(files: readonly StagedFile[]): Promise<void>;
  onApplied(group: string, key: string, ts: number, event: Readonly<Record<string, unknown>>, version: number): void;
  /**
   * Optional: an accepted write to a stored group (core/stored's StoredWriter calls it synchronously,
   * in apply order, before the checkpoint that makes the write durable is cut). Its row belongs to
   * the next `cut`, like `onApplied`'s.
   */
  onStored?(group: string, write: StoredWrite): void;
  cut(): unknown;
  stage(token: unknown, checkpointId: number): Promise<readonly StagedFile[]>;
  commit(files: readonly StagedFile[]): Promise<void>;
  close(): Promise<void>;
}
