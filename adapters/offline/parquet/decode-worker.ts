/**
 * Worker-thread entry of the parallel Parquet read (table-reader.ts): decodes row groups [from, to)
 * of the file in a SharedArrayBuffer and posts them back, typed arrays transferred and string
 * columns dictionary-encoded (`EncodedStrings`).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openParquetBytes } from './parquet-reader.js';
import { decodeRowGroups, encodeForTransfer } from './row-groups.js';

const { bytes, from, to, want } = workerData as { bytes: SharedArrayBuffer; from: number; to: number; want: string[] };
try {
  // a private copy: text decoding refuses views of shared memory
  const pq = openParquetBytes(new Uint8Array(bytes).slice());
  const groups: Array<{ rows: number; columns: Record<string, unknown> }> = [];
  const transfer: ArrayBuffer[] = [];
  await decodeRowGroups(pq, from, to, want, (rg) => {
    const columns: Record<string, unknown> = {};
    for (const [n, col] of rg.columns) {
      const c = encodeForTransfer(col);
      columns[n] = c;
      if (ArrayBuffer.isView(c)) transfer.push(c.buffer as ArrayBuffer);
      else if ('kind' in c) transfer.push(c.ids.buffer as ArrayBuffer);
    }
    groups.push({ rows: rg.rows, columns });
  });
  // a buffer shared by several views is listed once
  parentPort!.postMessage({ ok: true, groups }, [...new Set(transfer)]);
} catch (e) {
  parentPort!.postMessage({ ok: false, message: e instanceof Error ? e.message : String(e) });
}
