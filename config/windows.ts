import type { WindowSpec } from '../core/model.js';
import type { IssueSink } from './issues.js';
import { durationAt, isObject, showDuration } from './values.js';
import { joinPath } from './issues.js';

const HOUR = 3_600_000;
/** Tile widths the default precision picks from, largest first. */
export const PRECISION_STEPS: readonly number[] = [86_400_000, HOUR, 900_000, 300_000, 60_000];

/**
 * Parses `window:`: a duration (`10m`, sliding), `{ sliding: 10m }`, `{ tumbling: 1d }` or `lifetime`.
 * Returns null (after recording an issue) if it is not one.
 */
export function windowAt(value: unknown, path: string, sink: IssueSink): WindowSpec | null {
  if (value === 'lifetime') return { kind: 'lifetime' };
  let kind: 'sliding' | 'tumbling' = 'sliding';
  let sizeValue: unknown = value;
  let sizePath = path;
  if (isObject(value)) {
    if ('tumbling' in value) {
      kind = 'tumbling';
      sizeValue = value.tumbling;
      sizePath = joinPath(path, 'tumbling');
    } else {
      sizeValue = value.sliding;
      sizePath = joinPath(path, 'sliding');
    }
  }
  const size = durationAt(sizeValue, sizePath, sink, -1);
  if (size < 0) return null;
  if (size === 0) {
    sink.add(sizePath, 'a window must be longer than 0');
    return null;
  }
  return { kind, size };
}

/**
 * The default tile width: exact (0) for windows up to 1h; otherwise the largest of 1m, 5m, 15m, 1h,
 * 1d that is at most window/100 (and, for tumbling windows, divides the window); exact if none fits.
 */
export function defaultPrecision(window: WindowSpec): number {
  if (window.kind === 'lifetime' || window.size <= HOUR) return 0;
  for (const step of PRECISION_STEPS) {
    if (step <= window.size / 100 && (window.kind === 'sliding' || window.size % step === 0)) return step;
  }
  return 0;
}

/** Checks an explicit `precision` against its window, or picks the default. */
export function precisionAt(value: unknown, window: WindowSpec, path: string, sink: IssueSink): number {
  if (value === undefined || value === null) return defaultPrecision(window);
  const p = durationAt(value, path, sink, -1);
  if (p < 0) return 0;
  if (p === 0) {
    sink.add(path, 'precision must be longer than 0 (omit it for the default)');
    return 0;
  }
  if (window.kind === 'lifetime') {
    sink.add(path, 'precision does not apply to a lifetime window; remove it');
    return 0;
  }
  if (window.kind === 'sliding' && p >= window.size) {
    sink.add(path, `precision ${showDuration(p)} must be shorter than the window ${showDuration(window.size)} (e.g. ${showDuration(defaultPrecision(window) || Math.max(1, Math.floor(window.size / 100)))})`);
    return 0;
  }
  if (window.kind === 'tumbling' && window.size % p !== 0) {
    const divisors = PRECISION_STEPS.filter((s) => s < window.size && window.size % s === 0).map(showDuration);
    sink.add(path, `precision ${showDuration(p)} does not divide the tumbling window ${showDuration(window.size)}${divisors.length ? ` (use e.g. ${divisors.join(', ')})` : ''}`);
    return 0;
  }
  return p;
}
