import type { ASTNode } from '@marcbachmann/cel-js';
import { serialize } from '@marcbachmann/cel-js/serialize';

/** Name of the policy-aware division function every `/` is rewritten to. */
export const DIV_FUNCTION = '_fenestra_div';

function doubleLiteral(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e21) return `${v}.0`;
  return String(v);
}

/**
 * Re-serialises a parsed expression so that numbers divide as doubles: integer literals become
 * double literals (`2` → `2.0`) and every `a / b` becomes `_fenestra_div(a, b)`, a function that
 * applies the feature's `onDivZero` policy at the division itself. Everything is parenthesised,
 * so precedence is kept without re-deriving it.
 */
export function rewriteExpression(node: ASTNode): string {
  const r = rewriteExpression;
  switch (node.op) {
    case 'value':
      if (typeof node.args === 'bigint') return doubleLiteral(Number(node.args));
      if (typeof node.args === 'number') return doubleLiteral(node.args);
      return serialize(node);
    case 'id':
      return node.args;
    case '.':
      return `${r(node.args[0])}.${node.args[1]}`;
    case '.?':
      return `${r(node.args[0])}.?${node.args[1]}`;
    case '[]':
      return `${r(node.args[0])}[${r(node.args[1])}]`;
    case '[?]':
      return `${r(node.args[0])}[?${r(node.args[1])}]`;
    case 'call':
      return `${node.args[0]}(${node.args[1].map(r).join(', ')})`;
    case 'rcall':
      return `${r(node.args[1])}.${node.args[0]}(${node.args[2].map(r).join(', ')})`;
    case 'list':
      return `[${node.args.map(r).join(', ')}]`;
    case 'map':
      return `{${node.args.map(([k, v]) => `${r(k)}: ${r(v)}`).join(', ')}}`;
    case '?:':
      return `(${r(node.args[0])} ? ${r(node.args[1])} : ${r(node.args[2])})`;
    case '!_':
      return `!(${r(node.args)})`;
    case '-_':
      return `-(${r(node.args)})`;
    case '/':
      return `${DIV_FUNCTION}(${r(node.args[0])}, ${r(node.args[1])})`;
    default: {
      const [left, right] = node.args as [ASTNode, ASTNode];
      return `(${r(left)} ${node.op} ${r(right)})`;
    }
  }
}
