import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const schema = JSON.parse(readFileSync(resolve(root, 'config/fenestra.schema.json'), 'utf8')) as Record<string, unknown>;

function propertiesWithoutDescription(node: unknown, path: string, out: string[]): string[] {
  if (Array.isArray(node)) node.forEach((n, i) => propertiesWithoutDescription(n, `${path}[${i}]`, out));
  else if (typeof node === 'object' && node !== null) {
    const obj = node as Record<string, unknown>;
    if (typeof obj.properties === 'object' && obj.properties !== null) {
      for (const [k, v] of Object.entries(obj.properties as Record<string, Record<string, unknown>>)) {
        if (typeof v.description !== 'string' || v.description.length < 10) out.push(`${path}.properties.${k}`);
      }
    }
    for (const [k, v] of Object.entries(obj)) propertiesWithoutDescription(v, `${path}.${k}`, out);
  }
  return out;
}

describe('config/fenestra.schema.json', () => {
  it('is a draft-07 schema that Ajv 8 compiles in strict mode with allErrors', () => {
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    const validate = new Ajv({ allErrors: true, strict: true, strictRequired: false }).compile(schema);
    expect(validate(parse(readFileSync(resolve(root, 'config/examples/fraud.yaml'), 'utf8')))).toBe(true);
    expect(validate({ entities: {}, featureGroups: { g: { source: 's', features: { f: { agg: 'count', window: '10q' } } } } })).toBe(false);
  });

  it('describes every property, so editors can show what each key means', () => {
    expect(propertiesWithoutDescription(schema, '#', [])).toEqual([]);
  });
});
