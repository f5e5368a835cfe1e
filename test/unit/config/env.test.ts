import { describe, expect, it } from 'vitest';
import { check, exampleConfig, show } from './helpers.js';

describe('${ENV} substitution', () => {
  it('substitutes variables, typed like YAML when the value is one reference', async () => {
    const c = exampleConfig();
    c.server.port = '${PORT}';
    c.server.host = '${HOST:-127.0.0.1}';
    c.state.dir = '${STATE_ROOT}/state-${NODE_NAME}';
    const { spec, issues } = await check(c, { PORT: '9191', STATE_ROOT: '/var/fenestra', NODE_NAME: 'n1' });
    expect(issues, show(issues)).toEqual([]);
    expect(spec!.server.port).toBe(9191);
    expect(spec!.server.host).toBe('127.0.0.1');
    expect(spec!.state.dir).toBe('/var/fenestra/state-n1');
  });

  it('uses the default when the variable is unset or empty, and the value when set', async () => {
    const c = exampleConfig();
    c.server.host = '${HOST:-0.0.0.0}';
    expect((await check(c, { HOST: '' })).spec!.server.host).toBe('0.0.0.0');
    expect((await check(c, {})).spec!.server.host).toBe('0.0.0.0');
    expect((await check(c, { HOST: '10.1.2.3' })).spec!.server.host).toBe('10.1.2.3');
  });

  it('reports a missing variable with its path and code, and nothing else at that path', async () => {
    const c = exampleConfig();
    c.server.port = '${FENESTRA_PORT}';
    c.sources.transactions.topic = 'tx-${ENVIRONMENT}';
    const { spec, issues } = await check(c, {});
    expect(spec).toBeUndefined();
    expect(issues.map((i) => [i.path, i.code])).toEqual([
      ['server.port', 'CONFIG_ENV_MISSING'],
      ['sources.transactions.topic', 'CONFIG_ENV_MISSING'],
    ]);
    expect(issues[0]!.message).toContain('environment variable "FENESTRA_PORT" is not set');
    expect(issues[0]!.message).toContain('${FENESTRA_PORT:-value}');
  });

  it('keeps $${ as a literal ${ and substitutes in lists', async () => {
    const c = exampleConfig();
    c.sources.transactions.brokers = ['${BROKER}', 'literal-$${NOT_A_VAR}'];
    const { spec, issues } = await check(c, { BROKER: 'kafka:9092' });
    expect(issues, show(issues)).toEqual([]);
    expect(spec!.sources.get('transactions')!.options.brokers).toEqual(['kafka:9092', 'literal-${NOT_A_VAR}']);
  });

  it('rejects a malformed reference', async () => {
    const c = exampleConfig();
    c.server.host = '${9LIVES}';
    const { issues } = await check(c, {});
    expect(issues[0]).toMatchObject({ path: 'server.host', code: 'CONFIG_INVALID' });
    expect(issues[0]!.message).toContain('invalid reference "${9LIVES}"');
  });
});
