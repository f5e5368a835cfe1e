/**
 * Exponential backoff with full jitter, for retries an adapter does inside one call (DynamoDB
 * UnprocessedKeys). Attempt 0 waits nothing; attempt n waits a random time in [0, min(cap, base·2ⁿ)).
 */
export function backoffDelay(attempt: number, baseMs: number, capMs: number): number {
  if (attempt <= 0) return 0;
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(Math.random() * ceiling);
}

export function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}
