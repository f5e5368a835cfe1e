/**
 * The directory split registry (core/checkpoint/split-registry.ts): claims are ordered by epoch and
 * atomic; a peer's checkpoint is read without its lock and survives the peer compacting meanwhile.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DirectorySplitRegistry, FileCheckpointStore } from '../../../core/checkpoint/index.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'fenestra-splits-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('DirectorySplitRegistry', () => {
  it('records claims in epoch order, refuses a stale epoch, and treats re-claiming the same epoch as a no-op', async () => {
    const a = new DirectorySplitRegistry(root, 'a');
    const b = new DirectorySplitRegistry(root, 'b');
    expect(await a.latestClaim('tx', '3')).toBeNull();
    await a.claim('tx', '3', 1);
    await a.claim('tx', '3', 1); // idempotent
    expect(await b.latestClaim('tx', '3')).toMatchObject({ epoch: 1, instance: 'a' });
    await b.claim('tx', '3', 2);
    expect(await a.latestClaim('tx', '3')).toMatchObject({ epoch: 2, instance: 'b' });
    await expect(a.claim('tx', '3', 2)).rejects.toMatchObject({ code: 'SPLIT_HANDOFF_FAILED', message: expect.stringMatching(/instance "b" already claimed epoch 2/) });
    await expect(a.claim('tx', '3', 1)).rejects.toMatchObject({ code: 'SPLIT_HANDOFF_FAILED' });
    expect(await a.latestClaim('tx', '4')).toBeNull();
    // No temp file is left behind by the atomic replacement.
    expect((await readdir(join(root, 'splits', 'tx'))).sort()).toEqual(['3.json']);
  });

  it('refuses an instance id that is not a safe file name, naming state.instanceId', () => {
    expect(() => new DirectorySplitRegistry(root, '../evil')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', path: 'state.instanceId' }));
  });

  it('reports a damaged claim file as CHECKPOINT_CORRUPT with its path', async () => {
    const a = new DirectorySplitRegistry(root, 'a');
    await a.claim('tx', '0', 1);
    await writeFile(join(root, 'splits', 'tx', '0.json'), '{"claims": ');
    await expect(a.latestClaim('tx', '0')).rejects.toMatchObject({ code: 'CHECKPOINT_CORRUPT', path: join(root, 'splits', 'tx', '0.json') });
  });

  it("reads a peer's last checkpoint without its lock, while the peer keeps committing and compacting", async () => {
    const a = new DirectorySplitRegistry(root, 'a');
    const b = new DirectorySplitRegistry(root, 'b');
    expect(await b.readCheckpoint('a')).toBeNull();
    const store = new FileCheckpointStore({ dir: a.checkpointDir('a'), maxDeltas: 3, minCompactBytes: 0 });
    await store.recover(); // takes the peer's lock: reading must not need it
    const value = (n: number) => new TextEncoder().encode(`v${n}`);
    for (let id = 1; id <= 40; id++) {
      await store.commit({
        id,
        createdAt: id,
        positions: { tx: { '0': id } },
        entries: [{ group: 'g', key: `k${id % 7}`, value: value(id) }],
        offlineFiles: [],
        meta: { splitEpochs: { tx: { '0': 1 } } },
      });
      const seen = await b.readCheckpoint('a');
      expect(seen?.id).toBe(id);
      expect(seen?.positions).toEqual({ tx: { '0': id } });
      const got = new Map([...seen!.entries()].map((e) => [e.key, new TextDecoder().decode(e.value!)]));
      expect(got.get(`k${id % 7}`)).toBe(`v${id}`);
    }
    await store.close();
    expect(store.stats().compactions).toBeGreaterThan(0);
  });
});
