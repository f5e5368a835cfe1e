/**
 * Retention boundaries of one entity. Every boundary is a pure function of the entity's newest
 * event time (so encode/restore need not store them) through t0 = newest − allowedLateness, the
 * oldest time any accepted event (and any guaranteed-exact read) can have:
 *
 * - foldedTo(p) = floor_p(t0): events older than it are in tiles of width p; newer ones are raw.
 * - tileFloor(p): tiles starting before it can no longer be reached by a read at t >= t0.
 * - dropBefore: raw events older than it are dropped (into the lifetime accumulator when there is one).
 *
 * Reads at t >= t0 are always answerable exactly; `readableAt` says whether an older t still is.
 */
import type { CompiledGroup, TileSetLayout, WindowPlan } from './layout.js';

export function floorTo(x: number, p: number): number {
  return Math.floor(x / p) * p;
}

export function foldedTo(ts: TileSetLayout, newest: number, lateness: number): number {
  return floorTo(newest - lateness, ts.precision);
}

/** Start of the oldest tile any window of this tile set can reach from a read at t >= t0. */
export function tileFloor(ts: TileSetLayout, newest: number, lateness: number): number {
  const t0 = newest - lateness;
  const p = ts.precision;
  let reach = Infinity;
  for (const w of ts.slidingSizes) reach = Math.min(reach, floorTo(t0 - w, p));
  for (const s of ts.tumblingSizes) reach = Math.min(reach, floorTo(floorTo(t0, s), p));
  return reach;
}

/** Raw events with ts < dropBefore are no longer needed raw (integer event times). */
export function dropBefore(g: CompiledGroup, newest: number): number {
  const t0 = newest - g.allowedLateness;
  let d = t0;
  if (g.maxExactSliding > 0) d = Math.min(d, t0 - g.maxExactSliding + 1);
  for (const s of g.exactTumbling) d = Math.min(d, floorTo(t0, s));
  for (const ts of g.tileSets) d = Math.min(d, floorTo(t0, ts.precision));
  return d;
}

/** Lower edge (inclusive) of a tiled window as of t. */
export function tiledLow(plan: WindowPlan, p: number, t: number): number {
  return plan.kind === 'sliding' ? floorTo(t - plan.size, p) : floorTo(floorTo(t, plan.size), p);
}

/**
 * Whether a read as of t of this plan is exact with the state kept for an entity whose newest event
 * time is `newest`. Always true for t >= newest − allowedLateness.
 */
export function readableAt(g: CompiledGroup, plan: WindowPlan, newest: number, t: number): boolean {
  if (newest === -Infinity) return true;
  const L = g.allowedLateness;
  const d = dropBefore(g, newest);
  if (plan.kind === 'lifetime') return g.includeCurrent ? d - 1 <= t : d - 1 < t;
  if (plan.tileSet < 0) {
    if (plan.kind === 'sliding') return d - 1 <= t - plan.size;
    return d <= floorTo(t, plan.size);
  }
  const ts = g.tileSets[plan.tileSet]!;
  return foldedTo(ts, newest, L) <= t && tiledLow(plan, ts.precision, t) >= tileFloor(ts, newest, L);
}

/**
 * The earliest read time from which this plan's window is empty for good given the newest event
 * (Infinity for lifetime windows).
 */
export function emptyFrom(plan: WindowPlan, g: CompiledGroup, newest: number): number {
  if (plan.kind === 'lifetime') return Infinity;
  if (plan.kind === 'tumbling') {
    const next = floorTo(newest, plan.size) + plan.size;
    if (plan.tileSet < 0) return next;
    const p = g.tileSets[plan.tileSet]!.precision;
    // p divides the size (the documented case): exact. Otherwise the far edge is rounded down by < p.
    return plan.size % p === 0 ? next : next + Math.ceil(p / plan.size) * plan.size;
  }
  if (plan.tileSet < 0) return newest + plan.size;
  const p = g.tileSets[plan.tileSet]!.precision;
  return floorTo(newest, p) + p + plan.size;
}
