import type { ASTNode } from '@marcbachmann/cel-js';
import type { DivZeroPolicy } from '../model.js';
import { makeDivision } from './environment.js';
import { DIV_FUNCTION } from './rewrite.js';
import type { DerivedInputs } from './types.js';

/** Thrown by a fast program at an operand that is not a number: the CEL program answers instead. */
const NOT_A_NUMBER = Symbol('fenestra.derived.not-a-number');

type Num = (ctx: Record<string, unknown>) => number;

/**
 * A JavaScript closure for the arithmetic subset of rewritten expressions — double literals, double
 * features, `request.<field>`, `+`, `-`, `*`, unary `-` and the policy-aware division — or null for
 * any other expression. On numbers it computes what the CEL program computes: CEL's double
 * overloads are these JavaScript operators and the division is the one the CEL environment
 * registers (`makeDivision`, throwing where the policy makes the result null). Any operand that is
 * not a number at run time (a request field that is a string, say, where CEL may concatenate or
 * fail) makes the whole evaluation go to the CEL program.
 */
export function fastProgram(
  ast: ASTNode,
  inputs: DerivedInputs,
  policy: DivZeroPolicy,
  program: (context: Record<string, unknown>) => unknown,
): ((context: Record<string, unknown>) => unknown) | null {
  const div = makeDivision(policy);
  const build = (node: ASTNode): Num | null => {
    switch (node.op) {
      case 'value': {
        const v = node.args as unknown;
        return typeof v === 'number' ? () => v : null;
      }
      case 'id': {
        const name = node.args as unknown as string;
        if (inputs.get(name) !== 'double') return null;
        return (ctx) => {
          const v = ctx[name];
          if (typeof v !== 'number') throw NOT_A_NUMBER;
          return v;
        };
      }
      case '.': {
        const [obj, field] = node.args as unknown as [ASTNode, string];
        if (obj.op !== 'id' || (obj.args as unknown) !== 'request' || typeof field !== 'string') return null;
        return (ctx) => {
          const v = (ctx.request as Record<string, unknown> | undefined)?.[field];
          if (typeof v !== 'number') throw NOT_A_NUMBER;
          return v;
        };
      }
      case '-_': {
        const a = build(node.args as unknown as ASTNode);
        return a === null ? null : (ctx) => -a(ctx);
      }
      case '+':
      case '-':
      case '*': {
        const [l, r] = node.args as unknown as [ASTNode, ASTNode];
        const a = build(l);
        const b = build(r);
        if (a === null || b === null) return null;
        if (node.op === '+') return (ctx) => a(ctx) + b(ctx);
        if (node.op === '-') return (ctx) => a(ctx) - b(ctx);
        return (ctx) => a(ctx) * b(ctx);
      }
      case 'call': {
        const [fn, args] = node.args as unknown as [string, ASTNode[]];
        if (fn !== DIV_FUNCTION || args.length !== 2) return null;
        const a = build(args[0]!);
        const b = build(args[1]!);
        if (a === null || b === null) return null;
        return (ctx) => div(a(ctx), b(ctx));
      }
      default:
        return null;
    }
  };
  const fast = build(ast);
  if (fast === null) return null;
  return (ctx) => {
    try {
      return fast(ctx);
    } catch (e) {
      if (e === NOT_A_NUMBER) return program(ctx);
      throw e;
    }
  };
}
