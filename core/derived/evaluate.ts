import type { DivZeroPolicy } from '../model.js';
import type { CompiledDerived, DerivedValue } from './types.js';

function finish(out: unknown, onDivZero: DivZeroPolicy): DerivedValue {
  switch (typeof out) {
    case 'number':
      if (Number.isFinite(out)) return out;
      if (Number.isNaN(out)) return null;
      return onDivZero === 'infinity' ? out : onDivZero === 'zero' ? 0 : null;
    case 'bigint':
      return Number(out);
    case 'string':
    case 'boolean':
      return out;
    default:
      if (out instanceof Date) return out.getTime();
      return null;
  }
}

/**
 * Evaluates a compiled derived feature. Used by serving and by training sets alike, so both give
 * the same value for the same inputs. Synchronous, allocation-light, never throws:
 *
 * - Inputs: `featureValues[name]` for every feature the expression reads (numbers are fed as
 *   doubles, so `4 / 8` is `0.5`), and `request[field]` for every `request.*` field it reads.
 * - `onNull: 'null'`: if any input it reads is null or missing, the result is null.
 *   `onNull: 'zero'`: null numeric inputs and missing request fields count as 0 (null string or
 *   bool features still give null).
 * - Division: a non-finite quotient (x/0, overflow) follows `onDivZero` at the division:
 *   `null` → the whole result is null; `zero` → the quotient is 0; `infinity` → ±Infinity
 *   (0/0 stays null). A non-finite final result follows the same policy; NaN is always null.
 * - Runtime type errors (a string request field divided by a number) give null.
 */
export function evaluateDerived(
  compiled: CompiledDerived,
  featureValues: Readonly<Record<string, unknown>>,
  request?: Readonly<Record<string, unknown>> | null,
): DerivedValue {
  const ctx: Record<string, unknown> = {};
  const zero = compiled.onNull === 'zero';
  for (const f of compiled.features) {
    let v = featureValues[f.name];
    if (v === null || v === undefined) {
      if (!zero || f.type !== 'double') return null;
      v = 0;
    } else if (typeof v === 'bigint') {
      v = Number(v);
    }
    ctx[f.name] = v;
  }
  const fields = compiled.requestFields;
  if (fields.length > 0) {
    const req: Record<string, unknown> = {};
    for (let i = 0; i < fields.length; i++) {
      const name = fields[i]!;
      let v = request == null ? undefined : request[name];
      if (v === null || v === undefined) {
        if (!zero) return null;
        v = 0;
      } else if (typeof v === 'bigint') {
        v = Number(v);
      }
      req[name] = v;
    }
    ctx.request = req;
  }
  let out: unknown;
  try {
    out = compiled.program(ctx);
  } catch {
    return null;
  }
  return finish(out, compiled.onDivZero);
}

/** Evaluates every derived feature of a group, in order, into `into` (returned). */
export function evaluateAllDerived(
  compiled: readonly CompiledDerived[],
  featureValues: Readonly<Record<string, unknown>>,
  request: Readonly<Record<string, unknown>> | null | undefined,
  into: Record<string, DerivedValue> = {},
): Record<string, DerivedValue> {
  for (const c of compiled) into[c.name] = evaluateDerived(c, featureValues, request);
  return into;
}
