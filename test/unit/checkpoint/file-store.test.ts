/**
 * FileCheckpointStore (the checkpoint store over a local directory): the store's cases
 * (store-cases.ts), and the directory's own writer guard, the LOCK file.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { FileCheckpointStore } from '../../../core/checkpoint/index.js';
import { bytes, data, describeStoreCases, expectCode, type StoreTarget } from './store-cases.js';

const root = await mkdtemp(join(tmpdir(), 'fenestra-ckpt-'));
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
let n = 0;

async function freshDir(label: string): Promise<string> {
  const dir = join(root, `${++n}-${label}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

describeStoreCases({
  name: 'on a local directory',
  guard: 'LOCK',
  runs: { corrupt: 60, compaction: 25 },
  async fresh(label): Promise<StoreTarget> {
    const dir = await freshDir(label);
    return {
      open: (opts = {}) => new FileCheckpointStore({ ...opts, dir }),
      list: async () => (await readdir(dir)).sort(),
      get: (name) => readFile(join(dir, name)),
      put: (name, b) => writeFile(join(dir, name), b),
      remove: (name) => rm(join(dir, name)),
      where: (name) => join(dir, name),
    };
  },
  // A crash half-way through writing checkpoint 2, and one half-way through replacing the manifest.
  async tornWrites(t) {
    await t.put('delta-000000000002.fnck.tmp', Buffer.from('FNCK\x01\x00garbage'));
    await t.put('MANIFEST.tmp', Buffer.from('FNCK'));
  },
});

describe('FileCheckpointStore', () => {
  it('allows one live process per directory (STATE_LOCKED), takes over a dead owner\'s lock, releases on close', async () => {
    const dir = await freshDir('lock');
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      await writeFile(join(dir, 'LOCK'), String(other.pid));
      await expectCode(new FileCheckpointStore({ dir }).recover(), 'STATE_LOCKED', 'LOCK');
    } finally {
      other.kill('SIGKILL');
      await new Promise((r) => other.once('exit', r));
    }
    // The owner is dead now: its lock is stale and taken over.
    const s = new FileCheckpointStore({ dir });
    expect(await s.recover()).toBeNull();
    expect((await readFile(join(dir, 'LOCK'), 'utf8')).trim()).toBe(String(process.pid));
    await s.commit(data(1, [{ group: 'g', key: 'k', value: bytes('v') }]));
    await s.close();
    expect((await readdir(dir)).includes('LOCK')).toBe(false);
  });
});
