/**
 * One entity's whole window state as ONE flat JS array (no object per event, no object per entity,
 * no second structure for tiles), so that an update or an encode touches as little memory as
 * possible:
 *
 *   [newest, version, counters…, lifetime partial…,                        (header)
 *    tiles of set 0 …, tiles of set 1 …,                                    (records [start, partial…])
 *    raw events …,                                                          (records [ts, field0, …])
 *    spare capacity]
 *
 * Counters (number of raw events, the number of tiles of each set, then the dirty epoch) are packed
 * two per slot (26 bits each: up to 67M raw events or tiles per set), to keep small entities small;
 * the dirty lane holds an epoch (see `dirtyEpoch`);
 * the header geometry is precomputed in the compiled layout (`g.head`, `g.lifeAt`).
 * Raw events are sorted by (event time, arrival): an event is inserted after every event with an
 * equal or smaller time, so array order breaks ties by arrival and no arrival number is stored.
 * Tiles of a set are sorted by start. For groups whose fields are numeric and that have no
 * count_distinct, the array holds only doubles, which V8 stores unboxed (8 bytes per slot).
 * Numeric fields use NaN for "absent"; string fields use null. Not thread-safe; operations that
 * grow the array return the array to keep.
 *
 * Lanes are read with floor division, never `%`: the slots hold doubles beyond int32, and a double
 * `%` is a call into the C library in V8.
 */
import { FenestraError } from '../errors.js';
import { H_COUNTERS, H_NEWEST, H_VERSION, type CompiledGroup } from './layout.js';
import { initPartial, type Cells } from './partial.js';

export { H_NEWEST, H_VERSION } from './layout.js';

export type RawValue = number | string | null;

const LANE = 67_108_864; // 2^26

function counter(a: Cells, c: number): number {
  const x = a[H_COUNTERS + (c >> 1)] as number;
  const hi = Math.floor(x / LANE);
  return (c & 1) === 0 ? x - hi * LANE : hi;
}

function setCounter(a: Cells, c: number, v: number): void {
  if (v >= LANE) throw new FenestraError('INTERNAL', `an entity holds more than ${LANE - 1} raw events or tiles of one precision`);
  const slot = H_COUNTERS + (c >> 1);
  const x = a[slot] as number;
  const hi = Math.floor(x / LANE);
  a[slot] = (c & 1) === 0 ? hi * LANE + v : x - hi * LANE + v * LANE;
}

/** Largest array `new Array(n)` reliably gives fast elements for; beyond it we grow by push. */
const EXACT_ALLOC_LIMIT = 4096;

export function allocArray(len: number): Cells {
  if (len <= EXACT_ALLOC_LIMIT) return new Array<RawValue>(len);
  const a: Cells = [];
  for (let i = 0; i < len; i++) a.push(0);
  return a;
}

export function rawCount(a: Cells): number {
  return counter(a, 0);
}

export function setRawCount(a: Cells, n: number): void {
  setCounter(a, 0, n);
}

export function tileCount(a: Cells, i: number): number {
  return counter(a, i + 1);
}

export function setTileCount(a: Cells, i: number, v: number): void {
  setCounter(a, i + 1, v);
}

/**
 * The dirty lane holds the `drainDirty` epoch in which the entity last changed (0: none), so that a
 * drain need not touch the entities it drains: they are clean once the epoch moves on.
 */
export function dirtyEpoch(g: CompiledGroup, a: Cells): number {
  return counter(a, g.tileSets.length + 1);
}

export function setDirtyEpoch(g: CompiledGroup, a: Cells, epoch: number): void {
  setCounter(a, g.tileSets.length + 1, epoch);
}

/** Epochs run from 1 to MAX_EPOCH; then every entity's lane is reset to 0 and they start over. */
export const MAX_EPOCH = LANE - 1;

/** Offset of the first tile of set i. */
export function tilesAt(g: CompiledGroup, a: Cells, i: number): number {
  let o = g.head;
  for (let j = 0; j < i; j++) o += counter(a, j + 1) * g.tileSets[j]!.stride;
  return o;
}

/** Offset of the first raw event. */
export function rawAt(g: CompiledGroup, a: Cells): number {
  return tilesAt(g, a, g.tileSets.length);
}

/** Number of slots in use. */
export function usedLength(g: CompiledGroup, a: Cells): number {
  return rawAt(g, a) + rawCount(a) * g.stride;
}

export function newEntity(g: CompiledGroup, capacityEvents: number): Cells {
  const a = allocArray(g.head + g.stride * capacityEvents);
  a[H_NEWEST] = -Infinity;
  a[H_VERSION] = 0;
  for (let c = H_COUNTERS; c < g.lifeAt; c++) a[c] = 0;
  if (g.life) initPartial(a, g.lifeAt, g.life);
  return a;
}

/** A copy with room for `capacity` slots. */
function resize(a: Cells, used: number, capacity: number): Cells {
  const b = allocArray(capacity);
  for (let i = 0; i < used; i++) b[i] = a[i]!;
  return b;
}

/** Capacity for `need` slots: exact while small, then about 1.5×. */
function grown(need: number): number {
  return need <= 12 ? need : need + (need >> 1);
}

/** Ensures room for `extra` more slots beyond `used` (the slots in use). Returns the array to keep. */
export function ensureRoom(a: Cells, used: number, extra: number): Cells {
  const need = used + extra;
  return need <= a.length ? a : resize(a, used, grown(need));
}

/** Shrinks the array when it is mostly empty. */
export function trim(g: CompiledGroup, a: Cells): Cells {
  if (a.length <= 64) return a;
  const used = usedLength(g, a);
  if (a.length > used * 3) return resize(a, used, used + (used >> 1));
  return a;
}

/** First event index in [0, n) whose time is > ts. */
export function upperBound(a: Cells, base: number, stride: number, n: number, ts: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[base + mid * stride] as number) <= ts) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First event index in [0, n) whose time is >= ts. */
export function lowerBound(a: Cells, base: number, stride: number, n: number, ts: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[base + mid * stride] as number) < ts) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Inserts a raw event after every event with time <= ts. Returns the array to keep. */
export function insertEvent(g: CompiledGroup, a: Cells, ts: number, values: readonly RawValue[]): Cells {
  const stride = g.stride;
  const base = rawAt(g, a);
  const n = rawCount(a);
  const end = base + n * stride;
  a = ensureRoom(a, end, stride);
  let o = end;
  if (n > 0 && (a[end - stride] as number) > ts) {
    o = base + upperBound(a, base, stride, n, ts) * stride;
    for (let i = end - 1; i >= o; i--) a[i + stride] = a[i]!;
  }
  a[o] = ts;
  for (let j = 1; j < stride; j++) a[o + j] = values[j - 1]!;
  setCounter(a, 0, n + 1);
  return a;
}

/** Removes the first k raw events. */
export function dropRawFront(g: CompiledGroup, a: Cells, k: number): void {
  const base = rawAt(g, a);
  const stride = g.stride;
  const n = rawCount(a);
  const len = (n - k) * stride;
  const from = base + k * stride;
  for (let i = 0; i < len; i++) a[base + i] = a[from + i]!;
  setCounter(a, 0, n - k);
}

/** Removes the first k tiles of set i (shifting the later sections). */
export function removeTilesFront(g: CompiledGroup, a: Cells, i: number, k: number): void {
  const s = g.tileSets[i]!.stride;
  const at = tilesAt(g, a, i);
  const used = usedLength(g, a);
  const gap = k * s;
  for (let j = at + gap; j < used; j++) a[j - gap] = a[j]!;
  setCounter(a, i + 1, tileCount(a, i) - k);
}
