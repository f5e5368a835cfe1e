import { crc32 } from 'node:zlib';

/**
 * Write-ahead-log framing: every record is `u32 length | u32 crc32(payload) | payload`
 * (little endian). A torn write at the tail of the last segment shows up as a short frame or
 * a CRC mismatch and is cut off on open; the same damage anywhere else is corruption.
 */
export const FRAME_HEADER_BYTES = 8;

/** Largest payload a frame may carry (a single ingest batch); guards against reading garbage lengths. */
export const MAX_FRAME_PAYLOAD = 256 * 1024 * 1024;

export function encodeFrame(payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32LE(payload.length, 0);
  frame.writeUInt32LE(crc32(payload), 4);
  payload.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

export interface DecodedFrame {
  readonly payload: Buffer;
  /** Byte offset just after this frame. */
  readonly end: number;
}

export type FrameScan =
  | { readonly kind: 'frame'; readonly frame: DecodedFrame }
  | { readonly kind: 'end' }
  /** A short or checksum-failing frame starts at `offset`. */
  | { readonly kind: 'torn'; readonly offset: number; readonly reason: string };

/** Reads the frame starting at `offset` of `buf`. */
export function readFrame(buf: Buffer, offset: number): FrameScan {
  if (offset === buf.length) return { kind: 'end' };
  if (buf.length - offset < FRAME_HEADER_BYTES) return { kind: 'torn', offset, reason: 'short frame header' };
  const len = buf.readUInt32LE(offset);
  const crc = buf.readUInt32LE(offset + 4);
  if (len > MAX_FRAME_PAYLOAD) return { kind: 'torn', offset, reason: `frame length ${len} is implausible` };
  const start = offset + FRAME_HEADER_BYTES;
  if (buf.length - start < len) return { kind: 'torn', offset, reason: 'short frame payload' };
  const payload = buf.subarray(start, start + len);
  if (crc32(payload) !== crc) return { kind: 'torn', offset, reason: 'frame checksum mismatch' };
  return { kind: 'frame', frame: { payload, end: start + len } };
}
