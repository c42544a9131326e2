/**
 * SYN_STREAM (type 1):
 *  +------------------------------------+
 *  |1|    version    |         1        |
 *  +------------------------------------+
 *  |  Flags (8)  |  Length (24 bits)    |
 *  +------------------------------------+
 *  |X|           Stream-ID (31bits)     |
 *  +------------------------------------+
 *  |X| Associated-To-Stream-ID (31bits) |
 *  +------------------------------------+
 *  | Pri|Unused | Slot |                |
 *  +-------------------+                |
 *  | Compressed name/value header block |
 *  +------------------------------------+
 * Flags: 0x01 FIN, 0x02 UNIDIRECTIONAL. Priority: 3 bits, 0 = highest.
 */
import { SPDY_ERROR } from '../errors.js';
import type { HeaderDeflateContext } from '../header-compression.js';
import { FLAG_FIN, FLAG_UNIDIRECTIONAL, FRAME_TYPE, type SpdyFrameInputOf, type SynStreamFrame } from '../types.js';
import type { FrameDecodeContext } from './context.js';
import { FRAME_HEADER_LENGTH, MAX_LENGTH, MAX_STREAM_ID, checkUint, readId31, writeControlHeader, writeU32 } from './frame-header.js';

const FIXED = 10;

export function decodeSynStream(body: Uint8Array, flags: number, offset: number, ctx: FrameDecodeContext): SynStreamFrame | null {
  if (body.length < FIXED) {
    ctx.report(SPDY_ERROR.INVALID_FRAME_LENGTH, 'session', `SYN_STREAM of length ${body.length} (at least ${FIXED})`, offset);
    return null;
  }
  const streamId = readId31(body, 0);
  const headerBlock = body.subarray(FIXED);
  if (streamId === 0) ctx.report(SPDY_ERROR.INVALID_STREAM_ID, 'session', 'SYN_STREAM for stream 0', offset, 0);
  // The block is inflated even for a bad stream id: skipping it would desynchronise the context.
  const headers = ctx.headers(headerBlock, streamId, offset);
  return {
    kind: 'syn_stream',
    offset,
    flags,
    streamId,
    associatedStreamId: readId31(body, 4),
    priority: body[8]! >>> 5,
    slot: body[9]!,
    fin: (flags & FLAG_FIN) !== 0,
    unidirectional: (flags & FLAG_UNIDIRECTIONAL) !== 0,
    headers,
    headerBlock,
  };
}

export function encodeSynStream(frame: SpdyFrameInputOf<'syn_stream'>, deflate: HeaderDeflateContext): Uint8Array {
  const streamId = checkUint('SYN_STREAM stream id', frame.streamId, MAX_STREAM_ID);
  const assoc = checkUint('SYN_STREAM associated stream id', frame.associatedStreamId ?? 0, MAX_STREAM_ID);
  const priority = checkUint('SYN_STREAM priority', frame.priority ?? 0, 7);
  const slot = checkUint('SYN_STREAM slot', frame.slot ?? 0, 0xff);
  const flags = (frame.flags ?? 0) | (frame.fin ? FLAG_FIN : 0) | (frame.unidirectional ? FLAG_UNIDIRECTIONAL : 0);
  const { frame: out, length } = deflate.compress(frame.headers, FRAME_HEADER_LENGTH + FIXED);
  checkUint('SYN_STREAM length', FIXED + length, MAX_LENGTH);
  writeControlHeader(out, FRAME_TYPE.SYN_STREAM, flags, FIXED + length);
  writeU32(out, 8, streamId);
  writeU32(out, 12, assoc);
  out[16] = priority << 5;
  out[17] = slot;
  return out;
}
