/**
 * SPDY/3.1 frame encoder. Holds the one deflate context that every header
 * block this side sends must go through (SYN_STREAM, SYN_REPLY and HEADERS,
 * on all streams), sync-flushed per block as spdystream and spdy-transport
 * expect. Synchronous; each call returns a fresh buffer holding one frame.
 *
 * Header names are written as given. SPDY/3 wants them lower-case, and
 * spdystream (Kubernetes) drops the session on an upper-case name, so pass
 * lower-case names; values may hold several values joined by NUL.
 *
 * Invalid arguments (ids past 31 bits, lengths past 24 bits, …) are API
 * misuse, not wire errors, and throw RangeError.
 */
import { encodeData, encodeDataHeader } from './frames/data.js';
import { encodeGoaway } from './frames/goaway.js';
import { encodeHeaders } from './frames/headers.js';
import { encodePing } from './frames/ping.js';
import { encodeRstStream } from './frames/rst-stream.js';
import { encodeSettings } from './frames/settings.js';
import { encodeSynReply } from './frames/syn-reply.js';
import { encodeSynStream } from './frames/syn-stream.js';
import { encodeUnknown } from './frames/unknown.js';
import { encodeWindowUpdate } from './frames/window-update.js';
import { HeaderDeflateContext } from './header-compression.js';
import type { SpdyFrameInput } from './types.js';

export interface SpdyFrameEncoderOptions {
  /** zlib level for header blocks, 0…9 (default 6, zlib's default). spdystream uses 9. */
  compressionLevel?: number;
}

export class SpdyFrameEncoder {
  private readonly headerContext: HeaderDeflateContext;

  constructor(opts: SpdyFrameEncoderOptions = {}) {
    const level = opts.compressionLevel;
    if (level !== undefined && (!Number.isInteger(level) || level < 0 || level > 9)) {
      throw new RangeError(`compressionLevel must be 0…9, got ${level}`);
    }
    this.headerContext = new HeaderDeflateContext(level);
  }

  /** Encode one frame of any kind. */
  encode(frame: SpdyFrameInput): Uint8Array {
    switch (frame.kind) {
      case 'data':
        return encodeData(frame);
      case 'syn_stream':
        return encodeSynStream(frame, this.headerContext);
      case 'syn_reply':
        return encodeSynReply(frame, this.headerContext);
      case 'headers':
        return encodeHeaders(frame, this.headerContext);
      case 'rst_stream':
        return encodeRstStream(frame);
      case 'settings':
        return encodeSettings(frame);
      case 'ping':
        return encodePing(frame);
      case 'goaway':
        return encodeGoaway(frame);
      case 'window_update':
        return encodeWindowUpdate(frame);
      case 'unknown':
        return encodeUnknown(frame);
      default: {
        const never: never = frame;
        throw new TypeError(`unknown SPDY frame kind ${(never as { kind: string }).kind}`);
      }
    }
  }

  /** The 8-byte DATA header alone, so that the payload can follow by writev without a copy. */
  encodeDataHeader(streamId: number, length: number, fin: boolean): Uint8Array {
    return encodeDataHeader(streamId, length, fin);
  }

  /** Release the zlib context now rather than at garbage collection. */
  close(): void {
    this.headerContext.close();
  }
}
