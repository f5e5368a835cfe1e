/**
 * The example third-party plugin uses only Fenestra's public exports: every import in its sources
 * and tests is `fenestra/plugin`, `fenestra/testkit`, its own dependency `pg`, a Node builtin, vitest,
 * or a relative file inside the package. And everything it needs is exported by those two entries.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import * as sdk from '../../../plugins/sdk/index.js';
import * as testkit from '../../../plugins/testkit/index.js';
import { EXAMPLE_PLUGIN_DIR } from './support.js';

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return n === 'node_modules' || n === 'dist' ? [] : tsFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

const ALLOWED = new Set(['fenestra/plugin', 'fenestra/testkit', 'pg', 'vitest', 'vitest/config']);

describe('the example plugin imports only public entries', () => {
  it('every import specifier is public, a dependency, a builtin, or inside the package', () => {
    const files = tsFiles(EXAMPLE_PLUGIN_DIR);
    expect(files.length).toBeGreaterThan(4);
    const bad: string[] = [];
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s+'([^']+)'|import\('([^']+)'\)/g)) {
        const spec = m[1] ?? m[2]!;
        if (ALLOWED.has(spec) || spec.startsWith('node:')) continue;
        if (spec.startsWith('.')) {
          const target = resolve(f, '..', spec);
          if (!relative(EXAMPLE_PLUGIN_DIR, target).startsWith('..')) continue;
        }
        bad.push(`${relative(EXAMPLE_PLUGIN_DIR, f)}: ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('fenestra/plugin and fenestra/testkit export the runtime pieces authors use', () => {
    expect(typeof sdk.definePlugin).toBe('function');
    expect(typeof sdk.isPlugin).toBe('function');
    expect(sdk.isPlugin(sdk.definePlugin({ name: 'x', kind: 'online-store', engine: '*', configSchema: {}, create: () => { throw new Error('unused'); } }))).toBe(true);
    expect(new sdk.FenestraError('STORE_UNAVAILABLE', 'down').status).toBe(503);
    expect(Object.keys(sdk.ERROR_CODES)).toContain('PLUGIN_ENGINE_RANGE');
    expect(sdk.PLUGIN_BRAND).toBe(Symbol.for('fenestra.plugin'));
    for (const fn of ['describeOnlineStoreConformance', 'describeSourceConformance', 'describeOfflineStoreConformance', 'recordSourceCheckpointFixture', 'testLogger'] as const) {
      expect(typeof testkit[fn], fn).toBe('function');
    }
    expect(testkit.onlineStoreCases.length).toBeGreaterThanOrEqual(5);
    expect(testkit.sourceCases.length).toBe(4);
    expect(testkit.offlineStoreCases.length).toBe(3);
  });
});
