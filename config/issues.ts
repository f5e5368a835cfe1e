import type { ErrorCode } from '../core/errors.js';

/** One problem found in a config file: where (dotted path), what and how to fix it, and a stable code. */
export interface ConfigIssue {
  /** Dotted path in the config (`featureGroups.cc_agg.features.avg_10m.field`, `featureServices.m[0]`); '' for the whole file. */
  readonly path: string;
  readonly message: string;
  readonly code: ErrorCode;
  /** 1-based line in the YAML file where the path is (or its nearest existing parent), when known. */
  readonly line?: number;
}

/** Appends a key to a dotted path. */
export function joinPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

/** `base` joined with a JSON pointer's segments (`/keys/1` → `keys[1]`; `~1`, `~0` decoded). */
export function joinPointer(base: string, pointer: string): string {
  let path = base;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    path = /^\d+$/.test(seg) ? joinPath(path, Number(seg)) : joinPath(path, seg);
  }
  return path;
}

/** Splits a dotted path back into segments (`a.b[0]` → ['a', 'b', 0]). */
export function splitPath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const part of path.split('.')) {
    if (part === '') continue;
    const m = /^([^[]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) {
      out.push(part);
      continue;
    }
    if (m[1] !== '') out.push(m[1]!);
    for (const idx of m[2]!.matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}

/**
 * Collects issues. Paths where the JSON Schema already found a problem are remembered, so the
 * semantic checks that run afterwards do not report a second, derived error under them.
 */
export class IssueSink {
  readonly issues: ConfigIssue[] = [];
  private readonly schemaPaths = new Set<string>();

  /** Records a schema (structural) issue, unless an earlier issue (a missing env var) is at this path. */
  schema(path: string, message: string): void {
    if (this.schemaPaths.has(path)) return;
    this.schemaPaths.add(path);
    this.issues.push({ path, message, code: 'CONFIG_INVALID' });
  }

  /** Records a semantic issue unless the schema already flagged this path or a parent of it. */
  add(path: string, message: string, code: ErrorCode = 'CONFIG_INVALID'): void {
    if (this.coveredBySchema(path)) return;
    this.issues.push({ path, message, code });
  }

  /** Records an issue found before the schema ran (env substitution) and silences later ones at its path. */
  early(issue: ConfigIssue): void {
    this.schemaPaths.add(issue.path);
    this.issues.push(issue);
  }

  coveredBySchema(path: string): boolean {
    if (this.schemaPaths.has(path)) return true;
    for (const p of this.schemaPaths) {
      if (p === '' || path.startsWith(`${p}.`) || path.startsWith(`${p}[`)) return true;
    }
    return false;
  }

  get ok(): boolean {
    return this.issues.length === 0;
  }
}

/** Renders issues one per line: `path: message [CODE]`. */
export function formatIssues(issues: readonly ConfigIssue[]): string {
  return issues
    .map((i) => `${i.path === '' ? '' : `${i.path}: `}${i.message} [${i.code}]${i.line === undefined ? '' : ` (line ${i.line})`}`)
    .join('\n');
}
