/**
 * Durations as users write them in config: `500ms`, `10s`, `10m`, `1h30m`, `7d`, `2w`,
 * or a bare number of milliseconds. All engine times are epoch milliseconds (numbers).
 */

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/y;

/** Parses a duration; returns `null` when the text is not a duration (callers report the path). */
export function parseDuration(input: string | number): number | null {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? input : null;
  const text = input.trim();
  if (text === '') return null;
  if (/^\d+$/.test(text)) return Number(text);
  let total = 0;
  PART.lastIndex = 0;
  let pos = 0;
  while (pos < text.length) {
    PART.lastIndex = pos;
    const m = PART.exec(text);
    if (!m) return null;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    pos = PART.lastIndex;
  }
  return Math.round(total);
}

/** Formats milliseconds as the shortest exact duration text (`3600000` → `1h`, `5400000` → `1h30m`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0ms';
  const order: Array<[string, number]> = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000], ['ms', 1]];
  let rest = ms;
  let out = '';
  for (const [unit, size] of order) {
    if (rest >= size) {
      const n = Math.floor(rest / size);
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}

/** Parses an instant: epoch milliseconds (number or digit string) or ISO-8601 text. `null` if neither. */
export function parseInstant(input: unknown): number | null {
  if (typeof input === 'number') return Number.isFinite(input) ? Math.trunc(input) : null;
  if (typeof input !== 'string' || input === '') return null;
  if (/^-?\d+$/.test(input)) return Number(input);
  const ms = Date.parse(input);
  return Number.isNaN(ms) ? null : ms;
}
