import { ParseError, parse, type ASTNode } from '@marcbachmann/cel-js';
import { FenestraError } from '../errors.js';
import type { DivZeroPolicy, NullPolicy } from '../model.js';
import { analyzeReads } from './analyze.js';
import { buildEnvironment } from './environment.js';
import { DIV_FUNCTION, rewriteExpression } from './rewrite.js';
import { directProgram } from './fast.js';
import type { CompiledDerived, DerivedDefinition, DerivedInputType, DerivedInputs } from './types.js';

const RESULT_TYPES = new Set(['double', 'int', 'uint', 'bool', 'string', 'dyn']);

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replaceAll(DIV_FUNCTION, '/').trim();
}

function invalid(def: DerivedDefinition, problem: string): FenestraError {
  return new FenestraError('CONFIG_INVALID', `derived feature "${def.name}": ${problem}`, { details: { problem } });
}

/**
 * Compiles a derived feature once, at config time. Throws `FenestraError('CONFIG_INVALID')` whose
 * `details.problem` says what is wrong (syntax, unknown identifier, type mismatch); the config
 * loader reports it at the feature's `expr` path.
 *
 * `inputs` are the features the expression may read (the group's aggregated or stored features)
 * with their CEL types; `reserved` are other names of the group (its derived features) that the
 * expression may not read, so the message can say why.
 */
export function compileDerived(def: DerivedDefinition, inputs: DerivedInputs, reserved: ReadonlySet<string> = new Set()): CompiledDerived {
  const onNull: NullPolicy = def.onNull ?? 'null';
  const onDivZero: DivZeroPolicy = def.onDivZero ?? 'null';
  let ast;
  try {
    ast = parse(def.expr).ast;
  } catch (e) {
    const msg = e instanceof ParseError ? e.message : String(e);
    throw invalid(def, `expression does not parse: ${firstLine(msg)} (in ${JSON.stringify(def.expr)})`);
  }
  const reads = analyzeReads(ast, inputs, reserved);
  if (reads.problems.length > 0) throw invalid(def, reads.problems.join('; '));

  const rewritten = rewriteExpression(ast);
  const env = buildEnvironment(inputs, onDivZero);
  const checked = env.check(rewritten);
  if (!checked.valid) {
    throw invalid(def, `expression does not type-check: ${firstLine(checked.error?.message ?? 'unknown error')} (numbers are doubles; features: ${[...inputs].map(([n, t]) => `${n}: ${t}`).join(', ')})`);
  }
  const resultType = checked.type ?? 'dyn';
  if (!RESULT_TYPES.has(resultType)) {
    throw invalid(def, `expression yields ${resultType}; a derived feature must yield a number, bool or string`);
  }
  const parsed = env.parse(rewritten) as unknown as { (context: Record<string, unknown>): unknown; ast: ASTNode };
  const program = parsed as (context: Record<string, unknown>) => unknown;
  // Arithmetic on numbers runs as JavaScript (the same operations), anything else through CEL.
  const direct = directProgram(parsed.ast, inputs, onDivZero, reads);
  const features = reads.features.map((name) => ({ name, type: inputs.get(name) as DerivedInputType }));
  return { name: def.name, expr: def.expr, rewritten, onNull, onDivZero, features, requestFields: reads.requestFields, resultType, program, ...(direct === null ? {} : { direct }) };
}
