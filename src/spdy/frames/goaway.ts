/**
 * GOAWAY (type 7), length 8, flags 0:
 *  +----------------------------------+
 *  |X|  Last-good-stream-ID (31 bits) |
 *  +----------------------------------+
 *  |          Status code             |
 *  +----------------------------------+
 * Status 0 OK, 1 PROTOCOL_ERROR, 2 INTERNAL_ERROR as implementations write it
 * (the SPDY/3 text says 11 for INTERNAL_ERROR); any value is kept as read.
 */
import { SPDY_ERROR } from '../errors.js';
import { FRAME_TYPE, type GoawayFrame, type SpdyFrameInputOf } from '../types.js';
import type { FrameDecodeContext } from './context.js';
import { FRAME_HEADER_LENGTH, MAX_STREAM_ID, checkUint, readId31, readU32, writeControlHeader, writeU32 } from './frame-header.js';

const LENGTH = 8;

export function decodeGoaway(body: Uint8Array, flags: number, offset: number, ctx: FrameDecodeContext): GoawayFrame | null {
  if (body.length !== LENGTH) {
    ctx.report(SPDY_ERROR.INVALID_FRAME_LENGTH, 'session', `GOAWAY of length ${body.length} (must be ${LENGTH})`, offset);
    return null;
  }
  return { kind: 'goaway', offset, flags, lastGoodStreamId: readId31(body, 0), status: readU32(body, 4) };
}

export function encodeGoaway(frame: SpdyFrameInputOf<'goaway'>): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_LENGTH + LENGTH);
  writeControlHeader(out, FRAME_TYPE.GOAWAY, frame.flags ?? 0, LENGTH);
  writeU32(out, 8, checkUint('GOAWAY last good stream id', frame.lastGoodStreamId, MAX_STREAM_ID));
  writeU32(out, 12, checkUint('GOAWAY status', frame.status, 0xffffffff));
  return out;
}
