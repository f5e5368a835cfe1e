/**
 * Splitting a replay join by entity so it can run on several threads: entities are independent
 * (an entity's features depend on its own events only), so each part replays the events and
 * answers the labels of its own entities with the same `replayJoin`, and the results are scattered
 * back. Keys are interned once; a part holds typed arrays (transferable between threads).
 */
import type { EventColumns, LabelColumns } from './replay-join.js';

export interface JoinPart {
  /** Distinct keys, indexed by key id. */
  readonly dict: string[];
  readonly evKey: Int32Array;
  readonly evTime: Float64Array;
  /** Numeric fields as Float64Array (NaN = absent); other fields as arrays. */
  readonly evFields: Record<string, Float64Array | unknown[]>;
  readonly lbKey: Int32Array;
  readonly lbTime: Float64Array;
  readonly lbRequest: Record<string, Float64Array | unknown[]>;
  /** Original label row of each label of this part. */
  readonly lbRows: Uint32Array;
}

function isNumericColumn(col: ArrayLike<unknown>): boolean {
  if (col instanceof Float64Array) return true;
  for (let i = 0; i < col.length; i++) {
    const v = col[i];
    if (v !== null && v !== undefined && typeof v !== 'number') return false;
  }
  return true;
}

function take(col: ArrayLike<unknown>, rows: Uint32Array, numeric: boolean): Float64Array | unknown[] {
  if (numeric) {
    const out = new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const v = col[rows[i]!];
      out[i] = typeof v === 'number' ? v : NaN;
    }
    return out;
  }
  const out = new Array<unknown>(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = col[rows[i]!];
  return out;
}

/** Splits events and labels into `parts` by key (round-robin over distinct keys). */
export function partitionJoin(events: EventColumns, labels: LabelColumns, parts: number): JoinPart[] {
  const ids = new Map<string, number>();
  const dict: string[] = [];
  const idOf = (k: string): number => {
    let id = ids.get(k);
    if (id === undefined) {
      id = dict.length;
      ids.set(k, id);
      dict.push(k);
    }
    return id;
  };
  const evIds = new Int32Array(events.rows);
  for (let i = 0; i < events.rows; i++) evIds[i] = idOf(events.keys[i]!);
  const lbIds = new Int32Array(labels.rows);
  for (let i = 0; i < labels.rows; i++) lbIds[i] = idOf(labels.keys[i]!);

  const rowsOf = (idArr: Int32Array): Uint32Array[] => {
    const counts = new Int32Array(parts);
    for (let i = 0; i < idArr.length; i++) counts[idArr[i]! % parts]!++;
    const out = Array.from({ length: parts }, (_, p) => new Uint32Array(counts[p]!));
    const fill = new Int32Array(parts);
    for (let i = 0; i < idArr.length; i++) {
      const p = idArr[i]! % parts;
      out[p]![fill[p]!++] = i;
    }
    return out;
  };
  const evRows = rowsOf(evIds);
  const lbRows = rowsOf(lbIds);
  const evNumeric = new Map([...events.fields].map(([n, c]) => [n, isNumericColumn(c)]));
  const lbNumeric = new Map([...labels.request].map(([n, c]) => [n, isNumericColumn(c)]));
  return evRows.map((er, p) => {
    const lr = lbRows[p]!;
    const evFields: Record<string, Float64Array | unknown[]> = {};
    for (const [n, c] of events.fields) evFields[n] = take(c, er, evNumeric.get(n)!);
    const lbRequest: Record<string, Float64Array | unknown[]> = {};
    for (const [n, c] of labels.request) lbRequest[n] = take(c, lr, lbNumeric.get(n)!);
    return {
      dict,
      evKey: Int32Array.from(er, (r) => evIds[r]!),
      evTime: Float64Array.from(er, (r) => events.times[r]!),
      evFields,
      lbKey: Int32Array.from(lr, (r) => lbIds[r]!),
      lbTime: Float64Array.from(lr, (r) => labels.times[r]!),
      lbRequest,
      lbRows: lr,
    };
  });
}

/** The part as the columns `replayJoin` takes (keys resolved through the dictionary). */
export function partColumns(part: JoinPart): { events: EventColumns; labels: LabelColumns } {
  const keyArray = (ids: Int32Array): string[] => {
    const out = new Array<string>(ids.length);
    for (let i = 0; i < ids.length; i++) out[i] = part.dict[ids[i]!]!;
    return out;
  };
  return {
    events: { rows: part.evKey.length, keys: keyArray(part.evKey), times: part.evTime, fields: new Map(Object.entries(part.evFields)) },
    labels: { rows: part.lbKey.length, keys: keyArray(part.lbKey), times: part.lbTime, request: new Map(Object.entries(part.lbRequest)) },
  };
}
