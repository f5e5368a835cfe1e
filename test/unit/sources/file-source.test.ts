import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { parquetWriteFile } from 'hyparquet-writer';
import filePlugin from '../../../adapters/sources/file/index.js';
import { parseCsvRecord } from '../../../adapters/sources/file/csv-parse.js';
import type { Source, SourceRecord } from '../../../core/contracts/source.js';
import type { SplitState } from '../../../core/contracts/position.js';
import { MalformedRecord } from '../../../core/event/malformed.js';
import { silentLogger } from '../../../core/runtime/logger.js';
import type { SourceSpec } from '../../../core/model.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fenestra-file-src-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const spec: SourceSpec = {
  name: 'tx', type: 'file', entity: 'card', keyField: 'k', eventTimeField: 't', allowedLateness: 0, exactlyOnce: true, options: {},
  fields: [{ name: 'k', type: 'string', optional: false }, { name: 't', type: 'long', optional: false }],
};

async function openSource(path: string, restored: SplitState[] = [], extra: Record<string, unknown> = {}): Promise<Source> {
  const src = await filePlugin.create({ path, ...extra }, { logger: silentLogger, baseDir: dir, engineVersion: '0.1.0', source: spec });
  await src.open({ spec, restored, logger: silentLogger, dataDir: dir, onRevoked: async () => undefined, onAssigned: async () => [] });
  return src;
}

async function readAll(src: Source, batch: number, limit = Infinity): Promise<SourceRecord[]> {
  const out: SourceRecord[] = [];
  while (out.length < limit) {
    const r = await src.poll(Math.min(batch, limit - out.length), 0);
    if (r.length === 0 && src.finished()) break;
    out.push(...r);
  }
  return out;
}

const valueOf = (r: SourceRecord): unknown => (r.value instanceof MalformedRecord ? `MALFORMED:${r.value.raw}` : r.value);

/** Reads `limit` records, then reopens at the positions reached and reads the rest. */
async function readWithRestart(path: string, batch: number, limit: number, extra: Record<string, unknown> = {}): Promise<unknown[]> {
  const first = await openSource(path, [], extra);
  const head = await readAll(first, batch, limit);
  await first.close();
  const positions = new Map<string, string | number>();
  for (const r of head) positions.set(r.split, r.position);
  const second = await openSource(path, [...positions].map(([id, position]) => ({ id, position })), extra);
  // Each split resumes at its last position; files not reached yet start at 0.
  const tail = await readAll(second, batch);
  await second.close();
  return [...head, ...tail].map(valueOf);
}

describe('file source', () => {
  it('reads NDJSON lines (CRLF, blank lines, no final newline) and resumes at any byte position', async () => {
    const lines = Array.from({ length: 300 }, (_, i) => (i % 50 === 7 ? '{broken' : JSON.stringify({ k: `c${i % 13}`, t: i, s: 'ü'.repeat(i % 3) })));
    const text = lines.map((l, i) => (i % 11 === 0 ? `${l}\r\n\n` : `${l}\n`)).join('').replace(/\n$/, '');
    const path = join(dir, 'a.ndjson');
    await writeFile(path, text);
    const all = (await readAll(await openSource(path), 64)).map(valueOf);
    expect(all).toEqual(lines);
    // Lag: estimated records left in the split being read.
    const partial = await openSource(path);
    await readAll(partial, 50, 100);
    const lag = partial.lag!()['a.ndjson']!;
    expect(lag).toBeGreaterThan(150);
    expect(lag).toBeLessThan(250);
    await readAll(partial, 500);
    expect(partial.lag!()).toEqual({});
    await partial.close();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 97 }), async (cut, batch) => {
        expect(await readWithRestart(path, batch, cut)).toEqual(lines);
      }),
      { numRuns: 30 },
    );
  });

  it('parses CSV with quotes, embedded newlines and bad rows, and resumes at any record', async () => {
    const rows: string[] = ['k,t,note'];
    const expected: unknown[] = [];
    for (let i = 0; i < 200; i++) {
      if (i % 40 === 5) {
        rows.push(`c${i},${i}`);
        expected.push(`MALFORMED:c${i},${i}`);
      } else if (i % 3 === 0) {
        rows.push(`"c${i}",${i},"say ""hi""\nnext line, ok"`);
        expected.push({ k: `c${i}`, t: String(i), note: 'say "hi"\nnext line, ok' });
      } else {
        rows.push(`c${i},${i},`);
        expected.push({ k: `c${i}`, t: String(i) });
      }
    }
    const path = join(dir, 'b.csv');
    await writeFile(path, `\uFEFF${rows.join('\r\n')}\r\n`);
    expect((await readAll(await openSource(path), 17)).map(valueOf)).toEqual(expected);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 1, max: 50 }), async (cut, batch) => {
        expect(await readWithRestart(path, batch, cut)).toEqual(expected);
      }),
      { numRuns: 30 },
    );
  });

  it('CSV parser agrees with a brute-force field splitter on simple rows (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z0-9 ]*$/), { minLength: 1, maxLength: 6 }), (fields) => {
        const r = parseCsvRecord(Buffer.from(`${fields.join(',')}\n`), 0x2c, true);
        expect(r.kind).toBe('record');
        if (r.kind === 'record') expect(r.fields).toEqual(fields.map((f) => (f === '' ? null : f)));
      }),
    );
  });

  it('CSV parser round-trips any fields written with RFC 4180 quoting, in chunks of any size (property)', () => {
    const quote = (f: string): string => (/[",\r\n]/.test(f) || f === '' ? `"${f.replace(/"/g, '""')}"` : f);
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.string({ unit: fc.constantFrom('a', 'é', '€', ',', '"', '\n', '\r', ' ', '1') }), { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        (rows, crlf) => {
          const text = rows.map((r) => r.map(quote).join(',')).join(crlf ? '\r\n' : '\n');
          const buf = Buffer.from(text);
          const out: (string | null)[][] = [];
          let at = 0;
          while (at < buf.byteLength) {
            // Incomplete at every shorter prefix is allowed; the full buffer must parse.
            const r = parseCsvRecord(buf.subarray(at), 0x2c, true);
            expect(r.kind).toBe('record');
            if (r.kind !== 'record') return;
            out.push(r.fields);
            at += r.next;
          }
          expect(out).toEqual(rows);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reads Parquet rows (several row groups) and a directory of mixed files in name order', async () => {
    const n = 2500;
    const sub = join(dir, 'mixed');
    await rm(sub, { recursive: true, force: true });
    await (await import('node:fs/promises')).mkdir(sub);
    parquetWriteFile({
      filename: join(sub, '1.parquet'),
      columnData: [
        { name: 'k', data: Array.from({ length: n }, (_, i) => `p${i % 7}`), type: 'STRING' },
        { name: 't', data: Array.from({ length: n }, (_, i) => BigInt(i)), type: 'INT64' },
      ],
      rowGroupSize: 1000,
    });
    await writeFile(join(sub, '2.ndjson'), '{"k":"x","t":1}\n{"k":"y","t":2}\n');
    await writeFile(join(sub, 'notes.txt'), 'ignored');
    const expected = [...Array.from({ length: n }, (_, i) => ({ k: `p${i % 7}`, t: BigInt(i) })), '{"k":"x","t":1}', '{"k":"y","t":2}'];
    const src = await openSource(sub);
    const all = await readAll(src, 333);
    expect(all.map(valueOf)).toEqual(expected);
    expect(new Set(all.map((r) => r.split))).toEqual(new Set(['1.parquet', '2.ndjson']));
    for (const cut of [0, 1, 999, 1000, 1001, 2499, 2500, 2501]) {
      expect(await readWithRestart(sub, 250, cut)).toEqual(expected);
    }
    // A glob selects files by name.
    expect((await readAll(await openSource(join(sub, '*.ndjson')), 10)).map(valueOf)).toEqual(expected.slice(n));
  });

  it('reports a missing path as CONFIG_INVALID', async () => {
    await expect(openSource(join(dir, 'nope.ndjson'))).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
