import { intOption } from './options.js';
import type { Command } from 'commander';
import { closeSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  batchColumns,
  DEFAULT_GEN_OPTIONS,
  expectedRows,
  generateTransactions,
  TRANSACTION_COLUMNS,
  type TransactionBatch,
  type TransactionGenOptions,
} from '../../core/datagen/transactions.js';
import { FenestraError } from '../../core/errors.js';
import { parseInstant } from '../../core/time/duration.js';
import { FileSink } from '../../adapters/offline/parquet/file-sink.js';
import { ParquetStreamWriter } from '../../adapters/offline/parquet/parquet-writer.js';
import { Progress } from './offline-progress.js';

export type DatasetFormat = 'parquet' | 'ndjson';

export interface GenDataRun extends TransactionGenOptions {
  readonly out: string;
  readonly format: DatasetFormat;
  /** Snappy-compress Parquet pages (default true). */
  readonly compressed?: boolean;
  readonly rowGroupSize?: number;
  readonly quiet?: boolean;
}

export interface GenDataResult {
  readonly rows: number;
  readonly fraud: number;
  readonly seconds: number;
  readonly rowsPerSecond: number;
  readonly out: string;
}

/** Generates the dataset into `out` (written to a temporary name, then renamed into place). */
export async function runGenData(run: GenDataRun): Promise<GenDataResult> {
  const out = resolve(run.out);
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  const progress = new Progress('gen-data', expectedRows(run), { quiet: run.quiet });
  let written = 0;
  let result: { rows: number; fraud: number };
  if (run.format === 'parquet') {
    const sink = new FileSink(tmp);
    const writer = new ParquetStreamWriter(sink, TRANSACTION_COLUMNS, { compressed: run.compressed !== false });
    const groupSize = run.rowGroupSize ?? 262_144;
    let pending: TransactionBatch[] = [];
    let pendingRows = 0;
    const flush = (): void => {
      if (pendingRows === 0) return;
      const cols = TRANSACTION_COLUMNS.map((_, i) => concat(pending.map((b) => batchColumns(b)[i]!), pendingRows));
      writer.writeRowGroup(cols, pendingRows);
      pending = [];
      pendingRows = 0;
    };
    result = await generateTransactions(run, (b) => {
      pending.push(b);
      pendingRows += b.rows;
      if (pendingRows >= groupSize) flush();
      written += b.rows;
      progress.update(written);
    });
    flush();
    writer.finish();
    sink.close({ fsync: true });
  } else {
    const fd = openSync(tmp, 'w');
    result = await generateTransactions(run, (b) => {
      writeSync(fd, ndjsonLines(b));
      written += b.rows;
      progress.update(written);
    });
    closeSync(fd);
  }
  renameSync(tmp, out);
  progress.setTotal(written);
  const { seconds } = progress.stop();
  return { ...result, seconds, rowsPerSecond: result.rows / seconds, out };
}

function concat(parts: ArrayLike<unknown>[], rows: number): ArrayLike<unknown> {
  if (parts.length === 1) return parts[0]!;
  const first = parts[0]!;
  if (first instanceof Float64Array || first instanceof Int32Array) {
    const outArr = first instanceof Float64Array ? new Float64Array(rows) : new Int32Array(rows);
    let off = 0;
    for (const p of parts) {
      outArr.set(p as Float64Array & Int32Array, off);
      off += p.length;
    }
    return outArr;
  }
  const outArr = new Array<unknown>(rows);
  let off = 0;
  for (const p of parts) for (let i = 0; i < p.length; i++) outArr[off++] = p[i];
  return outArr;
}

function ndjsonLines(b: TransactionBatch): string {
  let s = '';
  for (let r = 0; r < b.rows; r++) {
    s += `{"tid":${b.tid[r]},"cc_num":"${b.ccNum[r]}","trans_time":"${new Date(b.transTime[r]!).toISOString()}","amount":${b.amount[r]},"merchant":"${b.merchant[r]}","category":"${b.category[r]}","is_fraud":${b.isFraud[r]}}\n`;
  }
  return s;
}

export function registerGenData(program: Command): Command {
  return program
    .command('gen-data')
    .description('Generate a deterministic card-transaction dataset (fraud bursts and labels included)')
    .requiredOption('--out <path>', 'output file (.parquet or .ndjson)')
    .option('--cards <n>', 'number of cards', String(DEFAULT_GEN_OPTIONS.cards))
    .option('--months <n>', 'months of history', String(DEFAULT_GEN_OPTIONS.months))
    .option('--seed <n>', 'PRNG seed', String(DEFAULT_GEN_OPTIONS.seed))
    .option('--format <fmt>', 'parquet | ndjson (default: from the file extension, else parquet)')
    .option('--fraud-rate <r>', 'share of fraudulent transactions', String(DEFAULT_GEN_OPTIONS.fraudRate))
    .option('--start <date>', 'first day (ISO-8601 date, UTC)', '2020-01-01')
    .option('--no-compression', 'write uncompressed Parquet pages')
    .option('--quiet', 'no progress bar')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      const out = String(o.out);
      const format = (o.format as string | undefined) ?? (/\.(nd)?jsonl?$/i.test(out) ? 'ndjson' : 'parquet');
      if (format !== 'parquet' && format !== 'ndjson') {
        throw new FenestraError('BAD_REQUEST', `--format: expected parquet or ndjson, got "${format}"`, { path: 'format' });
      }
      const start = parseInstant(String(o.start));
      if (start === null) throw new FenestraError('BAD_REQUEST', `--start: not a date: "${String(o.start)}"`, { path: 'start' });
      const fraudRate = Number(o.fraudRate);
      if (!(fraudRate >= 0 && fraudRate < 1)) {
        throw new FenestraError('BAD_REQUEST', `--fraud-rate: expected a number in [0, 1), got "${String(o.fraudRate)}"`, { path: 'fraud-rate' });
      }
      const r = await runGenData({
        out,
        format,
        cards: intOption('cards', String(o.cards), 1),
        months: intOption('months', String(o.months), 1),
        seed: intOption('seed', String(o.seed), 0),
        fraudRate,
        start,
        compressed: o.compression !== false,
        quiet: o.quiet === true,
      });
      process.stdout.write(
        `wrote ${r.rows.toLocaleString('en-US')} transactions (${r.fraud.toLocaleString('en-US')} fraud, ` +
          `${((100 * r.fraud) / Math.max(1, r.rows)).toFixed(2)}%) to ${r.out} in ${r.seconds.toFixed(1)} s ` +
          `(${Math.round(r.rowsPerSecond).toLocaleString('en-US')} rows/s)\n`,
      );
    });
}
