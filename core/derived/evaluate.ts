import type { DivZeroPolicy } from '../model.js';
import type { CompiledDerived, DerivedValue } from './types.js';
import { NOT_A_NUMBER } from './fast.js';

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
  const direct = compiled.direct;
  if (direct !== undefined) {
    const out = evaluateDirect(compiled, direct, featureValues, request);
    if (out !== NOT_A_NUMBER) return out;
  }
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

/**
 * `evaluateDerived` of an arithmetic expression without a CEL context: the same null policy checks,
 * then the direct program (which substitutes 0 for a null input and converts bigints as the context
 * would); NOT_A_NUMBER when an input is of another kind (the CEL program then answers).
 */
function evaluateDirect(
  compiled: CompiledDerived,
  direct: NonNullable<CompiledDerived['direct']>,
  featureValues: Readonly<Record<string, unknown>>,
  request: Readonly<Record<string, unknown>> | null | undefined,
): DerivedValue | typeof NOT_A_NUMBER {
  const zero = compiled.onNull === 'zero';
  const features = compiled.features;
  for (let i = 0; i < features.length; i++) {
    const f = features[i]!;
    const v = featureValues[f.name];
    if ((v === null || v === undefined) && (!zero || f.type !== 'double')) return null;
  }
  if (!zero) {
    const fields = compiled.requestFields;
    for (let i = 0; i < fields.length; i++) {
      const v = request == null ? undefined : request[fields[i]!];
      if (v === null || v === undefined) return null;
    }
  }
  let out: number;
  try {
    out = direct(featureValues, request);
  } catch (e) {
    return e === NOT_A_NUMBER ? NOT_A_NUMBER : null;
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
