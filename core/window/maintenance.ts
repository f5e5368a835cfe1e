/**
 * Keeps an entity's array in step with the retention boundaries of `retention.ts` when its newest
 * event time advances: folds raw events into tiles, drops tiles no window can reach, and drops raw
 * events no window needs raw (folding them into the lifetime accumulator).
 */
import {
  dropRawFront, ensureRoom, H_NEWEST, lowerBound, rawAt, rawCount, removeTilesFront, setTileCount, tileCount, tilesAt, trim,
} from './entity-array.js';
import type { CompiledGroup } from './layout.js';
import { foldEvent, initPartial, type Cells } from './partial.js';
import { dropBefore, floorTo, tileFloor } from './retention.js';

/** Whether advancing newest from `oldNewest` to the array's newest needs folding or dropping. */
export function needsMaintenance(g: CompiledGroup, a: Cells, oldNewest: number): boolean {
  const L = g.allowedLateness;
  const newest = a[H_NEWEST] as number;
  for (const ts of g.tileSets) {
    if (floorTo(oldNewest - L, ts.precision) !== floorTo(newest - L, ts.precision)) return true;
  }
  return rawCount(a) > 0 && (a[rawAt(g, a)] as number) < dropBefore(g, newest);
}

/**
 * Folds raw events with from <= ts < to into tile set i (in order; after the existing tiles).
 * Offsets are tracked here rather than recomputed from the counters for every event and tile.
 */
function foldIntoTiles(g: CompiledGroup, a: Cells, i: number, from: number, to: number): Cells {
  const layout = g.tileSets[i]!;
  const p = layout.precision;
  const s = layout.stride;
  const stride = g.stride;
  let count = tileCount(a, i);
  let end = tilesAt(g, a, i) + count * s; // end of set i
  let base = rawAt(g, a);
  const n = rawCount(a);
  let used = base + n * stride;
  let last = count > 0 ? (a[end - s] as number) : NaN; // start of the set's last tile
  for (let e = from === -Infinity ? 0 : lowerBound(a, base, stride, n, from); e < n; e++) {
    const ts = a[base + e * stride] as number;
    if (ts >= to) break;
    const start = floorTo(ts, p);
    if (start !== last) {
      // A new last tile of set i: shift the later sections up by one tile.
      a = ensureRoom(a, used, s);
      for (let j = used - 1; j >= end; j--) a[j + s] = a[j]!;
      a[end] = start;
      initPartial(a, end + 1, layout.partial);
      count++;
      end += s;
      base += s;
      used += s;
      last = start;
    }
    foldEvent(a, end - s + 1, layout.partial, a, base + e * stride);
  }
  setTileCount(a, i, count);
  return a;
}

function expireTiles(g: CompiledGroup, a: Cells, i: number, floor: number): void {
  const s = g.tileSets[i]!.stride;
  const at = tilesAt(g, a, i);
  const count = tileCount(a, i);
  let k = 0;
  while (k < count && (a[at + k * s] as number) < floor) k++;
  if (k > 0) removeTilesFront(g, a, i, k);
}

/** Runs the maintenance; returns the array to keep (it may be reallocated). */
export function maintain(g: CompiledGroup, a: Cells, oldNewest: number): Cells {
  const L = g.allowedLateness;
  const newest = a[H_NEWEST] as number;
  const stride = g.stride;
  for (let i = 0; i < g.tileSets.length; i++) {
    const ts = g.tileSets[i]!;
    const from = floorTo(oldNewest - L, ts.precision);
    const to = floorTo(newest - L, ts.precision);
    if (to === from) continue;
    if (rawCount(a) > 0 && (a[rawAt(g, a)] as number) < to) a = foldIntoTiles(g, a, i, from, to);
    if (tileCount(a, i) > 0) expireTiles(g, a, i, tileFloor(ts, newest, L));
  }
  const d = dropBefore(g, newest);
  const n = rawCount(a);
  const base = rawAt(g, a);
  if (n > 0 && (a[base] as number) < d) {
    const k = lowerBound(a, base, stride, n, d);
    if (g.life) for (let e = 0; e < k; e++) foldEvent(a, g.lifeAt, g.life, a, base + e * stride);
    dropRawFront(g, a, k);
  }
  return trim(g, a);
}
