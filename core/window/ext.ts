/**
 * The folded part of an entity's state, allocated only once an entity has events old enough to
 * leave the raw buffer: one flat tile array per precision (records [start, ...partial], sorted by
 * start, only non-empty tiles) and the lifetime accumulator. Maintenance keeps it in step with the
 * boundaries of `retention.ts` as the entity's newest event time advances.
 */
import type { CompiledGroup } from './layout.js';
import { foldEvent, initPartial, type Cells } from './partial.js';
import { dropFront, HEAD, H_NEWEST, lowerBound, rawCount, type RawArr } from './raw-buffer.js';
import { dropBefore, floorTo, tileFloor } from './retention.js';

export interface Ext {
  readonly tiles: Cells[];
  life: Cells | null;
}

export function newExt(g: CompiledGroup): Ext {
  let life: Cells | null = null;
  if (g.life) {
    life = new Array(g.life.width);
    initPartial(life, 0, g.life);
  }
  return { tiles: g.tileSets.map(() => []), life };
}

/** Whether the ext holds nothing (it can then be dropped). */
export function extEmpty(ext: Ext): boolean {
  if (ext.life && (ext.life[0] as number) > 0) return false;
  for (const t of ext.tiles) if (t.length > 0) return false;
  return true;
}

/** Folds raw events with from <= ts < to into tile set `i` (events in order; tiles after existing ones). */
function foldIntoTiles(g: CompiledGroup, ext: Ext, i: number, raw: RawArr, from: number, to: number): void {
  const layout = g.tileSets[i]!;
  const p = layout.precision;
  const stride = g.stride;
  const tiles = ext.tiles[i]!;
  const n = rawCount(raw);
  for (let e = from === -Infinity ? 0 : lowerBound(raw, stride, from); e < n; e++) {
    const ri = HEAD + e * stride;
    const ts = raw[ri] as number;
    if (ts >= to) break;
    const start = floorTo(ts, p);
    let o = tiles.length - layout.stride;
    if (o < 0 || (tiles[o] as number) !== start) {
      o = tiles.length;
      // push (not a length write) keeps fast elements and reuses the capacity freed by expiry.
      tiles.push(start);
      for (let k = 1; k < layout.stride; k++) tiles.push(0);
      initPartial(tiles, o + 1, layout.partial);
    }
    foldEvent(tiles, o + 1, layout.partial, raw, ri);
  }
}

function expireTiles(ext: Ext, i: number, stride: number, floor: number): void {
  const tiles = ext.tiles[i]!;
  let k = 0;
  while (k < tiles.length && (tiles[k] as number) < floor) k += stride;
  if (k === 0) return;
  // Shift in place; shrinking the length keeps the capacity for the next tiles (no allocation).
  const len = tiles.length - k;
  for (let j = 0; j < len; j++) tiles[j] = tiles[j + k]!;
  tiles.length = len;
}

/** Whether advancing newest from `oldNewest` to the array's newest needs folding or dropping. */
export function needsMaintenance(g: CompiledGroup, raw: RawArr, oldNewest: number): boolean {
  const L = g.allowedLateness;
  const newest = raw[H_NEWEST] as number;
  for (const ts of g.tileSets) {
    if (floorTo(oldNewest - L, ts.precision) !== floorTo(newest - L, ts.precision)) return true;
  }
  return rawCount(raw) > 0 && (raw[HEAD] as number) < dropBefore(g, newest);
}

/**
 * Folds raw events into tiles, expires unreachable tiles, and drops raw events no window needs raw
 * any more (folding them into the lifetime accumulator). Returns the raw array to keep and the ext
 * (created when needed, null when empty).
 */
export function maintain(g: CompiledGroup, raw: RawArr, ext: Ext | null, oldNewest: number): { raw: RawArr; ext: Ext | null } {
  const L = g.allowedLateness;
  const newest = raw[H_NEWEST] as number;
  const stride = g.stride;
  for (let i = 0; i < g.tileSets.length; i++) {
    const ts = g.tileSets[i]!;
    const from = floorTo(oldNewest - L, ts.precision);
    const to = floorTo(newest - L, ts.precision);
    if (to === from) continue;
    if (rawCount(raw) > 0 && (raw[HEAD] as number) < to) {
      ext ??= newExt(g);
      foldIntoTiles(g, ext, i, raw, from, to);
    }
    if (ext) expireTiles(ext, i, ts.stride, tileFloor(ts, newest, L));
  }
  const d = dropBefore(g, newest);
  const n = rawCount(raw);
  if (n > 0 && (raw[HEAD] as number) < d) {
    const k = lowerBound(raw, stride, d);
    if (g.life) {
      ext ??= newExt(g);
      for (let e = 0; e < k; e++) foldEvent(ext.life!, 0, g.life, raw, HEAD + e * stride);
    }
    raw = dropFront(raw, stride, k);
  }
  if (ext && extEmpty(ext)) ext = null;
  return { raw, ext };
}
