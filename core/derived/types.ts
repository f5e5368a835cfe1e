import type { DirectProgram } from './fast.js';
import type { DivZeroPolicy, NullPolicy } from '../model.js';

/** The CEL type a feature is given inside derived expressions (all numbers are doubles). */
export type DerivedInputType = 'double' | 'string' | 'bool';

/** What a derived expression may read: the group's features by name and their CEL types. */
export type DerivedInputs = ReadonlyMap<string, DerivedInputType>;

/** A derived value as served and written to training sets. */
export type DerivedValue = number | string | boolean | null;

/** The part of a derived feature's definition the compiler needs (a `DerivedFeatureSpec` fits). */
export interface DerivedDefinition {
  readonly name: string;
  readonly expr: string;
  readonly onNull?: NullPolicy;
  readonly onDivZero?: DivZeroPolicy;
}

/**
 * A derived feature compiled once at config time. Immutable and safe to share between serving
 * and training-set code; `evaluateDerived` is synchronous and re-entrant.
 */
export interface CompiledDerived {
  readonly name: string;
  readonly expr: string;
  /** The expression as evaluated: integer literals as doubles, `/` as the policy-aware `_div`. */
  readonly rewritten: string;
  readonly onNull: NullPolicy;
  readonly onDivZero: DivZeroPolicy;
  /** Features the expression reads, with their types, in first-use order. */
  readonly features: readonly { readonly name: string; readonly type: DerivedInputType }[];
  /** `request.*` fields the expression reads. */
  readonly requestFields: readonly string[];
  /** Result type inferred by the CEL checker (`double`, `bool`, `string`, `int`, `dyn`). */
  readonly resultType: string;
  /** @internal the parsed CEL program. */
  readonly program: (context: Record<string, unknown>) => unknown;
  /**
   * @internal the same computation as JavaScript over the features and request fields, for
   * arithmetic expressions (core/derived/fast.ts); throws NOT_A_NUMBER where CEL must answer.
   */
  readonly direct?: DirectProgram;
}
