import { Environment } from '@marcbachmann/cel-js';
import type { DivZeroPolicy } from '../model.js';
import { DIV_FUNCTION } from './rewrite.js';
import type { DerivedInputs } from './types.js';

/** Thrown inside a division whose policy makes the whole result null; caught by the evaluator. */
export const NULL_RESULT = Symbol('fenestra.derived.null');

export class NullResult extends Error {
  readonly marker = NULL_RESULT;
  constructor() {
    super('derived result is null');
  }
}

const NULL_RESULT_ERROR = new NullResult();

/** The division a derived feature uses: IEEE doubles, with the `onDivZero` policy applied to a non-finite quotient. */
export function makeDivision(policy: DivZeroPolicy): (a: number, b: number) => number {
  switch (policy) {
    case 'zero':
      return (a, b) => {
        const q = a / b;
        return Number.isFinite(q) ? q : 0;
      };
    case 'infinity':
      return (a, b) => {
        const q = a / b;
        if (Number.isNaN(q)) throw NULL_RESULT_ERROR;
        return q;
      };
    case 'null':
      return (a, b) => {
        const q = a / b;
        if (!Number.isFinite(q)) throw NULL_RESULT_ERROR;
        return q;
      };
  }
}

/**
 * A CEL environment holding the group's features as typed variables, `request` as a map, and the
 * policy-aware division. Built once per derived feature at config time (building is the costly part).
 */
export function buildEnvironment(inputs: DerivedInputs, policy: DivZeroPolicy): Environment {
  const env = new Environment({ unlistedVariablesAreDyn: false, homogeneousAggregateLiterals: false });
  for (const [name, type] of inputs) env.registerVariable(name, type);
  env.registerVariable('request', 'map');
  const div = makeDivision(policy);
  const num = (x: unknown): number => (typeof x === 'bigint' ? Number(x) : (x as number));
  env.registerFunction(`${DIV_FUNCTION}(double, double): double`, div);
  env.registerFunction(`${DIV_FUNCTION}(int, double): double`, (a: unknown, b: unknown) => div(num(a), num(b)));
  env.registerFunction(`${DIV_FUNCTION}(double, int): double`, (a: unknown, b: unknown) => div(num(a), num(b)));
  env.registerFunction(`${DIV_FUNCTION}(int, int): double`, (a: unknown, b: unknown) => div(num(a), num(b)));
  // CEL has no remainder on doubles; numbers here are doubles, so give `%` JavaScript's meaning.
  env.registerOperator('double % double', (a: number, b: number) => a % b);
  // Integer literals are rewritten to doubles, but size() and int() still give ints: compare them
  // numerically with doubles (relational operators already mix; equality does not in CEL). Registering
  // `int == double` also gives `double == int` and both `!=`.
  env.registerOperator('int == double', (a: bigint, b: number) => Number(a) === b);

  return env;
}
