/**
 * The Parquet writer against a real reader: random tables (every column type, nulls, required
 * columns, unicode and empty strings, dictionary and plain string pages, several row groups, every
 * codec) written with `ParquetStreamWriter` read back by DuckDB equal their input (fast-check), and
 * by Fenestra's own hyparquet-based reader too.
 */
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSink } from '../../../adapters/offline/parquet/file-sink.js';
import { ParquetStreamWriter, type ParquetCodec, type WriterColumn } from '../../../adapters/offline/parquet/parquet-writer.js';
import { readTable } from '../../../adapters/offline/parquet/table-reader.js';
import { lit, openDuck, type Duck } from './duckdb.js';

const dir = mkdtempSync(join(tmpdir(), 'fenestra-pqw-'));
let duck: Duck;
beforeAll(async () => {
  duck = await openDuck();
});
afterAll(() => {
  duck?.close();
  rmSync(dir, { recursive: true, force: true });
});

const row = fc.record({
  s: fc.option(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 12 }), fc.constantFrom('a', 'b', 'c', '')), { nil: null }),
  d: fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }), { nil: null }),
  l: fc.option(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), { nil: null }),
  i: fc.option(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { nil: null }),
  b: fc.option(fc.boolean(), { nil: null }),
  t: fc.option(fc.integer({ min: 0, max: 4_102_444_800_000 }), { nil: null }),
  k: fc.constantFrom('k1', 'k2', 'k3'),
});

let fileNo = 0;

describe('ParquetStreamWriter', () => {
  it('round-trips random tables through DuckDB and hyparquet', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 300 }), fc.integer({ min: 1, max: 120 }), fc.constantFrom<ParquetCodec>('snappy', 'gzip', 'none'), async (rows, groupSize, codec) => {
        const cols: WriterColumn[] = [
          { name: 's', type: 'string' },
          { name: 'd', type: 'double' },
          { name: 'l', type: 'long' },
          { name: 'i', type: 'int' },
          { name: 'b', type: 'boolean' },
          { name: 't', type: 'timestamp' },
          { name: 'k', type: 'string', required: true },
        ];
        const path = join(dir, `f${fileNo++}.parquet`);
        const sink = new FileSink(path);
        const w = new ParquetStreamWriter(sink, cols, { codec });
        for (let s = 0; s < rows.length; s += groupSize) {
          const part = rows.slice(s, s + groupSize);
          w.writeRowGroup(cols.map((c) => part.map((r) => r[c.name as keyof typeof r])));
        }
        w.finish();
        sink.close();
        const got = await duck.rows(`SELECT s, d, l::DOUBLE AS l, i, b, epoch_ms(t)::DOUBLE AS t, k, typeof(t) AS tt FROM read_parquet(${lit(path)})`);
        expect(got.length).toBe(rows.length);
        got.forEach((g, n) => {
          const r = rows[n]!;
          expect(g.s).toBe(r.s);
          expect(g.d === null ? null : Object.is(g.d, -0) ? 0 : g.d).toBe(r.d === null ? null : Object.is(r.d, -0) ? 0 : r.d);
          expect(g.l).toBe(r.l);
          expect(g.i).toBe(r.i);
          expect(g.b).toBe(r.b);
          expect(g.t).toBe(r.t);
          expect(g.k).toBe(r.k);
          expect(g.tt).toBe('TIMESTAMP');
        });
        const mine = await readTable([path]);
        expect(Array.from(mine.columns.get('s')!)).toEqual(rows.map((r) => r.s));
        expect(Array.from(mine.columns.get('t')!)).toEqual(rows.map((r) => r.t));
        expect(Array.from(mine.columns.get('l')!).map((v) => (v === null ? null : Number(v)))).toEqual(rows.map((r) => r.l));
      }),
      { numRuns: 60 },
    );
  });

  it('treats NaN in double columns as null and refuses nulls in required columns', async () => {
    const path = join(dir, 'nan.parquet');
    const sink = new FileSink(path);
    const w = new ParquetStreamWriter(sink, [{ name: 'x', type: 'double' }]);
    w.writeRowGroup([new Float64Array([1.5, NaN, 3])]);
    w.finish();
    sink.close();
    const got = await duck.rows(`SELECT x FROM read_parquet(${lit(path)})`);
    expect(got.map((r) => r.x)).toEqual([1.5, null, 3]);
    const w2 = new ParquetStreamWriter(new FileSink(join(dir, 'req.parquet')), [{ name: 'k', type: 'string', required: true }]);
    expect(() => w2.writeRowGroup([['a', null]])).toThrow(/required/);
  });
});
