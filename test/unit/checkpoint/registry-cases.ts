/**
 * The split registry's cases (core/checkpoint/split-registry.ts), run on every shared root it works
 * over (a directory; an S3 prefix): claims ordered by epoch and replaced whole, an unsafe instance id
 * refused, a damaged claim list refused naming it, this instance's checkpoints where peers find them,
 * and a peer's checkpoint read without its writer guard while the peer commits and compacts.
 */
import { describe, expect, it } from 'vitest';
import type { ManifestCheckpointStore } from '../../../core/checkpoint/manifest-store.js';
import type { SplitRegistry } from '../../../core/contracts/split-registry.js';

/** One empty shared root under test. */
export interface RegistryRoot {
  registry(instance: string, tuning?: { minCompactBytes?: number; maxDeltas?: number }): SplitRegistry;
  /** Names of the files / objects directly at `path` below the root, sorted. */
  list(path: string): Promise<string[]>;
  read(path: string): Promise<Buffer>;
  write(path: string, bytes: Uint8Array): Promise<void>;
  /** How error messages name `path` below the root (a path, an s3:// URL). */
  where(path: string): string;
}

export interface RegistryHarness {
  /** "in a directory", "on S3 (s3rver)". */
  readonly name: string;
  /** The writer guard of a checkpoint store: LOCK, LEASE. */
  readonly guard: string;
  fresh(label: string): Promise<RegistryRoot>;
}

export function describeRegistryCases(h: RegistryHarness): void {
  describe(`split registry ${h.name}`, () => {
    it('records claims in epoch order, refuses a stale epoch, and treats re-claiming the same epoch as a no-op', async () => {
      const root = await h.fresh('claims');
      const a = root.registry('a');
      const b = root.registry('b');
      expect(await a.latestClaim('tx', '3')).toBeNull();
      await a.claim('tx', '3', 1);
      await a.claim('tx', '3', 1); // idempotent
      expect(await b.latestClaim('tx', '3')).toMatchObject({ epoch: 1, instance: 'a' });
      await b.claim('tx', '3', 2);
      expect(await a.latestClaim('tx', '3')).toMatchObject({ epoch: 2, instance: 'b' });
      await expect(a.claim('tx', '3', 2)).rejects.toMatchObject({ code: 'SPLIT_HANDOFF_FAILED', message: expect.stringMatching(/instance "b" already claimed epoch 2/) });
      await expect(a.claim('tx', '3', 1)).rejects.toMatchObject({ code: 'SPLIT_HANDOFF_FAILED' });
      expect(await a.latestClaim('tx', '4')).toBeNull();
      // One file / object per split, replaced whole (no temp file left), holding every claim newest last.
      expect(await root.list('splits/tx')).toEqual(['3.json']);
      const body = JSON.parse((await root.read('splits/tx/3.json')).toString('utf8')) as { claims: Array<{ epoch: number; instance: string }> };
      expect(body.claims.map((c) => [c.epoch, c.instance])).toEqual([[1, 'a'], [2, 'b']]);
      await a.close?.();
      await b.close?.();
    });

    it('refuses an instance id that is not a safe file name or key segment, naming state.instanceId', async () => {
      const root = await h.fresh('unsafe');
      expect(() => root.registry('../evil')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', path: 'state.instanceId' }));
    });

    it('reports a damaged claim list as CHECKPOINT_CORRUPT naming it', async () => {
      const root = await h.fresh('damaged');
      const a = root.registry('a');
      await a.claim('tx', '0', 1);
      await root.write('splits/tx/0.json', Buffer.from('{"claims": '));
      await expect(a.latestClaim('tx', '0')).rejects.toMatchObject({ code: 'CHECKPOINT_CORRUPT', path: root.where('splits/tx/0.json') });
    });

    it("keeps each instance's checkpoints under instances/<id>/checkpoints and reads a peer's last checkpoint without its guard, while the peer keeps committing and compacting", async () => {
      const root = await h.fresh('peek');
      // Small deltas, compacted every 3: the peer's reads race compactions that remove the files they name.
      const a = root.registry('a', { minCompactBytes: 0, maxDeltas: 3 });
      const b = root.registry('b');
      expect(a.checkpointLocation('a')).toBe(root.where('instances/a/checkpoints'));
      expect(await b.readCheckpoint('a')).toBeNull();
      const store = a.openCheckpointStore() as ManifestCheckpointStore;
      await store.recover(); // takes the guard: reading must not need it
      expect(await root.list('instances/a/checkpoints')).toEqual([h.guard]);
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
}
