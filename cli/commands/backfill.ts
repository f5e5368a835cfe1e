import type { Command } from 'commander';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { resolvePlugins } from '../../config/plugins.js';
import { loadConfig } from '../../config/load.js';
import { FileCheckpointStore } from '../../core/checkpoint/index.js';
import type { OnlineStore } from '../../core/contracts/online-store.js';
import type { Source } from '../../core/contracts/source.js';
import { FenestraError } from '../../core/errors.js';
import type { EngineSpec } from '../../core/model.js';
import { TimeRangeSource } from '../../core/offline/time-range-source.js';
import { Engine } from '../../core/runtime/engine.js';
import { silentLogger } from '../../core/runtime/logger.js';
import { defaultDerived } from '../../core/runtime/reader.js';
import { parseInstant } from '../../core/time/duration.js';
import { ENGINE_VERSION } from '../../core/version.js';
import fileSourcePlugin from '../../adapters/sources/file/index.js';
import type { S3Options } from '../../adapters/offline/parquet/blob-store.js';
import { openParquetBytes } from '../../adapters/offline/parquet/parquet-reader.js';
import { resolveInputs } from '../../adapters/offline/parquet/table-reader.js';
import { offlineRawLocation } from './training-set.js';
import { Progress } from './offline-progress.js';

export interface BackfillRun {
  readonly spec: EngineSpec;
  /** Event-time range [from, to) replayed. */
  readonly from: number;
  readonly to: number;
  /** History (files, directories, s3:// URLs); default: the offline store's `raw/<source>`. */
  readonly input?: readonly string[];
  /** Write the state to the config's online store too (default true; `embedded` serves from state). */
  readonly online?: boolean;
  readonly quiet?: boolean;
  readonly batchSize?: number;
}

export interface BackfillResult {
  readonly eventsRead: number;
  readonly eventsApplied: number;
  readonly deadLettered: number;
  readonly entities: number;
  readonly checkpoints: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
}

/**
 * Makes the history of one source readable by the `file` source as a flat directory whose file
 * names keep the partition order (`date=…__hour=…__part-….parquet`; stable names, so an
 * interrupted backfill resumes from its checkpoint): local files are symlinked, S3 objects
 * downloaded. Returns the directory and the total row count of its Parquet files (for the ETA).
 */
async function stageHistory(locations: readonly string[], s3: S3Options, dir: string): Promise<{ path: string; rows: number }> {
  const { files, close } = await resolveInputs(locations, { s3 });
  try {
    if (files.length === 0) throw new FenestraError('BAD_REQUEST', `no history files at ${locations.join(', ')}`, { path: 'input' });
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const roots = locations.map((l) => (l.startsWith('s3://') ? l.replace(/\/+$/, '') : resolve(l)));
    let rows = 0;
    for (const f of files) {
      const root = roots.find((r) => f.name.startsWith(r)) ?? '';
      const rel = f.name.slice(root.length).replace(/^\/+/, '') || f.name.split('/').pop()!;
      const dest = join(dir, rel.split('/').join('__'));
      if (f.name.startsWith('s3://')) {
        const bytes = await f.load();
        await writeFile(dest, bytes);
        if (dest.endsWith('.parquet')) rows += Number(openParquetBytes(bytes).metadata.num_rows);
      } else {
        await symlink(f.name, dest);
        if (dest.endsWith('.parquet')) rows += Number(openParquetBytes(await f.load()).metadata.num_rows);
      }
    }
    return { path: dir, rows };
  } finally {
    await close();
  }
}

/** Replays history through the engine (checkpointed state, online store), like `fenestra start` on file sources. */
export async function runBackfill(run: BackfillRun): Promise<BackfillResult> {
  const { spec } = run;
  if (!(run.from < run.to)) throw new FenestraError('BAD_REQUEST', '--from must be before --to', { path: 'from' });
  const fed = new Set<string>();
  for (const g of spec.groups.values()) if (g.kind === 'aggregated') fed.add(g.source);
  if (fed.size === 0) throw new FenestraError('BAD_REQUEST', 'no aggregated feature group: nothing to backfill', { path: 'featureGroups' });
  if (run.input && run.input.length > 0 && fed.size > 1) {
    throw new FenestraError('BAD_REQUEST', `--input names one history but ${fed.size} sources feed groups (${[...fed].join(', ')}); backfill from the offline store instead`, { path: 'input' });
  }
  const t0 = performance.now();
  const sources = new Map<string, Source>();
  const ranges: TimeRangeSource[] = [];
  let total = 0;
  for (const name of fed) {
    const s = spec.sources.get(name)!;
    let locations: string[];
    let s3: S3Options = (spec.offline.options as { s3?: S3Options }).s3 ?? {};
    if (run.input && run.input.length > 0) locations = [...run.input];
    else {
      const r = offlineRawLocation(spec, name);
      locations = [r.location];
      s3 = r.s3;
    }
    const staged = await stageHistory(locations, s3, join(spec.state.dir, 'backfill-input', name));
    total += staged.rows;
    const inner = await fileSourcePlugin.create({ path: staged.path }, { logger: silentLogger, baseDir: spec.baseDir, engineVersion: ENGINE_VERSION, source: s });
    const ranged = new TimeRangeSource(inner, s, run.from, run.to);
    ranges.push(ranged);
    sources.set(name, ranged);
  }
  let onlineStore: OnlineStore | undefined;
  if (run.online !== false && spec.online.type !== 'embedded') {
    const { plugins, issues } = await resolvePlugins(spec, { skipSources: new Set(spec.sources.keys()) });
    const bad = issues.filter((i) => i.path.startsWith('online'));
    if (bad.length > 0 || !plugins.online) {
      throw new FenestraError(bad[0]?.code ?? 'PLUGIN_NOT_FOUND', `online store: ${bad.map((i) => `${i.path}: ${i.message}`).join('; ') || 'not resolved'}`, { path: 'online' });
    }
    onlineStore = await plugins.online.create(spec.online.options, { logger: silentLogger, baseDir: spec.baseDir, engineVersion: ENGINE_VERSION, groups: [...spec.groups.keys()] });
  }
  const engine = new Engine(spec, {
    sources,
    checkpointStore: new FileCheckpointStore({ dir: join(spec.state.dir, 'checkpoints') }),
    ...(onlineStore ? { onlineStore } : {}),
    derived: defaultDerived(spec),
    batchSize: run.batchSize ?? 8192,
    pollWaitMs: 0,
  });
  const progress = new Progress('backfill', total, { quiet: run.quiet, unit: 'events' });
  const read = (): number => ranges.reduce((a, r) => a + r.read, 0);
  const ticker = setInterval(() => progress.update(read()), 200);
  try {
    await engine.start();
    await engine.drained();
  } finally {
    clearInterval(ticker);
    progress.update(read());
    await engine.stop();
  }
  progress.stop();
  const stats = engine.stats();
  let entities = 0;
  for (const g of spec.groups.values()) if (g.kind === 'aggregated') for (const _ of engine.entityKeys(g.name)) entities++;
  const seconds = (performance.now() - t0) / 1000;
  const eventsRead = read();
  return {
    eventsRead,
    eventsApplied: stats.eventsApplied,
    deadLettered: stats.deadLetters,
    entities,
    checkpoints: stats.checkpoints.count,
    seconds,
    eventsPerSecond: eventsRead / seconds,
  };
}

function instant(name: string, v: string): number {
  const t = parseInstant(v);
  if (t === null) throw new FenestraError('BAD_REQUEST', `--${name}: not an instant (epoch ms or ISO-8601): "${v}"`, { path: name });
  return t;
}

export function registerBackfill(program: Command): Command {
  return program
    .command('backfill')
    .description('Replay history through the engine to initialize its checkpointed state and the online store')
    .requiredOption('-c, --config <file>', 'configuration file')
    .requiredOption('--from <time>', 'first event time replayed (ISO-8601 or epoch ms, inclusive)')
    .requiredOption('--to <time>', 'end of the replayed event times (exclusive)')
    .option('--input <path...>', 'history (files, directories, s3:// URLs; default: the offline store\'s raw/<source>)')
    .option('--no-online', 'do not write the online store')
    .option('--quiet', 'no progress bar')
    .action(async (o: { config: string; from: string; to: string; input?: string[]; online?: boolean; quiet?: boolean }) => {
      const spec = await loadConfig(o.config);
      const r = await runBackfill({ spec, from: instant('from', o.from), to: instant('to', o.to), input: o.input, online: o.online, quiet: o.quiet });
      process.stdout.write(
        `backfill: ${r.eventsApplied.toLocaleString('en-US')} events applied (${r.eventsRead.toLocaleString('en-US')} read, ` +
          `${r.deadLettered} dead-lettered) for ${r.entities.toLocaleString('en-US')} entities in ${r.seconds.toFixed(1)} s ` +
          `(${Math.round(r.eventsPerSecond).toLocaleString('en-US')} events/s), ${r.checkpoints} checkpoint(s)\n`,
      );
    });
}
