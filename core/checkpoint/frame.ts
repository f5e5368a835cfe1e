import { crc32 } from 'node:zlib';
import { FenestraError } from '../errors.js';

/**
 * The framing of every checkpoint file (snapshot, delta, manifest):
 *
 * ```
 * offset  size  field
 *  0       4    magic "FNCK"
 *  4       2    format version (u16 LE)            — this build reads/writes FORMAT_VERSION
 *  6       1    kind (1 = state file, 2 = manifest)
 *  7       1    flags (0)
 *  8       8    payload length (u64 LE)
 * 16       4    CRC32 of bytes 0..15 (header checksum)
 * 20       n    payload
 * 20+n     4    CRC32 of the payload
 * ```
 * The header has its own checksum so that a damaged header reads as CHECKPOINT_CORRUPT and a
 * well-formed header with another version reads as CHECKPOINT_VERSION.
 */
export const MAGIC = Buffer.from('FNCK', 'latin1');
export const FORMAT_VERSION = 1;
export const HEADER_BYTES = 20;
export const TRAILER_BYTES = 4;

export const enum FrameKind {
  State = 1,
  Manifest = 2,
}

export function frameHeader(kind: FrameKind, payloadLength: number, version = FORMAT_VERSION): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(h, 0);
  h.writeUInt16LE(version, 4);
  h.writeUInt8(kind, 6);
  h.writeUInt8(0, 7);
  h.writeBigUInt64LE(BigInt(payloadLength), 8);
  h.writeUInt32LE(crc32(h.subarray(0, 16)), 16);
  return h;
}

export function frameTrailer(payloadCrc: number): Buffer {
  const t = Buffer.alloc(TRAILER_BYTES);
  t.writeUInt32LE(payloadCrc >>> 0, 0);
  return t;
}

/** Frames a payload given as chunks; returns the chunks to write in order. */
export function frame(kind: FrameKind, chunks: readonly Uint8Array[]): Uint8Array[] {
  let len = 0;
  let crc = 0;
  for (const c of chunks) {
    len += c.byteLength;
    crc = crc32(c, crc);
  }
  return [frameHeader(kind, len), ...chunks, frameTrailer(crc)];
}

function corrupt(file: string, why: string): FenestraError {
  return new FenestraError('CHECKPOINT_CORRUPT', `checkpoint file ${file} is corrupt: ${why}; refusing to load it`, { path: file });
}

/** Verifies a whole framed file and returns its payload (a view into `buf`). */
export function unframe(buf: Buffer, expectedKind: FrameKind, file: string): Buffer {
  if (buf.byteLength < HEADER_BYTES + TRAILER_BYTES) throw corrupt(file, `only ${buf.byteLength} bytes (truncated)`);
  if (!buf.subarray(0, 4).equals(MAGIC)) throw corrupt(file, 'bad magic (not a Fenestra checkpoint file)');
  if (buf.readUInt32LE(16) !== crc32(buf.subarray(0, 16))) throw corrupt(file, 'header checksum mismatch');
  const version = buf.readUInt16LE(4);
  if (version !== FORMAT_VERSION) {
    throw new FenestraError(
      'CHECKPOINT_VERSION',
      `checkpoint file ${file} has format version ${version}; this build reads version ${FORMAT_VERSION}`,
      { path: file, details: { version, supported: FORMAT_VERSION } },
    );
  }
  const kind = buf.readUInt8(6);
  if (kind !== expectedKind) throw corrupt(file, `kind ${kind}, expected ${expectedKind}`);
  const len = buf.readBigUInt64LE(8);
  if (len !== BigInt(buf.byteLength - HEADER_BYTES - TRAILER_BYTES)) {
    throw corrupt(file, `payload length ${len} does not match file size ${buf.byteLength} (truncated or extended)`);
  }
  const payload = buf.subarray(HEADER_BYTES, buf.byteLength - TRAILER_BYTES);
  if (buf.readUInt32LE(buf.byteLength - TRAILER_BYTES) !== crc32(payload)) throw corrupt(file, 'payload checksum mismatch');
  return payload;
}

export { corrupt as corruptError };
