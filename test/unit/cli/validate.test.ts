import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const tmp = mkdtempSync(join(tmpdir(), 'fenestra-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function fenestra(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'cli/main.ts'), ...args], {
    cwd: root, encoding: 'utf8', timeout: 30_000, env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('fenestra validate (child process)', () => {
  it('prints a summary and exits 0 for a valid config with its plugins checked', () => {
    const r = fenestra('validate', '-c', join(root, 'test/fixtures/plugins/valid.yaml'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('valid');
    expect(r.stdout).toContain('entities: card (key cc_num)');
    expect(r.stdout).toContain('cc_agg [card]: 2 feature(s) + 1 derived, from source tx');
    expect(r.stdout).toContain('model (3 features)');
  });

  it('accepts the issue 2 example (schema and semantics; --no-plugins)', () => {
    const r = fenestra('validate', '-c', join(root, 'config/examples/fraud.yaml'), '--no-plugins');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('fraud_model (8 features)');
  });

  it.each(['config/fenestra.yaml', 'config/examples/fraud.yaml'])('accepts the shipped %s with every plugin resolved and checked (online: embedded included)', (file) => {
    const r = fenestra('validate', '-c', join(root, file), '--json');
    expect(r.stderr).toBe('');
    expect(r.code, r.stdout).toBe(0);
    const out = JSON.parse(r.stdout) as { valid: boolean; issues: unknown[] };
    expect(out).toMatchObject({ valid: true, issues: [] });
  });

  it('checks the embedded store\'s options like any plugin\'s', () => {
    const file = join(tmp, 'embedded-option.yaml');
    writeFileSync(file, 'entities: { card: { key: k } }\nfeatureGroups: {}\nonline: { type: embedded, url: "redis://x" }\n');
    const r = fenestra('validate', '-c', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('online.url: unknown option "url" for plugin "embedded" [CONFIG_INVALID]');
  });

  it('prints every error as path: message [CODE] and exits 1', () => {
    const file = join(tmp, 'bad.yaml');
    writeFileSync(file, [
      'entities:',
      '  card: { key: cc_num }',
      'sources:',
      '  transactions:',
      '    type: ./nowhere.mjs',
      '    entity: card',
      '    eventTime: { field: trans_time }',
      '    schema: { cc_num: string, amount: double, trans_time: timestamp, merchant: string }',
      'featureGroups:',
      '  cc_agg:',
      '    source: transactions',
      '    features:',
      '      avg_amt_last_10m: { agg: avg, field: amt, window: 10m }',
      '      n: { agg: count, window: 10x }',
      'featureServices:',
      '  m: ["cc_agg:nope"]',
      '',
    ].join('\n'));
    const r = fenestra('validate', '-c', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('featureGroups.cc_agg.features.avg_amt_last_10m.field: unknown field "amt" in source "transactions" (fields: cc_num, amount, trans_time, merchant) [CONFIG_INVALID] (line 13)');
    expect(r.stderr).toContain('featureGroups.cc_agg.features.n.window: invalid value "10x"');
    expect(r.stderr).toContain('featureServices.m[0]: unknown feature "nope" in group "cc_agg"');
    expect(r.stderr).toContain('sources.transactions.type: cannot find plugin "./nowhere.mjs"');
    expect(r.stderr).toContain('[PLUGIN_NOT_FOUND]');
  });

  it('prints JSON with --json', () => {
    const file = join(tmp, 'env.yaml');
    writeFileSync(file, 'server: { port: "${FENESTRA_TEST_UNSET_PORT}" }\nentities: { card: { key: k } }\nfeatureGroups: {}\n');
    const r = fenestra('validate', '-c', file, '--json', '--no-plugins');
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { valid: boolean; issues: { path: string; code: string }[] };
    expect(out.valid).toBe(false);
    expect(out.issues.map((i) => [i.path, i.code])).toEqual([['server.port', 'CONFIG_ENV_MISSING']]);
  });

  it('exits 1 with CONFIG_NOT_FOUND for a missing file', () => {
    const r = fenestra('validate', '-c', join(tmp, 'missing.yaml'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('[CONFIG_NOT_FOUND]');
  });

  it('has a helpful --help', () => {
    const r = fenestra('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: fenestra');
    expect(r.stdout).toMatch(/validate \[options\]/);
    const v = fenestra('validate', '--help');
    expect(v.stdout).toContain('-c, --config <file>');
    expect(v.stdout).toContain('--no-plugins');
  });
});
