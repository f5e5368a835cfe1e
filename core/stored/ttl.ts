/** SageMaker's `TtlDuration` ({ Unit, Value }) in milliseconds; null when malformed. */
const UNIT_MS: Record<string, number> = {
  Seconds: 1_000,
  Minutes: 60_000,
  Hours: 3_600_000,
  Days: 86_400_000,
  Weeks: 604_800_000,
};

export function ttlDurationMs(ttl: unknown): number | null {
  if (typeof ttl !== 'object' || ttl === null) return null;
  const { Unit, Value } = ttl as { Unit?: unknown; Value?: unknown };
  if (typeof Unit !== 'string' || !(Unit in UNIT_MS)) return null;
  if (typeof Value !== 'number' || !Number.isFinite(Value) || Value < 1) return null;
  return Value * UNIT_MS[Unit]!;
}

/** Expiry of a record: event time + (request TTL, else the group's `ttl`); 0 = never. */
export function expiryOf(eventTime: number, requestTtlMs: number | null, groupTtlMs: number): number {
  const ttl = requestTtlMs ?? groupTtlMs;
  return ttl > 0 ? eventTime + ttl : 0;
}
