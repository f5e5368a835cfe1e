import { FenestraError } from '../../core/errors.js';

/** A command-line integer option `--name` of at least `min`; BAD_REQUEST with path `name` otherwise. */
export function intOption(name: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new FenestraError('BAD_REQUEST', `--${name}: expected an integer >= ${min}, got "${v}"`, { path: name });
  return n;
}
