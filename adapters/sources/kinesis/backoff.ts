/** Errors Kinesis answers when a shard or the account is over its limits: retried with backoff, never fatal. */
const THROTTLING = new Set(['ProvisionedThroughputExceededException', 'LimitExceededException', 'ThrottlingException', 'KMSThrottlingException']);

export function isThrottling(e: unknown): boolean {
  const name = (e as { name?: string } | null)?.name;
  return typeof name === 'string' && THROTTLING.has(name);
}

/**
 * Exponential backoff with full jitter ("Exponential Backoff And Jitter", AWS architecture blog):
 * attempt n (from 0) waits a uniform random time in [base·2ⁿ/2, base·2ⁿ], capped at `max`.
 */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
