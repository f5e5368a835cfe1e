import type { ASTNode } from '@marcbachmann/cel-js';
import type { DivZeroPolicy } from '../model.js';
import { makeDivision } from './environment.js';
import { DIV_FUNCTION } from './rewrite.js';
import type { DerivedInputs } from './types.js';

/** Thrown by a direct program at an operand that is not a number: the CEL program answers instead. */
export const NOT_A_NUMBER = Symbol('fenestra.derived.not-a-number');

type Inputs = Readonly<Record<string, unknown>>;
type Request = Readonly<Record<string, unknown>> | null | undefined;
/** A direct program: the feature's value from the features and request fields as evaluateDerived gets them. */
export type DirectProgram = (features: Inputs, request: Request) => number;

/**
 * An input as evaluateDerived feeds it to the CEL program once its null policy let the evaluation
 * go on (null or missing reads as 0 then, a bigint as a number); NOT_A_NUMBER for any other kind.
 */
function operand(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === null || v === undefined) return 0;
  if (typeof v === 'bigint') return Number(v);
  throw NOT_A_NUMBER;
}

/**
 * A JavaScript function for the arithmetic subset of rewritten expressions — double literals, double
 * features, `request.<field>`, `+`, `-`, `*`, unary `-` and the policy-aware division — reading the
 * features and request fields directly (no CEL context), or null for any other expression. Called
 * by evaluateDerived after its null policy checks, it computes what the CEL program computes on the
 * same inputs: CEL's double overloads are these JavaScript operators and the division is the one
 * the CEL environment registers (`makeDivision`, throwing where the policy makes the result null).
 * An operand that is not a number at run time (a request field that is a string, say, where CEL
 * may concatenate or fail) throws NOT_A_NUMBER, and the CEL program answers instead.
 */
export function directProgram(
  ast: ASTNode,
  inputs: DerivedInputs,
  policy: DivZeroPolicy,
  reads: { readonly features: readonly string[]; readonly requestFields: readonly string[] },
): DirectProgram | null {
  const div = makeDivision(policy);
  const build = (node: ASTNode): DirectProgram | null => {
    switch (node.op) {
      case 'value': {
        const v = node.args as unknown;
        return typeof v === 'number' ? () => v : null;
      }
      case 'id': {
        const name = node.args as unknown as string;
        // only features evaluateDerived checks against the null policy
        if (inputs.get(name) !== 'double' || !reads.features.includes(name)) return null;
        return (features) => operand(features[name]);
      }
      case '.': {
        const [obj, field] = node.args as unknown as [ASTNode, string];
        if (obj.op !== 'id' || (obj.args as unknown) !== 'request' || typeof field !== 'string' || !reads.requestFields.includes(field)) return null;
        return (_, request) => operand(request == null ? undefined : request[field]);
      }
      case '-_': {
        const a = build(node.args as unknown as ASTNode);
        return a === null ? null : (f, r) => -a(f, r);
      }
      case '+':
      case '-':
      case '*': {
        const [l, r] = node.args as unknown as [ASTNode, ASTNode];
        const a = build(l);
        const b = build(r);
        if (a === null || b === null) return null;
        if (node.op === '+') return (f, r) => a(f, r) + b(f, r);
        if (node.op === '-') return (f, r) => a(f, r) - b(f, r);
        return (f, r) => a(f, r) * b(f, r);
      }
      case 'call': {
        const [fn, args] = node.args as unknown as [string, ASTNode[]];
        if (fn !== DIV_FUNCTION || args.length !== 2) return null;
        const a = build(args[0]!);
        const b = build(args[1]!);
        if (a === null || b === null) return null;
        return (f, r) => div(a(f, r), b(f, r));
      }
      default:
        return null;
    }
  };
  return build(ast);
}
