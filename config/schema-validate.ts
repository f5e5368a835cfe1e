import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { IssueSink } from './issues.js';
import { joinPath } from './issues.js';

/** Where the published JSON Schema lives (beside this file in the sources, and in the package). */
function schemaUrl(): URL {
  // config/schema-validate.ts (sources) or dist/config/schema-validate.js (built): the JSON file is
  // not copied by tsc, so look in the sources' config/ folder from dist too.
  return new URL('./fenestra.schema.json', import.meta.url);
}

function loadSchema(): Record<string, unknown> {
  const primary = schemaUrl();
  try {
    return JSON.parse(readFileSync(primary, 'utf8')) as Record<string, unknown>;
  } catch {
    return JSON.parse(readFileSync(new URL('../../config/fenestra.schema.json', import.meta.url), 'utf8')) as Record<string, unknown>;
  }
}

let validator: ValidateFunction | undefined;

/** The compiled validator for `config/fenestra.schema.json` (Ajv 8, draft-07, allErrors). */
export function configValidator(): ValidateFunction {
  validator ??= new Ajv({ allErrors: true, verbose: true, strict: true, strictRequired: false, allowUnionTypes: true }).compile(loadSchema());
  return validator;
}

/** The published schema as an object (for `GET /v1/catalog` or tooling). */
export function configSchema(): Record<string, unknown> {
  return loadSchema();
}

function pointerToPath(pointer: string, doc: unknown): string {
  let path = '';
  let node: unknown = doc;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(node)) {
      const i = Number(seg);
      path = joinPath(path, i);
      node = node[i];
    } else {
      path = joinPath(path, seg);
      node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[seg] : undefined;
    }
  }
  return path;
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return 'object';
  return typeof value;
}

const NAME_HINT = 'use letters, digits and _, not starting with a digit';

function describe(e: ErrorObject): { path: string; message: string } {
  const params = e.params as Record<string, unknown>;
  const parent = e.parentSchema as Record<string, unknown> | undefined;
  switch (e.keyword) {
    case 'required':
      return { path: String(params.missingProperty), message: 'is required' };
    case 'additionalProperties': {
      const allowed = Object.keys((parent?.properties as Record<string, unknown>) ?? {});
      return { path: String(params.additionalProperty), message: `unknown key "${String(params.additionalProperty)}"${allowed.length ? ` (allowed: ${allowed.join(', ')})` : ''}` };
    }
    case 'type':
      return { path: '', message: `must be ${/^[aeiou]/.test(String(params.type)) ? 'an' : 'a'} ${String(params.type).replace('integer', 'integer').replace('array', 'list')} (got ${kindOf(e.data)} ${show(e.data)})` };
    case 'enum':
      return { path: '', message: `must be one of ${(params.allowedValues as unknown[]).join(', ')} (got ${show(e.data)})` };
    case 'const':
      return { path: '', message: `must be ${show(params.allowedValue)} (got ${show(e.data)})` };
    case 'pattern': {
      if (e.schemaPath.includes('/definitions/name/')) return { path: '', message: `invalid name ${show(e.data)}: ${NAME_HINT}` };
      if (e.schemaPath.includes('/definitions/featureRefList/')) return { path: '', message: `${show(e.data)} is not a feature reference: write group:feature or group:*` };
      return { path: '', message: `invalid value ${show(e.data)}${typeof parent?.description === 'string' ? `: expected ${parent.description}` : ''}` };
    }
    case 'minProperties':
      return { path: '', message: 'must not be empty' };
    case 'minItems':
      return { path: '', message: `must list at least ${String(params.limit)} item(s)` };
    case 'minLength':
      return { path: '', message: 'must not be empty' };
    case 'minimum':
    case 'maximum':
      return { path: '', message: `must be ${String(params.comparison)} ${String(params.limit)} (got ${show(e.data)})` };
    default:
      return { path: '', message: e.message ?? `fails ${e.keyword}` };
  }
}

function under(path: string, parent: string): boolean {
  return path === parent || path.startsWith(`${parent}/`);
}

/**
 * Drops the noise `anyOf` produces under `allErrors`: errors of branches that do not fit the value.
 * At an `anyOf` location, errors exactly there are dropped except unknown keys no branch allows and a
 * required key every object branch wants; errors deeper inside (from the branch whose shape
 * matched) are kept. If nothing is left, one message describing the accepted forms is kept.
 */
function collapseAnyOf(errors: ErrorObject[]): ErrorObject[] {
  // Group anyOf/oneOf errors by location: a $ref'd anyOf nested in another (window → duration) fails
  // at the same location; Ajv reports the inner one first, so the last one is the outermost.
  const groups = new Map<string, ErrorObject[]>();
  for (const e of errors) {
    if (e.keyword !== 'anyOf' && e.keyword !== 'oneOf') continue;
    const list = groups.get(e.instancePath) ?? [];
    list.push(e);
    groups.set(e.instancePath, list);
  }
  const locations = [...groups.keys()].sort((a, b) => a.length - b.length);
  let rest = errors.filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf' && e.keyword !== 'if');
  const out: ErrorObject[] = [];
  for (const at of locations) {
    if (!rest.some((e) => under(e.instancePath, at))) continue; // handled by an enclosing anyOf
    const group = groups.get(at)!;
    const outer = group[group.length - 1]!;
    const here = rest.filter((e) => e.instancePath === at);
    const deeper = rest.filter((e) => e.instancePath !== at && under(e.instancePath, at));
    const allowedKeys = new Set<string>();
    let objectBranches = 0;
    for (const a of group) {
      for (const b of (a.schema as Record<string, unknown>[]) ?? []) {
        const props = b.properties as Record<string, unknown> | undefined;
        if (props === undefined) continue;
        objectBranches++;
        for (const k of Object.keys(props)) allowedKeys.add(k);
      }
    }
    const keep: ErrorObject[] = [];
    const unknown = new Set<string>();
    for (const e of here) {
      if (e.keyword !== 'additionalProperties') continue;
      const key = String((e.params as Record<string, unknown>).additionalProperty);
      if (allowedKeys.has(key) || unknown.has(key)) continue;
      unknown.add(key);
      keep.push({ ...e, parentSchema: { properties: Object.fromEntries([...allowedKeys].map((k) => [k, true])) } });
    }
    const required = here.filter((e) => e.keyword === 'required');
    if (objectBranches === 1 && required.length > 0 && typeof outer.data === 'object' && outer.data !== null && !Array.isArray(outer.data)) keep.push(required[0]!);
    rest = rest.filter((e) => !under(e.instancePath, at));
    if (keep.length + deeper.length > 0) {
      rest.push(...deeper);
      out.push(...keep);
    } else {
      out.push(outer);
    }
  }
  return [...rest, ...out];
}

function anyOfMessage(e: ErrorObject): string {
  const parent = e.parentSchema as Record<string, unknown> | undefined;
  const desc = typeof parent?.description === 'string' ? parent.description : 'one of the accepted forms';
  return `invalid value ${show(e.data)}: expected ${desc.charAt(0).toLowerCase()}${desc.slice(1)}`;
}

/**
 * Validates a parsed (env-substituted) config against the published JSON Schema and records every
 * problem with a dotted path and a message that says what to write instead.
 */
export function validateAgainstSchema(doc: unknown, sink: IssueSink): void {
  const validate = configValidator();
  if (validate(doc)) return;
  const errors = collapseAnyOf(validate.errors ?? []);
  const seen = new Set<string>();
  for (const e of errors) {
    const base = pointerToPath(e.instancePath, doc);
    let path: string;
    let message: string;
    if (e.keyword === 'anyOf' || e.keyword === 'oneOf') {
      path = base;
      message = anyOfMessage(e);
    } else if (e.keyword === 'propertyNames') {
      continue; // reported through its `pattern` error with propertyName
    } else {
      const d = describe(e);
      const propertyName = (e.params as Record<string, unknown>).propertyName ?? (e as unknown as { propertyName?: string }).propertyName;
      if (typeof propertyName === 'string') {
        path = joinPath(base, propertyName);
        message = `invalid name ${JSON.stringify(propertyName)}: ${NAME_HINT}`;
      } else {
        path = d.path === '' ? base : joinPath(base, d.path);
        message = d.message;
      }
    }
    const key = `${path}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    sink.schema(path, message);
  }
}
