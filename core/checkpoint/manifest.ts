import { FenestraError } from '../errors.js';
import { corruptError, FrameKind, unframe } from './frame.js';

/** One state file the manifest names. */
export interface ManifestFile {
  readonly file: string;
  readonly id: number;
  readonly bytes: number;
}

/**
 * The manifest (`MANIFEST`, framed like every checkpoint file, replaced by atomic rename) names
 * the last complete checkpoint: an optional snapshot and the deltas after it, in id order. A
 * state file no manifest names is garbage (a crash between writing it and publishing it).
 */
export interface Manifest {
  readonly id: number;
  readonly snapshot: ManifestFile | null;
  readonly deltas: readonly ManifestFile[];
}

export const MANIFEST_NAME = 'MANIFEST';

export function encodeManifest(m: Manifest): Buffer {
  return Buffer.from(JSON.stringify(m), 'utf8');
}

export function decodeManifest(buf: Buffer, file: string): Manifest {
  const payload = unframe(buf, FrameKind.Manifest, file);
  let m: Manifest;
  try {
    m = JSON.parse(payload.toString('utf8')) as Manifest;
  } catch (e) {
    throw corruptError(file, `manifest is not JSON (${(e as Error).message})`);
  }
  if (typeof m.id !== 'number' || !Array.isArray(m.deltas) || (m.snapshot !== null && typeof m.snapshot?.file !== 'string')) {
    throw new FenestraError('CHECKPOINT_CORRUPT', `checkpoint manifest ${file} lacks id/snapshot/deltas`, { path: file });
  }
  return m;
}

export function stateFileName(type: 'snapshot' | 'delta', id: number): string {
  return `${type}-${String(id).padStart(12, '0')}.fnck`;
}
