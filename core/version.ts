import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

function findPackageJson(): string {
  // core/version.ts (sources, run by tsx/vitest) or dist/core/version.js (built).
  for (const rel of ['../package.json', '../../package.json']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error('fenestra: package.json not found beside core/');
}

/** Fenestra's own version, read once from package.json (checked against plugins' `engine` ranges). */
export const ENGINE_VERSION: string = (JSON.parse(readFileSync(findPackageJson(), 'utf8')) as { version: string }).version;
