/**
 * PING (type 6), length 4, flags 0:
 *  +----------------------------------+
 *  |        32-bit ID                 |
 *  +----------------------------------+
 * Client ids are odd, server ids even; the receiver echoes the frame unchanged.
 */
import { SPDY_ERROR } from '../errors.js';
import { FRAME_TYPE, type PingFrame, type SpdyFrameInputOf } from '../types.js';
import type { FrameDecodeContext } from './context.js';
import { FRAME_HEADER_LENGTH, checkUint, readU32, writeControlHeader, writeU32 } from './frame-header.js';

const LENGTH = 4;

export function decodePing(body: Uint8Array, flags: number, offset: number, ctx: FrameDecodeContext): PingFrame | null {
  if (body.length !== LENGTH) {
    ctx.report(SPDY_ERROR.INVALID_FRAME_LENGTH, 'session', `PING of length ${body.length} (must be ${LENGTH})`, offset);
    return null;
  }
  return { kind: 'ping', offset, flags, id: readU32(body, 0) };
}

export function encodePing(frame: SpdyFrameInputOf<'ping'>): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_LENGTH + LENGTH);
  writeControlHeader(out, FRAME_TYPE.PING, frame.flags ?? 0, LENGTH);
  writeU32(out, 8, checkUint('PING id', frame.id, 0xffffffff));
  return out;
}
