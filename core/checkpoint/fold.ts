import type { CheckpointEntry } from '../contracts/checkpoint-store.js';
import { corruptError } from './frame.js';
import { DELETED, type StateFileHeader } from './state-file.js';

/** A reference is `file index · 2^32 + entry offset`; a deletion is `-1 − file index`. */
const FILE_SHIFT = 2 ** 32;

function ownerOf(ref: number): number {
  return ref >= 0 ? Math.floor(ref / FILE_SHIFT) : -1 - ref;
}

/** One verified state-file payload and its parsed header (see state-file.ts for the layout). */
export interface LoadedStateFile {
  readonly name: string;
  readonly header: StateFileHeader;
  readonly payload: Buffer;
  /** Offset of the first entry (after the header). */
  readonly entriesAt: number;
}

/**
 * The fold of a snapshot and its deltas (the live state of a checkpoint), kept as references into the
 * files' buffers rather than as objects: per group, entity key → (file, entry offset). Files are
 * folded newest first, so each key is decided by the first file that names it and older entries of
 * the same key cost one map lookup; keys are held as latin1 strings of their UTF-8 bytes (a cheap,
 * exact 1:1 image of the bytes), decoded to text only when `entries()` hands them out.
 */
export class FoldIndex {
  private readonly groups = new Map<string, Map<string, number>>();
  private readonly files: LoadedStateFile[];

  /** `files` oldest first (the snapshot, then the deltas in commit order). */
  constructor(files: readonly LoadedStateFile[]) {
    this.files = [...files];
  }

  /** The newest file's header (id, positions, offline files, meta). */
  get header(): StateFileHeader {
    return this.files[this.files.length - 1]!.header;
  }

  /**
   * Indexes every file, newest first, verifying each entry's framing (CHECKPOINT_CORRUPT naming the
   * file on any structural error). `onProgress(n)` runs every `every` entries (to yield to the loop).
   */
  async build(every = 0, onProgress?: () => Promise<void>): Promise<this> {
    let n = 0;
    for (let f = this.files.length - 1; f >= 0; f--) {
      const { name, header, payload, entriesAt } = this.files[f]!;
      const maps = header.groups.map((g) => {
        let m = this.groups.get(g);
        if (!m) this.groups.set(g, (m = new Map()));
        return m;
      });
      let at = entriesAt;
      const end = payload.byteLength;
      for (let i = 0; i < header.count; i++) {
        const start = at;
        if (at + 10 > end) throw corruptError(name, `entry ${i} runs past the end`);
        const g = payload.readUInt16LE(at);
        const keyLen = payload.readUInt32LE(at + 2);
        at += 6;
        if (at + keyLen + 4 > end) throw corruptError(name, `entry ${i} key runs past the end`);
        const key = payload.toString('latin1', at, at + keyLen);
        at += keyLen;
        const vlen = payload.readUInt32LE(at);
        at += 4;
        const m = maps[g];
        if (m === undefined) throw corruptError(name, `entry ${i} names group #${g}, which the header lacks`);
        if (vlen !== DELETED) {
          if (at + vlen > end) throw corruptError(name, `entry ${i} value runs past the end`);
          at += vlen;
        }
        // A newer file decided the key already; within one file the later entry wins.
        const had = m.get(key);
        if (had === undefined || ownerOf(had) === f) m.set(key, vlen === DELETED ? -1 - f : f * FILE_SHIFT + start);
        if (onProgress !== undefined && ++n % every === 0) await onProgress();
      }
      if (at !== end) throw corruptError(name, `${end - at} trailing bytes after ${header.count} entries`);
    }
    return this;
  }

  /** Live entries (deletions left out): group, key bytes as a latin1 string, the value's bytes. */
  *raw(): Generator<[group: string, keyLatin1: string, value: Uint8Array]> {
    for (const [group, m] of this.groups) {
      for (const [key, ref] of m) {
        if (ref < 0) continue;
        const file = this.files[Math.floor(ref / FILE_SHIFT)]!;
        const p = file.payload;
        let at = ref % FILE_SHIFT;
        const keyLen = p.readUInt32LE(at + 2);
        at += 6 + keyLen;
        const vlen = p.readUInt32LE(at);
        yield [group, key, p.subarray(at + 4, at + 4 + vlen)];
      }
    }
  }

  /** Live entries as the CheckpointStore contract gives them (keys decoded from UTF-8). */
  *entries(): Generator<CheckpointEntry> {
    for (const [group, key, value] of this.raw()) yield { group, key: Buffer.from(key, 'latin1').toString('utf8'), value };
  }
}
