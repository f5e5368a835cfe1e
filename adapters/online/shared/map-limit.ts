/**
 * Runs `fn` over `items` with at most `limit` calls in flight; resolves with the results in item
 * order. After the first rejection no further call is started, and the returned promise settles
 * only once every call already started has settled, then rejects with that first error. So when a
 * store's `write` or `read` settles, none of the requests it issued is still running (a failed
 * write can never land after the caller has been told it failed and has moved on, e.g. to close).
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  let failed = false;
  let firstError: unknown;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!, i);
      } catch (e) {
        if (!failed) {
          failed = true;
          firstError = e;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  if (failed) throw firstError;
  return out;
}
