/**
 * WINDOW_UPDATE (type 9), length 8, flags 0:
 *  +----------------------------------+
 *  |X|     Stream-ID (31-bits)        |   0 = the session window (SPDY/3.1)
 *  +----------------------------------+
 *  |X|  Delta-Window-Size (31-bits)   |   legal 1 … 2^31 − 1
 *  +----------------------------------+
 */
import { SPDY_ERROR } from '../errors.js';
import { FRAME_TYPE, type SpdyFrameInputOf, type WindowUpdateFrame } from '../types.js';
import type { FrameDecodeContext } from './context.js';
import { FRAME_HEADER_LENGTH, MAX_STREAM_ID, checkUint, readId31, writeControlHeader, writeU32 } from './frame-header.js';

const LENGTH = 8;

export function decodeWindowUpdate(body: Uint8Array, flags: number, offset: number, ctx: FrameDecodeContext): WindowUpdateFrame | null {
  if (body.length !== LENGTH) {
    ctx.report(SPDY_ERROR.INVALID_FRAME_LENGTH, 'session', `WINDOW_UPDATE of length ${body.length} (must be ${LENGTH})`, offset);
    return null;
  }
  const streamId = readId31(body, 0);
  const delta = readId31(body, 4);
  if (delta === 0) {
    ctx.report(SPDY_ERROR.INVALID_WINDOW_DELTA, streamId === 0 ? 'session' : 'stream', 'WINDOW_UPDATE with delta 0', offset, streamId);
  }
  return { kind: 'window_update', offset, flags, streamId, delta };
}

export function encodeWindowUpdate(frame: SpdyFrameInputOf<'window_update'>): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_LENGTH + LENGTH);
  writeControlHeader(out, FRAME_TYPE.WINDOW_UPDATE, frame.flags ?? 0, LENGTH);
  writeU32(out, 8, checkUint('WINDOW_UPDATE stream id', frame.streamId, MAX_STREAM_ID));
  writeU32(out, 12, checkUint('WINDOW_UPDATE delta', frame.delta, MAX_STREAM_ID));
  return out;
}
