/**
 * Compact binary encoding of one entity's window state (checkpoints and online stores).
 *
 *   u8 format(=1) · u32 layoutTag · f64 newest · varuint version · varuint nRaw
 *   nRaw × ( varuint(newest − ts) · per raw field: f64 (numeric, NaN = absent) | str )
 *   per tile set: varuint nTiles · nTiles × ( varuint tileIndexDelta · partial )
 *   lifetime partial (only for groups with lifetime features)
 *   u32 FNV-1a checksum of everything before it
 *
 * str = varuint(0) for null, varuint(2·byteLength + 1) · UTF-8 bytes, or (text with lone surrogates)
 * varuint(2·units + 2) · UTF-16LE code units. partial = varuint count · per field slot:
 * varuint n, f64 sum/m2/min/max, value first/last, varuint k · k values for distinct.
 * The first tile's index delta is floor(newest / p) − start / p, later ones start / p − previous.
 * Decoding checks framing, checksum, ordering and the layout tag, and never returns half a state.
 * Encode/decode use a module-level scratch buffer: synchronous, not re-entrant across workers.
 */
import { FenestraError } from '../errors.js';
import type { CompiledGroup, PartialLayout } from './layout.js';
import {
  allocArray, H_NEWEST, H_VERSION, newEntity, rawAt, rawCount, setRawCount, setTileCount, tileCount, tilesAt, type RawValue,
} from './entity-array.js';
import { initPartial, type Cells } from './partial.js';
import { floorTo } from './retention.js';

const FORMAT = 1;
const utf8Enc = new TextEncoder();
const utf8Dec = new TextDecoder('utf-8', { fatal: true });

class Writer {
  buf = new Uint8Array(4096);
  view = new DataView(this.buf.buffer);
  pos = 0;

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.pos));
    this.buf = b;
    this.view = new DataView(b.buffer);
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }
  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v >>> 0, true);
    this.pos += 4;
  }
  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }
  /** A non-negative safe integer, 7 bits a byte (little end first). */
  varuint(v: number): void {
    this.ensure(8);
    this.pos = putVar(this.buf, this.pos, v);
  }
  str(v: string | null): void {
    if (v === null) return this.varuint(0);
    if (LONE_SURROGATE.test(v)) {
      // Not valid Unicode: keep the UTF-16 code units as they are (UTF-8 would alter them).
      this.varuint(v.length * 2 + 2);
      this.ensure(v.length * 2);
      for (let i = 0; i < v.length; i++) {
        const c = v.charCodeAt(i);
        this.buf[this.pos++] = c & 0xff;
        this.buf[this.pos++] = c >>> 8;
      }
      return;
    }
    const max = v.length * 3;
    this.ensure(max + 8);
    // Write the bytes after a worst-case length prefix, then move them if the prefix is shorter.
    const start = this.pos + varuintSize(max * 2 + 1);
    const { written } = utf8Enc.encodeInto(v, this.buf.subarray(start));
    this.varuint(written * 2 + 1);
    if (this.pos !== start) this.buf.copyWithin(this.pos, start, start + written);
    this.pos += written;
  }
}

const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

function varuintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}

function corrupt(msg: string): never {
  throw new FenestraError('CHECKPOINT_CORRUPT', `encoded entity state is malformed: ${msg}`);
}

class Reader {
  pos = 0;
  readonly view: DataView;
  constructor(readonly buf: Uint8Array, readonly end: number) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  need(n: number): void {
    if (this.pos + n > this.end) corrupt(`truncated at byte ${this.pos}`);
  }
  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }
  varuint(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 0x80;
    }
    return corrupt(`varint too long at byte ${this.pos}`);
  }
  str(): string | null {
    const tag = this.varuint();
    if (tag === 0) return null;
    if (tag % 2 === 0) {
      const units = (tag - 2) / 2;
      this.need(units * 2);
      let s = '';
      for (let i = 0; i < units; i++, this.pos += 2) s += String.fromCharCode(this.buf[this.pos]! | (this.buf[this.pos + 1]! << 8));
      return s;
    }
    const len = (tag - 1) / 2;
    this.need(len);
    let s: string;
    try {
      s = utf8Dec.decode(this.buf.subarray(this.pos, this.pos + len));
    } catch {
      return corrupt(`invalid UTF-8 at byte ${this.pos}`);
    }
    this.pos += len;
    return s;
  }
}

function fnv1a(buf: Uint8Array, end: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return h >>> 0;
}

const w = new Writer();

function writeValue(numeric: boolean, v: RawValue): void {
  if (numeric) w.f64(v as number);
  else w.str(v as string | null);
}

function readValue(r: Reader, numeric: boolean): RawValue {
  return numeric ? r.f64() : r.str();
}

function writePartial(a: Cells, o: number, layout: PartialLayout): void {
  w.varuint(a[o] as number);
  for (const fs of layout.fields) {
    if (fs.n >= 0) w.varuint(a[o + fs.n] as number);
    if (fs.sum >= 0) w.f64(a[o + fs.sum] as number);
    if (fs.m2 >= 0) w.f64(a[o + fs.m2] as number);
    if (fs.min >= 0) w.f64(a[o + fs.min] as number);
    if (fs.max >= 0) w.f64(a[o + fs.max] as number);
    if (fs.first >= 0) writeValue(fs.numeric, a[o + fs.first] as RawValue);
    if (fs.last >= 0) writeValue(fs.numeric, a[o + fs.last] as RawValue);
    if (fs.distinct >= 0) {
      const set = a[o + fs.distinct] as RawValue[];
      w.varuint(set.length);
      for (const v of set) writeValue(fs.numeric, v);
    }
  }
}

function readPartial(r: Reader, a: Cells, o: number, layout: PartialLayout): void {
  initPartial(a, o, layout);
  const count = r.varuint();
  a[o] = count;
  for (const fs of layout.fields) {
    let n = count;
    if (fs.n >= 0) {
      n = r.varuint();
      if (n > count) corrupt('partial has more values than events');
      a[o + fs.n] = n;
    }
    if (fs.sum >= 0) a[o + fs.sum] = r.f64();
    if (fs.m2 >= 0) a[o + fs.m2] = r.f64();
    if (fs.min >= 0) a[o + fs.min] = r.f64();
    if (fs.max >= 0) a[o + fs.max] = r.f64();
    if (fs.first >= 0) a[o + fs.first] = readValue(r, fs.numeric);
    if (fs.last >= 0) a[o + fs.last] = readValue(r, fs.numeric);
    if (fs.distinct >= 0) {
      const k = r.varuint();
      if (k > n) corrupt('distinct set larger than its value count');
      const set: RawValue[] = [];
      for (let i = 0; i < k; i++) set.push(readValue(r, fs.numeric));
      if (new Set(set).size !== k) corrupt('distinct set holds duplicates');
      a[o + fs.distinct] = set;
    }
  }
}

/** Encodes one entity's state. The result is a fresh copy the caller owns. */
export function encodeEntity(g: CompiledGroup, a: Cells): Uint8Array {
  const n = encodeToScratch(g, a); // first: it may replace w.buf with a larger buffer
  return w.buf.slice(0, n);
}

/**
 * Shared slabs for `encodeEntityShared`: append-only, never written twice, so a view stays valid for
 * as long as it is held (and keeps its whole slab alive).
 */
const SLAB_BYTES = 1 << 20;
let slab = new Uint8Array(0);
let slabAt = 0;

/**
 * The same bytes as `encodeEntity`, as a view into a shared slab (its bytes never change). For values
 * that are dropped soon after (a checkpoint's entries, copied into the checkpoint file): it saves an
 * ArrayBuffer allocation per entity (about a microsecond in V8, more than the encoding itself), but a
 * view held for long keeps its whole 1 MiB slab alive, so values kept for long must be copies.
 */
export function encodeEntityShared(g: CompiledGroup, a: Cells): Uint8Array {
  const n = encodeToScratch(g, a);
  if (slabAt + n > slab.length) {
    if (n > SLAB_BYTES >> 4) return w.buf.slice(0, n);
    slab = new Uint8Array(SLAB_BYTES);
    slabAt = 0;
  }
  const start = slabAt;
  const src = w.buf;
  for (let i = 0; i < n; i++) slab[start + i] = src[i]!;
  slabAt = start + n;
  return slab.subarray(start, start + n);
}

/** Encodes into the module's scratch writer; returns the length. */
function encodeToScratch(g: CompiledGroup, a: Cells): number {
  return g.numericWire ? encodeNumeric(g, a) : encodeGeneric(g, a);
}

/** Writes v (a non-negative safe integer) as a varuint at p; returns the next position. */
function putVar(buf: Uint8Array, p: number, v: number): number {
  if (v <= 0x7fffffff) {
    // int32 arithmetic (a double `%` is a call into the C library in V8).
    let x = v | 0;
    while (x >= 0x80) {
      buf[p++] = (x & 0x7f) | 0x80;
      x >>>= 7;
    }
    buf[p++] = x;
    return p;
  }
  while (v >= 0x80) {
    const q = Math.floor(v / 0x80);
    buf[p++] = (v - q * 0x80) | 0x80;
    v = q;
  }
  buf[p++] = v;
  return p;
}

/** Writes a partial by its wire list; returns the next position. */
function putPartial(buf: Uint8Array, view: DataView, p: number, a: Cells, o: number, wire: readonly number[]): number {
  for (let k = 0; k < wire.length; k++) {
    const x = wire[k]!;
    const v = a[o + (x >> 1)] as number;
    if ((x & 1) === 0) p = putVar(buf, p, v);
    else {
      view.setFloat64(p, v, true);
      p += 8;
    }
  }
  return p;
}

/**
 * `encodeGeneric` for groups whose slots are all numbers (the common case): the same bytes, written
 * after one bound check (every varuint takes at most 8 bytes, as does every f64).
 */
function encodeNumeric(g: CompiledGroup, a: Cells): number {
  const newest = a[H_NEWEST] as number;
  const n = rawCount(a);
  const stride = g.stride;
  const sets = g.tileSets;
  let bound = 33 + n * 8 * stride + (g.life ? 8 * g.life.wire!.length : 0);
  let base = g.head;
  for (let i = 0; i < sets.length; i++) {
    const c = tileCount(a, i);
    bound += 8 + c * 8 * (1 + sets[i]!.partial.wire!.length);
    base += c * sets[i]!.stride;
  }
  w.pos = 0;
  w.ensure(bound);
  const buf = w.buf;
  const view = w.view;
  buf[0] = FORMAT;
  view.setUint32(1, g.layoutTag, true);
  view.setFloat64(5, newest, true);
  let p = putVar(buf, 13, a[H_VERSION] as number);
  p = putVar(buf, p, n);
  for (let e = 0; e < n; e++) {
    const ri = base + e * stride;
    p = putVar(buf, p, newest - (a[ri] as number));
    for (let j = 1; j < stride; j++) {
      view.setFloat64(p, a[ri + j] as number, true);
      p += 8;
    }
  }
  let at = g.head;
  for (let i = 0; i < sets.length; i++) {
    const ts = sets[i]!;
    const count = tileCount(a, i);
    const wire = ts.partial.wire!;
    const prec = ts.precision;
    p = putVar(buf, p, count);
    let prev = floorTo(newest, prec) / prec;
    for (let k = 0; k < count; k++, at += ts.stride) {
      const idx = (a[at] as number) / prec;
      p = putVar(buf, p, k === 0 ? prev - idx : idx - prev);
      prev = idx;
      p = putPartial(buf, view, p, a, at + 1, wire);
    }
  }
  if (g.life) p = putPartial(buf, view, p, a, g.lifeAt, g.life.wire!);
  view.setUint32(p, fnv1a(buf, p), true);
  return p + 4;
}

/** `encodeEntity` through the checked writer whatever the group (tests compare it with the fast path). */
export function encodeEntityGeneric(g: CompiledGroup, a: Cells): Uint8Array {
  const n = encodeGeneric(g, a);
  return w.buf.slice(0, n);
}

/** Encodes any group through the checked writer; returns the length. */
function encodeGeneric(g: CompiledGroup, a: Cells): number {
  w.pos = 0;
  const newest = a[H_NEWEST] as number;
  w.u8(FORMAT);
  w.u32(g.layoutTag);
  w.f64(newest);
  w.varuint(a[H_VERSION] as number);
  const n = rawCount(a);
  w.varuint(n);
  const stride = g.stride;
  const fields = g.fields;
  const base = rawAt(g, a);
  for (let e = 0; e < n; e++) {
    const ri = base + e * stride;
    w.varuint(newest - (a[ri] as number));
    for (let j = 0; j < fields.length; j++) writeValue(fields[j]!.numeric, a[ri + 1 + j] as RawValue);
  }
  for (let i = 0; i < g.tileSets.length; i++) {
    const ts = g.tileSets[i]!;
    const count = tileCount(a, i);
    const at = tilesAt(g, a, i);
    w.varuint(count);
    let prev = floorTo(newest, ts.precision) / ts.precision;
    for (let k = 0; k < count; k++) {
      const o = at + k * ts.stride;
      const idx = (a[o] as number) / ts.precision;
      w.varuint(k === 0 ? prev - idx : idx - prev);
      prev = idx;
      writePartial(a, o + 1, ts.partial);
    }
  }
  if (g.life) writePartial(a, g.lifeAt, g.life);
  const sum = fnv1a(w.buf, w.pos);
  w.u32(sum);
  return w.pos;
}

/** Decodes an encoded entity; throws CHECKPOINT_CORRUPT (or CHECKPOINT_MISMATCH for another layout). */
export function decodeEntity(g: CompiledGroup, bytes: Uint8Array): Cells {
  if (!(bytes instanceof Uint8Array)) corrupt('not a byte array');
  if (bytes.length < 1 + 4 + 8 + 1 + 1 + 4) corrupt(`too short (${bytes.length} bytes)`);
  const end = bytes.length - 4;
  const r = new Reader(bytes, bytes.length);
  r.pos = end;
  if (r.u32() !== fnv1a(bytes, end)) corrupt('checksum mismatch');
  r.pos = 0;
  const format = r.u8();
  if (format !== FORMAT) corrupt(`unknown format ${format}`);
  const tag = r.u32();
  if (tag !== g.layoutTag) {
    throw new FenestraError('CHECKPOINT_MISMATCH', `encoded entity state was written for another feature layout of group "${g.name}"`);
  }
  const r2 = new Reader(bytes, end);
  r2.pos = r.pos;
  const newest = r2.f64();
  if (!Number.isSafeInteger(newest)) corrupt('newest event time is not an integer');
  const version = r2.varuint();
  const n = r2.varuint();
  if (n > end) corrupt('raw event count exceeds the data');
  const stride = g.stride;
  const rawEvents: Cells = new Array(n * stride);
  let prevTs = -Infinity;
  for (let e = 0; e < n; e++) {
    const ri = e * stride;
    const ts = newest - r2.varuint();
    if (ts < prevTs) corrupt('raw events out of order');
    prevTs = ts;
    rawEvents[ri] = ts;
    for (let j = 0; j < g.fields.length; j++) rawEvents[ri + 1 + j] = readValue(r2, g.fields[j]!.numeric);
  }
  if (n > version) corrupt('more raw events than the version counts');
  const tileSets: Cells[] = [];
  let slots = g.head + n * stride;
  for (let i = 0; i < g.tileSets.length; i++) {
    const ts = g.tileSets[i]!;
    const count = r2.varuint();
    if (count > end) corrupt('tile count exceeds the data');
    const tiles: Cells = new Array(count * ts.stride);
    let idx = floorTo(newest, ts.precision) / ts.precision;
    for (let k = 0; k < count; k++) {
      const d = r2.varuint();
      if (k > 0 && d === 0) corrupt('tiles out of order');
      idx = k === 0 ? idx - d : idx + d;
      const o = k * ts.stride;
      tiles[o] = idx * ts.precision;
      readPartial(r2, tiles, o + 1, ts.partial);
    }
    tileSets.push(tiles);
    slots += tiles.length;
  }
  const a = newEntity(g, 0);
  if (g.life) readPartial(r2, a, g.lifeAt, g.life);
  if (r2.pos !== end) corrupt(`${end - r2.pos} trailing bytes`);
  const out = allocArray(slots);
  const head = g.head;
  for (let i = 0; i < head; i++) out[i] = a[i]!;
  out[H_NEWEST] = newest;
  out[H_VERSION] = version;
  setRawCount(out, n);
  let o = head;
  for (let i = 0; i < tileSets.length; i++) {
    const tiles = tileSets[i]!;
    setTileCount(out, i, tiles.length / g.tileSets[i]!.stride);
    for (const v of tiles) out[o++] = v;
  }
  for (const v of rawEvents) out[o++] = v;
  return out;
}
