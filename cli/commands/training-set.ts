import { intOption } from './options.js';
import type { Command } from 'commander';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { FenestraError } from '../../core/errors.js';
import type { EngineSpec, SourceSpec } from '../../core/model.js';
import { toFieldValues, toKeys, toTimes } from '../../core/training/columns.js';
import { planTraining, resolveFeatureRefs, type TrainingPlan } from '../../core/training/plan.js';
import { parallelReplayJoin } from '../../core/training/parallel-join.js';
import type { EventColumns, FeatureColumn, LabelColumns } from '../../core/training/replay-join.js';
import { storedJoin, type StoredHistoryColumns } from '../../core/training/stored-join.js';
import { availableParallelism } from 'node:os';
import { loadConfig } from '../../config/load.js';
import type { S3Options } from '../../adapters/offline/parquet/blob-store.js';
import type { ParquetCodec } from '../../adapters/offline/parquet/parquet-writer.js';
import { loadFiles, readLoaded, readTable } from '../../adapters/offline/parquet/table-reader.js';
import { copyableColumns, labelColumnNames, writeTrainingSet } from './training-set-output.js';
import { Progress } from './offline-progress.js';
import { offlineTableLocation, readStoredHistory } from './training-set-stored.js';

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
  /** Rows of the stored groups' histories read (`stored/<group>`), all groups together. */
  readonly storedRows: number;
  readonly seconds: { readonly read: number; readonly join: number; readonly write: number; readonly total: number };
  readonly labelsPerSecond: number;
  readonly out: string;
}

/** The offline store's committed raw history of a source, as a readable location. */
export function offlineRawLocation(spec: EngineSpec, source: string): { location: string; s3: S3Options } {
  return offlineTableLocation(spec, `raw/${source}`);
}

/** Source fields the planned groups read (their values must come from the history). */
function fieldsRead(plan: TrainingPlan): Set<string> {
  const out = new Set<string>();
  for (const g of plan.groups) for (const f of g.stateSpec.features) if (f.field) out.add(f.field);
  return out;
}

/** `f()`, with a Fenestra error's message prefixed by where the bad value was read (code and path kept). */
function naming<T>(where: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof FenestraError) throw new FenestraError(e.code, `${where}: ${e.message}`, { ...(e.path !== undefined ? { path: e.path } : {}), cause: e });
    throw e;
  }
}

const NO_EVENTS: EventColumns = { rows: 0, keys: [], times: new Float64Array(0), fields: new Map() };

/**
 * Computes a training set: aggregated groups by replaying one source's history (`--input`, default
 * the offline store's `raw/<source>`), stored groups by an as-of join over their committed
 * `stored/<group>` history (core/training/stored-join.ts). A training set of stored groups only
 * reads no source history.
 */
export async function runTrainingSet(run: TrainingSetRun): Promise<TrainingSetResult> {
  const t0 = performance.now();
  const { spec } = run;
  const refs = resolveFeatureRefs(spec, run.features);
  const plan = planTraining(spec, refs);
  const src: SourceSpec | null = plan.source;
  const keyField = plan.keyField;
  const timeCol = run.labelTime ?? plan.timeField;
  const fieldSpecs = new Map((src?.fields ?? []).map((f) => [f.name, f]));
  const needed = fieldsRead(plan);
  const optionalFields = src ? src.fields.map((f) => f.name).filter((n) => !needed.has(n) && n !== src.keyField && n !== src.eventTimeField) : [];
  const eventCols = src ? [src.keyField, src.eventTimeField, ...needed] : [];
  const requestNames = new Set([...plan.groups.flatMap((g) => g.requestFields), ...plan.stored.flatMap((g) => g.requestFields)]);

  let inputs: string[] = [];
  let s3: S3Options = (spec.offline.options as { s3?: S3Options }).s3 ?? {};
  if (run.input && run.input.length > 0) {
    if (!src) throw new FenestraError('BAD_REQUEST', '--input names a source\'s history, but every requested feature is of a stored group (read from the offline store\'s stored/<group>)', { path: 'input' });
    inputs = [...run.input];
  } else if (src) {
    const r = offlineRawLocation(spec, src.name);
    inputs = [r.location];
    s3 = r.s3;
  }
  const readProgress = new Progress('read', 0, { quiet: run.quiet, unit: 'rows' });
  // Labels: loaded once; only the columns the join reads (and those that cannot be copied as stored) are decoded.
  const labelFiles = await loadFiles([run.labels], { baseDir: process.cwd(), s3 });
  const copied = copyableColumns(labelFiles, timeCol);
  const sameFile = src !== null && inputs.length === 1 && resolve(inputs[0]!) === resolve(run.labels) && !run.labels.startsWith('s3://');
  let labelNames = labelColumnNames(labelFiles);
  const decode = labelNames.length === 0
    ? undefined
    : labelNames.filter((n) => !copied.has(n) || n === keyField || n === timeCol || requestNames.has(n) || (sameFile && eventCols.includes(n)));
  const threads = Math.min(run.threads ?? 1, Math.max(1, availableParallelism()));
  const labelTable = await readLoaded(labelFiles, {
    threads,
    ...(decode ? { columns: decode } : {}),
    onProgress: (n) => readProgress.update(n),
  });
  if (labelNames.length === 0) labelNames = labelColumnNames(labelFiles, labelTable);
  for (const c of [keyField, timeCol]) {
    if (!labelTable.columns.has(c)) throw new FenestraError('BAD_REQUEST', `labels ${run.labels}: column "${c}" is missing (it has: ${labelNames.join(', ')})`, { path: c });
  }
  const eventTable = !src
    ? null
    : sameFile
      ? labelTable
      : await readTable(inputs, { baseDir: process.cwd(), s3, threads, columns: [...eventCols, ...optionalFields], optionalColumns: optionalFields, onProgress: (n) => readProgress.update(labelTable.rows + n) });
  for (const c of eventCols) {
    if (!eventTable!.columns.has(c)) throw new FenestraError('BAD_REQUEST', `history ${inputs.join(', ')}: column "${c}" is missing`, { path: c });
  }
  const events: EventColumns =
    !src || !eventTable
      ? NO_EVENTS
      : {
          rows: eventTable.rows,
          keys: naming(`history ${inputs.join(', ')}`, () => toKeys(eventTable.columns.get(src.keyField)!, src.keyField)),
          times: naming(`history ${inputs.join(', ')}`, () => toTimes(eventTable.columns.get(src.eventTimeField)!, src.eventTimeField)),
          fields: new Map(
            [...eventTable.columns.entries()]
              .filter(([n]) => needed.has(n)) // only what the window code reads
              .map(([n, c]) => [n, toFieldValues(c, fieldSpecs.get(n))] as const),
          ),
        };
  let readRows = labelTable.rows + events.rows;
  const storedHistories: StoredHistoryColumns[] = [];
  for (const g of plan.stored) {
    const base = readRows;
    const history = await readStoredHistory(spec, g, { threads, onProgress: (n) => readProgress.update(base + n) });
    readRows += history.rows;
    storedHistories.push(history);
  }
  readProgress.stop();
  const t1 = performance.now();

  const labelTimes = sameFile && timeCol === src!.eventTimeField ? events.times : naming(`labels ${run.labels}`, () => toTimes(labelTable.columns.get(timeCol)!, timeCol));
  const labels: LabelColumns = {
    rows: labelTable.rows,
    keys: sameFile ? events.keys : naming(`labels ${run.labels}`, () => toKeys(labelTable.columns.get(keyField)!, keyField)),
    times: labelTimes,
    // A request field the labels lack is missing on every row, as in a serving request without it
    // (core/derived/evaluate.ts: null, or 0 with onNull: zero).
    request: new Map(
      [...requestNames].filter((n) => labelTable.columns.has(n)).map((n) => [n, toFieldValues(labelTable.columns.get(n)!, fieldSpecs.get(n))] as const),
    ),
  };
  const joinProgress = new Progress('training-set', labels.rows, { quiet: run.quiet, unit: 'labels' });
  const columns = new Map<string, FeatureColumn>();
  let eventsApplied = 0;
  let eventsRejected = 0;
  if (plan.groups.length > 0) {
    const joined = await parallelReplayJoin(spec, plan, refs, events, labels, threads, (done) => joinProgress.update(done));
    for (const [n, c] of joined.columns) columns.set(n, c);
    eventsApplied = joined.eventsApplied;
    eventsRejected = joined.eventsRejected;
  }
  plan.stored.forEach((g, i) => {
    for (const [n, c] of storedJoin(spec, g, storedHistories[i]!, labels)) columns.set(n, c);
  });
  joinProgress.update(labels.rows);
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
    features: plan.output.map((o) => ({ name: o.column, type: o.type, data: columns.get(o.column)! })),
    rows: labels.rows,
  });
  const t3 = performance.now();
  const total = (t3 - t0) / 1000;
  return {
    labels: labels.rows,
    events: events.rows,
    eventsApplied,
    eventsRejected,
    storedRows: storedHistories.reduce((a, h) => a + h.rows, 0),
    seconds: { read: (t1 - t0) / 1000, join: (t2 - t1) / 1000, write: (t3 - t2) / 1000, total },
    labelsPerSecond: labels.rows / total,
    out: outPath,
  };
}

export function registerTrainingSet(program: Command): Command {
  return program
    .command('training-set')
    .description('Point-in-time-correct features for every label row: aggregated groups by replaying history through the engine, stored groups by an as-of join over their offline history')
    .requiredOption('-c, --config <file>', 'configuration file')
    .requiredOption('--labels <path>', 'label rows (Parquet or NDJSON; local or s3://): entity key, event time, request fields, other columns')
    .requiredOption('--features <service|refs>', 'a feature service, or group:feature refs (comma-separated; group:* for all)')
    .requiredOption('--out <path>', 'output Parquet file')
    .option('--input <path...>', 'history to replay (files, directories, s3:// URLs; default: the offline store\'s raw/<source>)')
    .option('--label-time <column>', 'label column with the time to read features at (default: the source\'s event-time field; stored groups only: the first one\'s event-time feature)')
    .option('--threads <n>', 'threads for decoding Parquet input and for the replay, split by entity (default 1; worth it on idle cores)')
    .option('--compression <codec>', 'output page compression: gzip | snappy | none', 'gzip')
    .option('--quiet', 'no progress bar')
    .action(async (o: { config: string; labels: string; features: string; out: string; input?: string[]; labelTime?: string; compression: string; threads?: string; quiet?: boolean }) => {
      if (!['gzip', 'snappy', 'none'].includes(o.compression)) {
        throw new FenestraError('BAD_REQUEST', `--compression: expected gzip, snappy or none, got "${o.compression}"`, { path: 'compression' });
      }
      const spec = await loadConfig(o.config);
      const r = await runTrainingSet({ spec, labels: o.labels, features: o.features, out: o.out, input: o.input, labelTime: o.labelTime, codec: o.compression as ParquetCodec, quiet: o.quiet, ...(o.threads !== undefined ? { threads: intOption('threads', o.threads, 1) } : {}) });
      process.stdout.write(
        `wrote ${r.labels.toLocaleString('en-US')} rows to ${r.out} in ${r.seconds.total.toFixed(2)} s ` +
          `(read ${r.seconds.read.toFixed(2)} s, replay ${r.seconds.join.toFixed(2)} s of ${r.eventsApplied.toLocaleString('en-US')} events` +
          `${r.eventsRejected > 0 ? ` (${r.eventsRejected} invalid, skipped)` : ''}` +
          `${r.storedRows > 0 ? ` and ${r.storedRows.toLocaleString('en-US')} stored records` : ''}, ` +
          `write ${r.seconds.write.toFixed(2)} s; ${Math.round(r.labelsPerSecond).toLocaleString('en-US')} rows/s)\n`,
      );
    });
}
