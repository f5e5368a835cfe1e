/**
 * The directory split registry (core/checkpoint/split-registry.ts): the registry's cases
 * (registry-cases.ts) on a local directory.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll } from 'vitest';
import { DirectorySplitRegistry } from '../../../core/checkpoint/index.js';
import { describeRegistryCases } from './registry-cases.js';

const base = await mkdtemp(join(tmpdir(), 'fenestra-splits-'));
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});
let n = 0;

describeRegistryCases({
  name: 'in a directory',
  guard: 'LOCK',
  async fresh(label) {
    const root = join(base, `${++n}-${label}`);
    await mkdir(root, { recursive: true });
    return {
      registry: (instance, tuning = {}) => new DirectorySplitRegistry(root, instance, tuning),
      list: async (path) => (await readdir(join(root, path))).sort(),
      read: (path) => readFile(join(root, path)),
      write: async (path, bytes) => {
        await mkdir(dirname(join(root, path)), { recursive: true });
        await writeFile(join(root, path), bytes);
      },
      where: (path) => join(root, path),
    };
  },
});
