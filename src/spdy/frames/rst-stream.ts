/**
 * RST_STREAM (type 3), length 8, flags 0:
 *  +----------------------------------+
 *  |X|          Stream-ID (31bits)    |
 *  +----------------------------------+
 *  |          Status code             |
 *  +----------------------------------+
 */
import { SPDY_ERROR } from '../errors.js';
import { FRAME_TYPE, type RstStreamFrame, type SpdyFrameInputOf } from '../types.js';
import type { FrameDecodeContext } from './context.js';
import { FRAME_HEADER_LENGTH, MAX_STREAM_ID, checkUint, readId31, readU32, writeControlHeader, writeU32 } from './frame-header.js';

const LENGTH = 8;

export function decodeRstStream(body: Uint8Array, flags: number, offset: number, ctx: FrameDecodeContext): RstStreamFrame | null {
  if (body.length !== LENGTH) {
    ctx.report(SPDY_ERROR.INVALID_FRAME_LENGTH, 'session', `RST_STREAM of length ${body.length} (must be ${LENGTH})`, offset);
    return null;
  }
  const streamId = readId31(body, 0);
  const status = readU32(body, 4);
  if (streamId === 0) ctx.report(SPDY_ERROR.INVALID_STREAM_ID, 'session', 'RST_STREAM for stream 0', offset, 0);
  // "0 is invalid and must not be used" (SPDY/3 §2.6.3)
  if (status === 0) ctx.report(SPDY_ERROR.INVALID_RST_STATUS, 'stream', 'RST_STREAM with status 0', offset, streamId);
  return { kind: 'rst_stream', offset, flags, streamId, status };
}

export function encodeRstStream(frame: SpdyFrameInputOf<'rst_stream'>): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_LENGTH + LENGTH);
  writeControlHeader(out, FRAME_TYPE.RST_STREAM, frame.flags ?? 0, LENGTH);
  writeU32(out, 8, checkUint('RST_STREAM stream id', frame.streamId, MAX_STREAM_ID));
  writeU32(out, 12, checkUint('RST_STREAM status', frame.status, 0xffffffff));
  return out;
}
