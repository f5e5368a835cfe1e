/**
 * One entity's raw state as ONE flat JS array (no object per event, no object per entity):
 *
 *   [newestTs, version, n, ts0, f0_0, f0_1, ..., ts1, f1_0, ...,  (spare capacity)]
 *
 * Events are kept sorted by (event time, arrival): an event is inserted after every event with an
 * equal or smaller time, so array order breaks event-time ties by arrival and no arrival sequence
 * needs storing. For groups whose raw fields are all numeric the array holds only doubles, which V8
 * stores unboxed (8 bytes per slot). Numeric fields use NaN for "absent"; string fields use null.
 * Not thread-safe (nothing in Node needs it to be); callers must keep the returned array, since
 * growing reallocates.
 */
export type RawValue = number | string | null;
export type RawArr = RawValue[];

export const H_NEWEST = 0;
export const H_VERSION = 1;
export const H_COUNT = 2;
export const HEAD = 3;

/** Largest array `new Array(n)` gives fast (non-dictionary) elements for; beyond it we grow by push. */
const EXACT_ALLOC_LIMIT = 4096;

export function newRaw(stride: number, capacityEvents: number): RawArr {
  const a = allocArray(HEAD + stride * capacityEvents);
  a[H_NEWEST] = -Infinity;
  a[H_VERSION] = 0;
  a[H_COUNT] = 0;
  return a;
}

function allocArray(len: number): RawArr {
  if (len <= EXACT_ALLOC_LIMIT) return new Array<RawValue>(len);
  const a: RawArr = [];
  for (let i = 0; i < len; i++) a.push(0);
  return a;
}

export function rawCount(a: RawArr): number {
  return a[H_COUNT] as number;
}

export function capacityEvents(a: RawArr, stride: number): number {
  return ((a.length - HEAD) / stride) | 0;
}

/** Copies the header and events into an array with room for `cap` events. */
function resize(a: RawArr, stride: number, cap: number): RawArr {
  const used = HEAD + rawCount(a) * stride;
  const b = allocArray(HEAD + cap * stride);
  for (let i = 0; i < used; i++) b[i] = a[i]!;
  return b;
}

/** Index (event number) of the first event whose time is > ts (upper bound). */
export function upperBound(a: RawArr, stride: number, ts: number): number {
  let lo = 0;
  let hi = rawCount(a);
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[HEAD + mid * stride] as number) <= ts) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first event whose time is >= ts (lower bound). */
export function lowerBound(a: RawArr, stride: number, ts: number): number {
  let lo = 0;
  let hi = rawCount(a);
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[HEAD + mid * stride] as number) < ts) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Inserts an event after every event with time <= ts. `values` has stride-1 entries.
 * Returns the (possibly reallocated) array.
 */
export function insertEvent(a: RawArr, stride: number, ts: number, values: readonly RawValue[]): RawArr {
  const n = rawCount(a);
  if (n >= capacityEvents(a, stride)) a = resize(a, stride, n < 3 ? n + 1 : n + (n >> 1) + 1);
  let pos = n;
  if (n > 0 && (a[HEAD + (n - 1) * stride] as number) > ts) {
    pos = upperBound(a, stride, ts);
    // shift [pos, n) right by one record
    for (let i = HEAD + n * stride - 1, end = HEAD + pos * stride; i >= end; i--) a[i + stride] = a[i]!;
  }
  const o = HEAD + pos * stride;
  a[o] = ts;
  for (let j = 1; j < stride; j++) a[o + j] = values[j - 1]!;
  a[H_COUNT] = n + 1;
  return a;
}

/** Removes the first k events; shrinks the array when it is mostly empty. Returns the array to keep. */
export function dropFront(a: RawArr, stride: number, k: number): RawArr {
  const n = rawCount(a);
  const rest = n - k;
  const from = HEAD + k * stride;
  const len = rest * stride;
  for (let i = 0; i < len; i++) a[HEAD + i] = a[from + i]!;
  a[H_COUNT] = rest;
  const cap = capacityEvents(a, stride);
  if (cap > 8 && cap > rest * 4) return resize(a, stride, rest + (rest >> 1) + 1);
  return a;
}

/** A copy holding exactly the header and the events (used by decode and tests). */
export function compact(a: RawArr, stride: number): RawArr {
  return resize(a, stride, rawCount(a));
}
