/**
 * Several instances writing one `parquet` offline store (scale-out, `state.shared`): each numbers its
 * checkpoints on its own, so without the writer id in names their files would collide, and one's
 * recovery would delete the other's staged files. Against a real local directory and s3rver, read
 * back with DuckDB.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OfflineBatch } from '../../../core/contracts/offline-store.js';
import { createParquetStore } from '../../../adapters/offline/parquet/index.js';
import { startS3rver, type S3rverHandle } from '../../services/s3rver.js';
import { lit, openDuck, type Duck } from './duckdb.js';

const BUCKET = 'writers-test';
let s3: S3rverHandle;
let duck: Duck;
const tmp = mkdtempSync(join(tmpdir(), 'fenestra-writers-'));

beforeAll(async () => {
  s3 = await startS3rver({ buckets: [BUCKET] });
  duck = await openDuck();
});
afterAll(async () => {
  duck?.close();
  await s3?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const T0 = Date.UTC(2024, 2, 3, 10, 0, 0);

function batch(writer: string, n: number): OfflineBatch {
  return {
    table: 'raw/tx',
    timeColumn: 'trans_time',
    columns: [
      { name: 'cc_num', type: 'string' },
      { name: 'trans_time', type: 'timestamp' },
      { name: 'amount', type: 'double' },
    ],
    data: [Array.from({ length: n }, (_, i) => `${writer}-${i}`), Array.from({ length: n }, (_, i) => T0 + i * 1_000), Array.from({ length: n }, (_, i) => i * 0.5)],
  };
}

describe.each([
  { name: 'local directory', config: () => ({ path: join(tmp, 'local') }), local: true },
  { name: 's3 (s3rver)', config: () => ({ path: `s3://${BUCKET}/shared/`, s3: s3.s3 }), local: false },
])('parquet offline store shared by two writers on $name', ({ config, local }) => {
  it('keeps same-numbered checkpoints of two writers apart, and one writer\'s recovery leaves the other\'s staged files alone', async () => {
    const a = createParquetStore(config(), tmp, undefined, 'a');
    const b = createParquetStore(config(), tmp, undefined, 'b');
    await a.open();
    await b.open();
    // Both writers stage checkpoint 1, sequence 0: the same numbers, different names.
    const [fa] = await a.stageAll(batch('a', 10), 1, 0);
    const [fb] = await b.stageAll(batch('b', 20), 1, 0);
    expect(fa!.final).not.toBe(fb!.final);
    expect(fa!.final).toMatch(/part-a-000000000001-000000\.parquet$/);
    expect(fb!.staged.startsWith('_staging/b/')).toBe(true);
    await a.commit([fa!]);
    // b "crashed" after staging checkpoint 2 and before its checkpoint listed it; a recovers meanwhile.
    const [orphan] = await b.stageAll(batch('b', 5), 2, 0);
    await a.recover([]);
    expect(await b.blobs.exists(fb!.staged), "a's recovery must not delete b's staged file").toBe(true);
    await b.recover([fb!]); // b's own recovery: keeps what its checkpoint lists, removes its orphan
    expect(await b.blobs.exists(orphan!.staged)).toBe(false);
    await b.commit([fb!]);
    const files = await a.list('raw/tx');
    expect([...files].sort()).toEqual([fa!.final, fb!.final].sort());
    if (local) {
      const rows = await duck.rows(`SELECT count(*) AS n, count(DISTINCT cc_num) AS k FROM read_parquet(${lit(join(tmp, 'local', 'raw/tx/*/*/*.parquet'))}, hive_partitioning=true)`);
      expect(rows[0]).toMatchObject({ n: 30n, k: 30n });
    } else {
      let n = 0;
      for (const f of files) {
        const local = join(tmp, f.replaceAll('/', '_'));
        await import('node:fs/promises').then((fs) => a.read(f).then((bytes) => fs.writeFile(local, bytes)));
        const rows = await duck.rows(`SELECT count(*) AS n FROM read_parquet(${lit(local)})`);
        n += Number(rows[0]!['n']);
      }
      expect(n).toBe(30);
    }
    await a.close();
    await b.close();
  });
});
