/**
 * Rows grouped by entity, each entity's rows in event-time order (ties keep input order): the order
 * the replay join works in. Entities are independent (an entity's features depend on its own events
 * only), so replaying entity by entity applies every entity's events in the same order as one pass
 * over all events in time order would, with one entity's state in cache at a time. O(n) for input
 * already in time order (a counting sort by entity); an entity whose rows are not in time order is
 * sorted on its own (insertion sort when nearly sorted, else a comparison sort).
 */

export interface EntityOrder {
  /** Row indices, grouped by entity id; within an entity ascending by (time, row). */
  readonly rows: Uint32Array;
  /** The rows' times, in the same order. */
  readonly times: Float64Array;
  /** Entity k's rows are `rows[start[k] .. start[k + 1])`; `entities + 1` long. */
  readonly start: Uint32Array;
}

/** Entity ids of `keys` (new keys are added to `ids` and `dict` in order of first appearance). */
export function entityIds(keys: ArrayLike<string>, rows: number, ids: Map<string, number>, dict: string[]): Int32Array {
  const out = new Int32Array(rows);
  let prevKey: string | undefined;
  let prevId = -1;
  for (let i = 0; i < rows; i++) {
    const k = keys[i]!;
    if (k === prevKey) {
      out[i] = prevId;
      continue;
    }
    let id = ids.get(k);
    if (id === undefined) {
      id = dict.length;
      ids.set(k, id);
      dict.push(k);
    }
    out[i] = prevId = id;
    prevKey = k;
  }
  return out;
}

export function orderByEntity(ids: Int32Array, times: ArrayLike<number>, entities: number): EntityOrder {
  const n = ids.length;
  const start = new Uint32Array(entities + 1);
  for (let i = 0; i < n; i++) start[ids[i]! + 1]!++;
  for (let k = 0; k < entities; k++) start[k + 1]! += start[k]!;
  const fill = start.slice(0, entities);
  const rows = new Uint32Array(n);
  const ts = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const j = fill[ids[i]!]!++;
    rows[j] = i;
    ts[j] = times[i]!;
  }
  for (let k = 0; k < entities; k++) sortSegment(rows, ts, start[k]!, start[k + 1]!);
  return { rows, times: ts, start };
}

/**
 * Sorts rows[s..e) by (ts, row) in place, keeping ts in step. Rows arrive ascending, so a stable
 * sort by time is a sort by (time, row).
 */
function sortSegment(rows: Uint32Array, ts: Float64Array, s: number, e: number): void {
  let j = s + 1;
  while (j < e && ts[j - 1]! <= ts[j]!) j++;
  if (j >= e) return;
  // insertion sort while it stays cheap (nearly sorted input), else a comparison sort
  let budget = 8 * (e - s) + 1024;
  for (; j < e; j++) {
    const t = ts[j]!;
    const r = rows[j]!;
    let i = j - 1;
    while (i >= s && ts[i]! > t) {
      ts[i + 1] = ts[i]!;
      rows[i + 1] = rows[i]!;
      i--;
      if (--budget < 0) break;
    }
    ts[i + 1] = t;
    rows[i + 1] = r;
    if (budget < 0) {
      const pairs = Array.from(rows.subarray(s, e), (row, x) => [ts[s + x]!, row] as const);
      pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      pairs.forEach(([t2, row], x) => {
        ts[s + x] = t2;
        rows[s + x] = row;
      });
      return;
    }
  }
}
