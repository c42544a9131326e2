/**
 * SYN_REPLY (type 2):
 *  +------------------------------------+
 *  |1|    version    |         2        |
 *  +------------------------------------+
 *  |  Flags (8)  |  Length (24 bits)    |
 *  +------------------------------------+
 *  |X|           Stream-ID (31bits)     |
 *  +------------------------------------+
 *  | Compressed name/value header block |
 *  +------------------------------------+
 * Flags: 0x01 FIN. (SPDY/2 had two more unused bytes after the id; SPDY/3 has none.)
 */
import { SPDY_ERROR } from '../errors.js';
import type { HeaderDeflateContext } from '../header-compression.js';
import { FLAG_FIN, FRAME_TYPE, type SpdyFrameInputOf, type SynReplyFrame } from '../types.js';
import type { FrameDecodeContext } from './context.js';
import { FRAME_HEADER_LENGTH, MAX_LENGTH, MAX_STREAM_ID, checkUint, readId31, writeControlHeader, writeU32 } from './frame-header.js';

const FIXED = 4;

export function decodeSynReply(body: Uint8Array, flags: number, offset: number, ctx: FrameDecodeContext): SynReplyFrame | null {
  if (body.length < FIXED) {
    ctx.report(SPDY_ERROR.INVALID_FRAME_LENGTH, 'session', `SYN_REPLY of length ${body.length} (at least ${FIXED})`, offset);
    return null;
  }
  const streamId = readId31(body, 0);
  const headerBlock = body.subarray(FIXED);
  if (streamId === 0) ctx.report(SPDY_ERROR.INVALID_STREAM_ID, 'session', 'SYN_REPLY for stream 0', offset, 0);
  const headers = ctx.headers(headerBlock, streamId, offset);
  return { kind: 'syn_reply', offset, flags, streamId, fin: (flags & FLAG_FIN) !== 0, headers, headerBlock };
}

export function encodeSynReply(frame: SpdyFrameInputOf<'syn_reply'>, deflate: HeaderDeflateContext): Uint8Array {
  const streamId = checkUint('SYN_REPLY stream id', frame.streamId, MAX_STREAM_ID);
  const flags = (frame.flags ?? 0) | (frame.fin ? FLAG_FIN : 0);
  const { frame: out, length } = deflate.compress(frame.headers, FRAME_HEADER_LENGTH + FIXED);
  checkUint('SYN_REPLY length', FIXED + length, MAX_LENGTH);
  writeControlHeader(out, FRAME_TYPE.SYN_REPLY, flags, FIXED + length);
  writeU32(out, 8, streamId);
  return out;
}
