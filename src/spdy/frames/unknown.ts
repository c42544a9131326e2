/**
 * Control frames we do not interpret: unknown types (CREDENTIAL = 10, the
 * SPDY/2 NOOP = 5, anything newer) and frames of another version. The body
 * is kept as read, so the stream stays in sync and nothing is lost.
 */
import type { SpdyFrameInputOf, UnknownControlFrame } from '../types.js';
import { FRAME_HEADER_LENGTH, MAX_LENGTH, checkUint, writeControlHeader } from './frame-header.js';

export function decodeUnknown(version: number, type: number, body: Uint8Array, flags: number, offset: number): UnknownControlFrame {
  return { kind: 'unknown', offset, flags, version, type, payload: body };
}

export function encodeUnknown(frame: SpdyFrameInputOf<'unknown'>): Uint8Array {
  const n = checkUint('control frame length', frame.payload.length, MAX_LENGTH);
  const out = new Uint8Array(FRAME_HEADER_LENGTH + n);
  writeControlHeader(
    out,
    checkUint('control frame type', frame.type, 0xffff),
    checkUint('flags', frame.flags ?? 0, 0xff),
    n,
    checkUint('version', frame.version, 0x7fff),
  );
  out.set(frame.payload, FRAME_HEADER_LENGTH);
  return out;
}

