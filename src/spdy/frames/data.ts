/**
 * DATA frame:
 *  +----------------------------------+
 *  |0|       Stream-ID (31bits)       |
 *  +----------------------------------+
 *  | Flags (8)  |  Length (24 bits)   |
 *  +----------------------------------+
 *  |               Data               |
 *  +----------------------------------+
 * Flags: 0x01 FIN. Zero-length frames are legal (a bare FIN).
 */
import { SPDY_ERROR } from '../errors.js';
import { FLAG_FIN, type DataFrame, type SpdyFrameInputOf } from '../types.js';
import type { FrameDecodeContext } from './context.js';
import { FRAME_HEADER_LENGTH, MAX_LENGTH, MAX_STREAM_ID, checkUint, writeU32 } from './frame-header.js';

/** `data` is the payload view; it aliases the decoder's input. */
export function decodeData(streamId: number, flags: number, data: Uint8Array, offset: number, ctx: FrameDecodeContext): DataFrame {
  if (streamId === 0) {
    ctx.report(SPDY_ERROR.INVALID_STREAM_ID, 'session', 'DATA frame on stream 0', offset, 0);
  }
  return { kind: 'data', offset, flags, streamId, fin: (flags & FLAG_FIN) !== 0, data };
}

/** The 8-byte DATA header alone, so that a payload can be written after it without a copy. */
export function encodeDataHeader(streamId: number, length: number, fin: boolean, flags = 0): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_LENGTH);
  writeDataHeader(out, streamId, length, flags | (fin ? FLAG_FIN : 0));
  return out;
}

function writeDataHeader(out: Uint8Array, streamId: number, length: number, flags: number): void {
  checkUint('DATA stream id', streamId, MAX_STREAM_ID);
  checkUint('DATA length', length, MAX_LENGTH);
  writeU32(out, 0, streamId);
  out[4] = flags & 0xff;
  out[5] = (length >>> 16) & 0xff;
  out[6] = (length >>> 8) & 0xff;
  out[7] = length & 0xff;
}

export function encodeData(frame: SpdyFrameInputOf<'data'>): Uint8Array {
  const n = frame.data.length;
  const out = new Uint8Array(FRAME_HEADER_LENGTH + n);
  writeDataHeader(out, frame.streamId, n, (frame.flags ?? 0) | (frame.fin ? FLAG_FIN : 0));
  out.set(frame.data, FRAME_HEADER_LENGTH);
  return out;
}
