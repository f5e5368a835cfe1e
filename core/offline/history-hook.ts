/**
 * The runtime's offline output (`OfflineHook`) over any `OfflineStore`: the rows of each checkpoint
 * interval, staged with the checkpoint and committed after it is durable, so that after any crash
 * every applied event has exactly one row in `raw/<source>` (and one in `feature/<group>` when
 * feature rows are on), and every accepted stored write one in `stored/<group>` (`onStored`; layout
 * in core/stored/history.ts).
 *
 * Rows are buffered column-wise per table as events are applied (`onApplied`), handed over at the
 * checkpoint's cut (`cut`), split per hour partition and staged as files named by checkpoint id +
 * sequence (`stage`). A staged interval whose checkpoint failed is re-staged with the next one (its
 * files were never listed, so recovery removes them). Threading: `onApplied`, `onStored` and `cut`
 * run synchronously on the engine loop; `stage`, `commit`, `recover`, `close` are serialized by the runtime.
 */
import type { OfflineBatch, OfflineColumn, OfflineStore, StagedFile } from '../contracts/offline-store.js';
import type { EngineSpec, FieldType, SourceSpec, StoredGroupSpec } from '../model.js';
import type { OfflineHook } from '../runtime/offline-hook.js';
import { splitByPartition } from './partition.js';
import { aggFeatureType, compileDerived, derivedInputsOf, type DerivedInputType } from '../derived/index.js';
import { storedHistoryLayout, storedHistoryRow, STORED_EVENT_TIME, type StoredHistoryLayout } from '../stored/history.js';
import type { StoredWrite } from '../stored/record.js';

function celToOffline(t: DerivedInputType): OfflineColumn['type'] {
  return t === 'bool' ? 'boolean' : t;
}

/** Features of `key` as of `asOf`, right after `event` was applied (the event is the request of derived features). */
export type FeatureReader = (group: string, key: string, asOf: number, event: Readonly<Record<string, unknown>>) => Readonly<Record<string, unknown>>;

export interface HistoryHookOptions {
  readonly store: OfflineStore;
  readonly spec: EngineSpec;
  /**
   * Reads a group's features right after an event was applied (as of the event's time); when given,
   * `feature/<group>` rows (key, event time, features, write time) are written besides the raw events.
   */
  readonly readFeatures?: FeatureReader;
  /** Wall clock for `write_time` (default Date.now). */
  readonly clock?: () => number;
}

export function offlineType(t: FieldType): OfflineColumn['type'] {
  return t;
}

/** Columns of `raw/<source>`: the schema's fields (key and event time first) and `_version`. */
export function rawColumns(src: SourceSpec): OfflineColumn[] {
  const cols: OfflineColumn[] = [];
  cols.push({ name: src.keyField, type: 'string' }); // keys are strings in the engine
  cols.push({ name: src.eventTimeField, type: 'timestamp' });
  for (const f of src.fields) {
    if (f.name === src.keyField || f.name === src.eventTimeField) continue;
    cols.push({ name: f.name, type: offlineType(f.type) });
  }
  cols.push({ name: '_version', type: 'long' });
  return cols;
}

class TableBuffer {
  readonly data: unknown[][];
  constructor(
    readonly table: string,
    readonly columns: OfflineColumn[],
    readonly timeColumn: string,
  ) {
    this.data = columns.map(() => []);
  }
  get rows(): number {
    return this.data[0]!.length;
  }
  batch(): OfflineBatch {
    return { table: this.table, columns: this.columns, data: this.data, timeColumn: this.timeColumn };
  }
}

interface RawWriter {
  readonly buffer: () => TableBuffer;
  readonly fields: readonly string[];
}

type Token = { tables: TableBuffer[] };

export class HistoryHook implements OfflineHook {
  private readonly rawOwner = new Map<string, { source: SourceSpec; columns: OfflineColumn[] }>();
  private readonly featureGroups = new Map<string, { columns: OfflineColumn[]; names: string[]; numeric: boolean[]; keyField: string }>();
  private readonly storedGroups = new Map<string, { spec: StoredGroupSpec; layout: StoredHistoryLayout }>();
  private tables = new Map<string, TableBuffer>();
  /** Rows staged for a checkpoint that has not been committed (re-staged if that checkpoint failed). */
  private unconfirmed: TableBuffer[] = [];
  private readonly clock: () => number;

  constructor(private readonly opts: HistoryHookOptions) {
    this.clock = opts.clock ?? Date.now;
    const { spec } = opts;
    const seenSources = new Set<string>();
    for (const g of spec.groups.values()) {
      if (g.kind === 'stored') this.storedGroups.set(g.name, { spec: g, layout: storedHistoryLayout(spec, g) });
      if (g.kind !== 'aggregated') continue;
      const src = spec.sources.get(g.source);
      if (!src) continue;
      if (!seenSources.has(src.name)) {
        seenSources.add(src.name);
        this.rawOwner.set(g.name, { source: src, columns: rawColumns(src) });
      }
      if (opts.readFeatures) {
        const names = [...g.features.map((f) => f.name), ...g.derived.map((d) => d.name)];
        const inputs = derivedInputsOf(g, src.fields);
        const types = [
          ...g.features.map((f) => celToOffline(aggFeatureType(f, src.fields))),
          ...g.derived.map((d) => {
            const t = compileDerived(d, inputs).resultType;
            return t === 'string' ? ('string' as const) : t === 'bool' ? ('boolean' as const) : ('double' as const);
          }),
        ];
        const columns: OfflineColumn[] = [
          { name: src.keyField, type: 'string' },
          { name: 'event_time', type: 'timestamp' },
          ...names.map((n, i) => ({ name: n, type: types[i]! })),
          { name: 'write_time', type: 'timestamp' },
          { name: '_version', type: 'long' },
        ];
        this.featureGroups.set(g.name, { columns, names, numeric: types.map((t) => t === 'double'), keyField: src.keyField });
      }
    }
  }

  private table(name: string, columns: OfflineColumn[], timeColumn: string): TableBuffer {
    let t = this.tables.get(name);
    if (!t) this.tables.set(name, (t = new TableBuffer(name, columns, timeColumn)));
    return t;
  }

  async recover(files: readonly StagedFile[]): Promise<void> {
    await this.opts.store.open();
    await this.opts.store.commit(files);
    await this.opts.store.recover(files);
  }

  onApplied(group: string, key: string, ts: number, event: Readonly<Record<string, unknown>>, version: number): void {
    const raw = this.rawOwner.get(group);
    if (raw) {
      const t = this.table(`raw/${raw.source.name}`, raw.columns, raw.source.eventTimeField);
      const cols = raw.columns;
      const last = cols.length - 1;
      t.data[0]!.push(key);
      t.data[1]!.push(ts);
      for (let c = 2; c < last; c++) {
        const v = event[cols[c]!.name];
        t.data[c]!.push(v === undefined ? null : v);
      }
      t.data[last]!.push(version);
    }
    const fg = this.featureGroups.get(group);
    if (fg && this.opts.readFeatures) {
      const values = this.opts.readFeatures(group, key, ts, event);
      const t = this.table(`feature/${group}`, fg.columns, 'event_time');
      t.data[0]!.push(key);
      t.data[1]!.push(ts);
      for (let i = 0; i < fg.names.length; i++) {
        const v = values[fg.names[i]!];
        t.data[i + 2]!.push(fg.numeric[i] ? (typeof v === 'number' ? v : null) : (v ?? null));
      }
      t.data[fg.names.length + 2]!.push(this.clock());
      t.data[fg.names.length + 3]!.push(version);
    }
  }

  /** A stored write's row of `stored/<group>` (every accepted write; see StoredWriter). */
  onStored(group: string, write: StoredWrite): void {
    const sg = this.storedGroups.get(group);
    if (!sg) return;
    const { layout } = sg;
    const t = this.table(layout.table, layout.columns as OfflineColumn[], STORED_EVENT_TIME);
    const row = storedHistoryRow(layout, sg.spec, write, this.clock());
    for (let c = 0; c < row.length; c++) t.data[c]!.push(row[c]);
  }

  cut(): unknown {
    const tables = [...this.tables.values()].filter((t) => t.rows > 0);
    this.tables = new Map();
    if (tables.length === 0) return undefined;
    const token: Token = { tables };
    return token;
  }

  async stage(token: unknown, checkpointId: number): Promise<readonly StagedFile[]> {
    const tables = [...this.unconfirmed, ...((token as Token | undefined)?.tables ?? [])];
    this.unconfirmed = tables;
    const files: StagedFile[] = [];
    let seq = 0;
    for (const t of tables) {
      for (const part of splitByPartition(t.batch())) files.push(await this.opts.store.stage(part.batch, checkpointId, seq++));
    }
    return files;
  }

  async commit(files: readonly StagedFile[]): Promise<void> {
    await this.opts.store.commit(files);
    this.unconfirmed = [];
  }

  async close(): Promise<void> {
    await this.opts.store.close();
  }
}
