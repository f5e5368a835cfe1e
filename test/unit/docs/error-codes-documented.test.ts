import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../../core/errors.js';

/**
 * core/errors.ts is the one table of error codes; docs/API.md's "Error codes" section must list every
 * row as `| \`CODE\` | status | message |` — no row missing, none differing, none stale.
 */
const API_MD = fileURLToPath(new URL('../../../docs/API.md', import.meta.url));

type Table = Record<string, { readonly status: number; readonly message: string }>;

/** The rows of the "## Error codes" section of a document. */
function docRows(doc: string): Map<string, { status: number; message: string }> {
  const at = doc.indexOf('\n## Error codes');
  if (at < 0) throw new Error('docs/API.md has no "## Error codes" section');
  const next = doc.indexOf('\n## ', at + 1);
  const rows = new Map<string, { status: number; message: string }>();
  for (const line of doc.slice(at, next < 0 ? undefined : next).split('\n')) {
    const m = /^\| `([A-Z0-9_]+)` \| (\d{3}) \| (.*) \|$/.exec(line.trim());
    if (m) rows.set(m[1]!, { status: Number(m[2]), message: m[3]! });
  }
  return rows;
}

/** Every difference between the code table and a document's error table. */
function problems(table: Table, doc: string): string[] {
  const rows = docRows(doc);
  const out: string[] = [];
  for (const [code, { status, message }] of Object.entries(table)) {
    const row = rows.get(code);
    if (row === undefined) out.push(`${code}: no row`);
    else {
      if (row.status !== status) out.push(`${code}: status ${row.status} in the doc, ${status} in core/errors.ts`);
      // The doc writes the message as Markdown: the same text, backticks kept.
      if (row.message !== message) out.push(`${code}: message differs:\n  doc:  ${row.message}\n  code: ${message}`);
    }
  }
  for (const code of rows.keys()) if (!(code in table)) out.push(`${code}: documented but not in core/errors.ts`);
  return out;
}

describe('error codes are documented', () => {
  const doc = readFileSync(API_MD, 'utf8');

  it('docs/API.md has one row per code of core/errors.ts with its status and message, and no other', () => {
    expect(docRows(doc).size).toBeGreaterThan(0);
    expect(problems(ERROR_CODES, doc)).toEqual([]);
  });

  it('the check fails on a missing, a wrong or a stale row', () => {
    const first = Object.keys(ERROR_CODES)[0]!;
    const without = doc.split('\n').filter((l) => !l.startsWith(`| \`${first}\` |`)).join('\n');
    expect(problems(ERROR_CODES, without)).toEqual([`${first}: no row`]);
    const wrong = doc.replace(`| \`${first}\` | ${ERROR_CODES[first as keyof typeof ERROR_CODES].status} |`, `| \`${first}\` | 599 |`);
    expect(problems(ERROR_CODES, wrong)).toEqual([expect.stringContaining(`${first}: status 599`)]);
    const { [first]: _dropped, ...fewer } = ERROR_CODES as Table;
    expect(problems(fewer, doc)).toEqual([`${first}: documented but not in core/errors.ts`]);
  });
});
