/**
 * HEADERS (type 8):
 *  +------------------------------------+
 *  |1|    version    |         8        |
 *  +------------------------------------+
 *  |  Flags (8)  |  Length (24 bits)    |
 *  +------------------------------------+
 *  |X|           Stream-ID (31bits)     |
 *  +------------------------------------+
 *  | Compressed name/value header block |
 *  +------------------------------------+
 * Flags: 0x01 FIN. May be sent while the sender is not half-closed.
 */
import { SPDY_ERROR } from '../errors.js';
import type { HeaderDeflateContext } from '../header-compression.js';
import { FLAG_FIN, FRAME_TYPE, type SpdyFrameInputOf, type HeadersFrame } from '../types.js';
import type { FrameDecodeContext } from './context.js';
import { FRAME_HEADER_LENGTH, MAX_LENGTH, MAX_STREAM_ID, checkUint, readId31, writeControlHeader, writeU32 } from './frame-header.js';

const FIXED = 4;

export function decodeHeaders(body: Uint8Array, flags: number, offset: number, ctx: FrameDecodeContext): HeadersFrame | null {
  if (body.length < FIXED) {
    ctx.report(SPDY_ERROR.INVALID_FRAME_LENGTH, 'session', `HEADERS of length ${body.length} (at least ${FIXED})`, offset);
    return null;
  }
  const streamId = readId31(body, 0);
  const headerBlock = body.subarray(FIXED);
  if (streamId === 0) ctx.report(SPDY_ERROR.INVALID_STREAM_ID, 'session', 'HEADERS for stream 0', offset, 0);
  const headers = ctx.headers(headerBlock, streamId, offset);
  return { kind: 'headers', offset, flags, streamId, fin: (flags & FLAG_FIN) !== 0, headers, headerBlock };
}

export function encodeHeaders(frame: SpdyFrameInputOf<'headers'>, deflate: HeaderDeflateContext): Uint8Array {
  const streamId = checkUint('HEADERS stream id', frame.streamId, MAX_STREAM_ID);
  const flags = (frame.flags ?? 0) | (frame.fin ? FLAG_FIN : 0);
  const { frame: out, length } = deflate.compress(frame.headers, FRAME_HEADER_LENGTH + FIXED);
  checkUint('HEADERS length', FIXED + length, MAX_LENGTH);
  writeControlHeader(out, FRAME_TYPE.HEADERS, flags, FIXED + length);
  writeU32(out, 8, streamId);
  return out;
}
