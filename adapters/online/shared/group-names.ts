import { FenestraError } from '../../../core/errors.js';

/**
 * Resolves a per-group name (Redis key prefix, DynamoDB table) from an optional per-group override
 * map and a default, refusing groups the store was not configured for when `known` is non-empty.
 */
export function perGroup(
  group: string,
  overrides: Readonly<Record<string, string>> | undefined,
  fallback: (group: string) => string,
): string {
  const o = overrides?.[group];
  return o !== undefined ? o : fallback(group);
}

/** Throws a CONFIG_INVALID error naming `path` when an override names a group that does not exist. */
export function checkOverrideGroups(
  overrides: Readonly<Record<string, string>> | undefined,
  groups: readonly string[] | undefined,
  path: string,
): void {
  if (overrides === undefined || groups === undefined || groups.length === 0) return;
  for (const g of Object.keys(overrides)) {
    if (!groups.includes(g)) {
      throw new FenestraError('CONFIG_INVALID', `${path}.${g}: unknown feature group "${g}"`, { path: `${path}.${g}` });
    }
  }
}
