import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../../core/errors.js';

const doc = (name: string): string => {
  const p = fileURLToPath(new URL(`../../../docs/${name}`, import.meta.url));
  return existsSync(p) ? readFileSync(p, 'utf8') : '';
};

describe('error codes are documented', () => {
  it('every code of core/errors.ts appears in docs/API.md or docs/ERRORS.md', () => {
    const text = doc('API.md') + doc('ERRORS.md');
    expect(text.length).toBeGreaterThan(0);
    const missing = Object.keys(ERROR_CODES).filter((c) => !text.includes(`\`${c}\``));
    expect(missing, `undocumented codes: ${missing.join(', ')}`).toEqual([]);
  });

  it('the API error table gives each code the status of core/errors.ts', () => {
    const api = doc('API.md');
    for (const [code, { status }] of Object.entries(ERROR_CODES)) {
      const row = api.split('\n').find((l) => l.startsWith(`| \`${code}\` |`));
      if (row !== undefined) expect(row, code).toContain(`| ${status} |`);
    }
  });
});
