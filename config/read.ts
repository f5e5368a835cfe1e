import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import type { Document } from 'yaml';
import type { ConfigIssue } from './issues.js';
import { splitPath } from './issues.js';

/** A config file's text parsed as YAML, with what is needed to point issues at lines. */
export interface ParsedYaml {
  readonly value: unknown;
  readonly document: Document;
  readonly lines: LineCounter;
}

/** Reads a file; a missing or unreadable one is a CONFIG_NOT_FOUND issue. */
export async function readConfigText(file: string, issues: ConfigIssue[]): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    issues.push({ path: '', code: 'CONFIG_NOT_FOUND', message: `cannot read config file ${file}: ${reason}` });
    return null;
  }
}

/** Parses YAML text; every syntax error (and duplicate keys) becomes a CONFIG_YAML issue with its line. */
export function parseYaml(text: string, issues: ConfigIssue[]): ParsedYaml | null {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (document.errors.length > 0) {
    for (const err of document.errors) {
      const pos = lines.linePos(err.pos[0]);
      issues.push({ path: '', code: 'CONFIG_YAML', line: pos.line, message: `YAML error at line ${pos.line}, column ${pos.col}: ${err.message.split('\n')[0]}` });
    }
    return null;
  }
  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    issues.push({ path: '', code: 'CONFIG_YAML', message: `YAML error: ${(e as Error).message}` });
    return null;
  }
  if (value === null || value === undefined) value = {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    issues.push({ path: '', code: 'CONFIG_INVALID', message: 'the config must be a YAML mapping (key: value lines) at the top level' });
    return null;
  }
  return { value, document, lines };
}

/** Adds the YAML line of each issue's path (or of its nearest existing parent). */
export function withLines(issues: readonly ConfigIssue[], parsed: ParsedYaml | null): ConfigIssue[] {
  if (parsed === null) return [...issues];
  return issues.map((issue) => {
    if (issue.line !== undefined || issue.path === '') return issue;
    const segments = splitPath(issue.path);
    for (let n = segments.length; n > 0; n--) {
      const node = parsed.document.getIn(segments.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && Array.isArray(node.range)) {
        return { ...issue, line: parsed.lines.linePos(node.range[0]).line };
      }
    }
    return issue;
  });
}
