import type { ASTNode } from '@marcbachmann/cel-js';
import type { DerivedInputs } from './types.js';

/** Identifiers an expression reads, and the problems found with them. */
export interface ExpressionReads {
  readonly features: string[];
  readonly requestFields: string[];
  readonly problems: string[];
}

/** Macros whose first argument binds a variable for the rest of the call (CEL comprehensions). */
const BINDING_MACROS = new Set(['all', 'exists', 'exists_one', 'map', 'filter', 'sortBy']);

function isNode(x: unknown): x is ASTNode {
  return typeof x === 'object' && x !== null && 'op' in x && 'args' in x;
}

/**
 * Walks a parsed CEL expression and collects the features and `request.*` fields it reads.
 * Any other free identifier is a problem: derived features see only their group's features and
 * the request.
 */
export function analyzeReads(ast: ASTNode, inputs: DerivedInputs, reserved: ReadonlySet<string> = new Set()): ExpressionReads {
  const features: string[] = [];
  const requestFields: string[] = [];
  const problems: string[] = [];
  const addOnce = (list: string[], name: string): void => {
    if (!list.includes(name)) list.push(name);
  };

  const walk = (node: ASTNode, bound: ReadonlySet<string>): void => {
    switch (node.op) {
      case 'value':
        return;
      case 'id': {
        const name = node.args;
        if (bound.has(name)) return;
        if (name === 'request') {
          problems.push('"request" must be used as request.<field> (e.g. request.amount)');
        } else if (inputs.has(name)) {
          addOnce(features, name);
        } else if (reserved.has(name)) {
          problems.push(`"${name}" is a derived feature; derived features may read only aggregated or stored features and request.* fields`);
        } else {
          const known = [...inputs.keys()].join(', ');
          problems.push(`unknown identifier "${name}": not a feature of this group (features: ${known}); request fields are written request.${name}`);
        }
        return;
      }
      case '.':
      case '.?': {
        const [target, field] = node.args;
        if (target.op === 'id' && target.args === 'request' && !bound.has('request')) {
          addOnce(requestFields, field);
          return;
        }
        walk(target, bound);
        return;
      }
      case '[]':
      case '[?]': {
        const [target, index] = node.args;
        if (target.op === 'id' && target.args === 'request' && !bound.has('request') && index.op === 'value' && typeof index.args === 'string') {
          addOnce(requestFields, index.args);
          return;
        }
        walk(target, bound);
        walk(index, bound);
        return;
      }
      case 'call':
        for (const a of node.args[1]) walk(a, bound);
        return;
      case 'rcall': {
        const [name, target, args] = node.args;
        const first = args[0];
        const isBind = name === 'bind' && target.op === 'id' && target.args === 'cel';
        if ((BINDING_MACROS.has(name) || isBind) && first !== undefined && first.op === 'id' && args.length >= 2) {
          const inner = new Set(bound);
          inner.add(first.args);
          if (!isBind) walk(target, bound);
          if (isBind) {
            walk(args[1]!, bound);
            for (const a of args.slice(2)) walk(a, inner);
          } else {
            for (const a of args.slice(1)) walk(a, inner);
          }
          return;
        }
        walk(target, bound);
        for (const a of args) walk(a, bound);
        return;
      }
      case 'list':
        for (const a of node.args) walk(a, bound);
        return;
      case 'map':
        for (const [k, v] of node.args) {
          walk(k, bound);
          walk(v, bound);
        }
        return;
      default: {
        const args: unknown = node.args;
        if (isNode(args)) walk(args, bound);
        else if (Array.isArray(args)) for (const a of args) if (isNode(a)) walk(a, bound);
      }
    }
  };
  walk(ast, new Set());
  return { features, requestFields, problems };
}
