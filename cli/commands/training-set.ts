import type { Command } from 'commander';
import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { FenestraError } from '../../core/errors.js';
import type { EngineSpec, SourceSpec } from '../../core/model.js';
import { toFieldValues, toKeys, toTimes } from '../../core/training/columns.js';
import { planTraining, resolveFeatureRefs, type TrainingPlan } from '../../core/training/plan.js';
import { parallelReplayJoin } from '../../core/training/parallel-join.js';
import { availableParallelism } from 'node:os';
import { loadConfig } from '../../config/load.js';
import type { S3Options } from '../../adapters/offline/parquet/blob-store.js';
import type { ParquetCodec } from '../../adapters/offline/parquet/parquet-writer.js';
import { loadFiles, readLoaded, readTable } from '../../adapters/offline/parquet/table-reader.js';
import { copyableColumns, labelColumnNames, writeTrainingSet } from './training-set-output.js';
import { Progress } from './offline-progress.js';

export interface TrainingSetRun {
  readonly spec: EngineSpec;
  readonly labels: string;
  /** A feature service name or comma-separated `group:feature` / `group:*` refs. */
  readonly features: string;
  readonly out: string;
  /** History to replay (default: the offline store's committed `raw/<source>` files). */
  readonly input?: readonly string[];
  /** Label column holding the event time (default: the source's event-time field). */
  readonly labelTime?: string;
  readonly quiet?: boolean;
  /** Output page codec (default gzip: native zlib, ~3× faster to write than Snappy in JS). */
  readonly codec?: ParquetCodec;
  /** Threads for decoding Parquet input and for the replay (split by entity); default 1, at most the machine's cores. Pays off only with idle cores. */
  readonly threads?: number;
}

export interface TrainingSetResult {
  readonly labels: number;
  readonly events: number;
  readonly eventsApplied: number;
  /** History rows skipped as the engine would dead-letter them (required field missing or mistyped). */
  readonly eventsRejected: number;
  readonly seconds: { readonly read: number; readonly join: number; readonly write: number; readonly total: number };
  readonly labelsPerSecond: number;
  readonly out: string;
}

/** The offline store's committed raw history of a source, as a readable location. */
export function offlineRawLocation(spec: EngineSpec, source: string): { location: string; s3: S3Options } {
  if (spec.offline.type !== 'parquet') {
    throw new FenestraError('BAD_REQUEST', `the offline store is "${spec.offline.type}", not parquet: pass --input`, { path: 'offline.type' });
  }
  const o = spec.offline.options as { path?: string; s3?: S3Options };
  const path = o.path ?? './.fenestra/offline';
  const root = path.startsWith('s3://') ? path.replace(/\/+$/, '') : isAbsolute(path) ? path : resolve(spec.baseDir, path);
  return { location: `${root}/raw/${source}`, s3: o.s3 ?? {} };
}

/** Source fields the planned groups read (their values must come from the history). */
function fieldsRead(plan: TrainingPlan): Set<string> {
  const out = new Set<string>();
  for (const g of plan.groups) for (const f of g.stateSpec.features) if (f.field) out.add(f.field);
  return out;
}


export async function runTrainingSet(run: TrainingSetRun): Promise<TrainingSetResult> {
  const t0 = performance.now();
  const { spec } = run;
  const refs = resolveFeatureRefs(spec, run.features);
  const plan = planTraining(spec, refs);
  const src: SourceSpec = plan.source;
  const timeCol = run.labelTime ?? src.eventTimeField;
  const fieldSpecs = new Map(src.fields.map((f) => [f.name, f]));
  const needed = fieldsRead(plan);
  const optionalFields = src.fields.map((f) => f.name).filter((n) => !needed.has(n) && n !== src.keyField && n !== src.eventTimeField);
  const eventCols = [src.keyField, src.eventTimeField, ...needed];
  const requestNames = new Set(plan.groups.flatMap((g) => g.requestFields));

  let inputs: string[];
  let s3: S3Options = (spec.offline.options as { s3?: S3Options }).s3 ?? {};
  if (run.input && run.input.length > 0) inputs = [...run.input];
  else {
    const r = offlineRawLocation(spec, src.name);
    inputs = [r.location];
    s3 = r.s3;
  }
  const readProgress = new Progress('read', 0, { quiet: run.quiet, unit: 'rows' });
  // Labels: loaded once; only the columns the join reads (and those that cannot be copied as stored) are decoded.
  const labelFiles = await loadFiles([run.labels], { baseDir: process.cwd(), s3 });
  const copied = copyableColumns(labelFiles, timeCol);
  const sameFile = inputs.length === 1 && resolve(inputs[0]!) === resolve(run.labels) && !run.labels.startsWith('s3://');
  let labelNames = labelColumnNames(labelFiles);
  const decode = labelNames.length === 0
    ? undefined
    : labelNames.filter((n) => !copied.has(n) || n === src.keyField || n === timeCol || requestNames.has(n) || (sameFile && eventCols.includes(n)));
  const threads = Math.min(run.threads ?? 1, Math.max(1, availableParallelism()));
  const labelTable = await readLoaded(labelFiles, {
    threads,
    ...(decode ? { columns: decode } : {}),
    onProgress: (n) => readProgress.update(n),
  });
  if (labelNames.length === 0) labelNames = labelColumnNames(labelFiles, labelTable);
  for (const c of [src.keyField, timeCol]) {
    if (!labelTable.columns.has(c)) throw new FenestraError('BAD_REQUEST', `labels ${run.labels}: column "${c}" is missing (it has: ${labelNames.join(', ')})`, { path: c });
  }
  const eventTable = sameFile
    ? labelTable
    : await readTable(inputs, { baseDir: process.cwd(), s3, threads, columns: [...eventCols, ...optionalFields], optionalColumns: optionalFields, onProgress: (n) => readProgress.update(labelTable.rows + n) });
  for (const c of eventCols) {
    if (!eventTable.columns.has(c)) throw new FenestraError('BAD_REQUEST', `history ${inputs.join(', ')}: column "${c}" is missing`, { path: c });
  }
  readProgress.stop();
  const t1 = performance.now();

  const events = {
    rows: eventTable.rows,
    keys: toKeys(eventTable.columns.get(src.keyField)!, src.keyField),
    times: toTimes(eventTable.columns.get(src.eventTimeField)!, src.eventTimeField),
    fields: new Map(
      [...eventTable.columns.entries()]
        .filter(([n]) => needed.has(n)) // only what the window code reads
        .map(([n, c]) => [n, toFieldValues(c, fieldSpecs.get(n))] as const),
    ),
  };
  const labelTimes = sameFile && timeCol === src.eventTimeField ? events.times : toTimes(labelTable.columns.get(timeCol)!, timeCol);
  const labels = {
    rows: labelTable.rows,
    keys: sameFile ? events.keys : toKeys(labelTable.columns.get(src.keyField)!, src.keyField),
    times: labelTimes,
    request: new Map(
      [...requestNames].filter((n) => labelTable.columns.has(n)).map((n) => [n, toFieldValues(labelTable.columns.get(n)!, fieldSpecs.get(n))] as const),
    ),
  };
  const joinProgress = new Progress('training-set', labels.rows, { quiet: run.quiet, unit: 'labels' });
  const joined = await parallelReplayJoin(spec, plan, refs, events, labels, threads, (done) => joinProgress.update(done));
  joinProgress.stop();
  const t2 = performance.now();

  // output: label columns (carried through), then features
  const outPath = resolve(run.out);
  mkdirSync(dirname(outPath), { recursive: true });
  await writeTrainingSet({
    path: outPath,
    codec: run.codec ?? 'gzip',
    labelFiles,
    labelNames,
    labels: labelTable,
    labelTime: { name: timeCol, times: labelTimes },
    copied,
    features: plan.groups.flatMap((g) => g.columns.map((name, i) => ({ name, type: g.types[i]!, data: joined.columns.get(name)! }))),
    rows: labels.rows,
  });
  const t3 = performance.now();
  const total = (t3 - t0) / 1000;
  return {
    labels: labels.rows,
    events: events.rows,
    eventsApplied: joined.eventsApplied,
    eventsRejected: joined.eventsRejected,
    seconds: { read: (t1 - t0) / 1000, join: (t2 - t1) / 1000, write: (t3 - t2) / 1000, total },
    labelsPerSecond: labels.rows / total,
    out: outPath,
  };
}

export function registerTrainingSet(program: Command): Command {
  return program
    .command('training-set')
    .description('Point-in-time-correct features for every label row, by replaying history through the engine')
    .requiredOption('-c, --config <file>', 'configuration file')
    .requiredOption('--labels <path>', 'label rows (Parquet or NDJSON; local or s3://): entity key, event time, request fields, other columns')
    .requiredOption('--features <service|refs>', 'a feature service, or group:feature refs (comma-separated; group:* for all)')
    .requiredOption('--out <path>', 'output Parquet file')
    .option('--input <path...>', 'history to replay (files, directories, s3:// URLs; default: the offline store\'s raw/<source>)')
    .option('--label-time <column>', 'label column with the time to read features at (default: the source\'s event-time field)')
    .option('--threads <n>', 'threads for decoding Parquet input and for the replay, split by entity (default 1; worth it on idle cores)')
    .option('--compression <codec>', 'output page compression: gzip | snappy | none', 'gzip')
    .option('--quiet', 'no progress bar')
    .action(async (o: { config: string; labels: string; features: string; out: string; input?: string[]; labelTime?: string; compression: string; threads?: string; quiet?: boolean }) => {
      if (!['gzip', 'snappy', 'none'].includes(o.compression)) {
        throw new FenestraError('BAD_REQUEST', `--compression: expected gzip, snappy or none, got "${o.compression}"`, { path: 'compression' });
      }
      const spec = await loadConfig(o.config);
      const r = await runTrainingSet({ spec, labels: o.labels, features: o.features, out: o.out, input: o.input, labelTime: o.labelTime, codec: o.compression as ParquetCodec, quiet: o.quiet, ...(o.threads ? { threads: Math.max(1, Number(o.threads) | 0) } : {}) });
      process.stdout.write(
        `wrote ${r.labels.toLocaleString('en-US')} rows to ${r.out} in ${r.seconds.total.toFixed(2)} s ` +
          `(read ${r.seconds.read.toFixed(2)} s, replay ${r.seconds.join.toFixed(2)} s of ${r.eventsApplied.toLocaleString('en-US')} events` +
          `${r.eventsRejected > 0 ? ` (${r.eventsRejected} invalid, skipped)` : ''}, ` +
          `write ${r.seconds.write.toFixed(2)} s; ${Math.round(r.labelsPerSecond).toLocaleString('en-US')} rows/s)\n`,
      );
    });
}
