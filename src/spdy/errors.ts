/**
 * Wire error codes of the SPDY codec. Stable: callers and the CLI match on
 * them. Scope says what the error makes unusable: `session` errors break the
 * framing or the header compression context of a direction; `stream` errors
 * affect one stream's frame and the session carries on.
 */
import { KubewireError, type Direction, type ErrorScope } from '../common/errors.js';

export const SPDY_ERROR = {
  /** A frame's length exceeds `maxFrameLength` (checked before buffering its body). */
  FRAME_TOO_LARGE: 'SPDY_FRAME_TOO_LARGE',
  /** A control frame whose version field is not 3. */
  UNSUPPORTED_VERSION: 'SPDY_UNSUPPORTED_VERSION',
  /** A fixed-size control frame (RST_STREAM, PING, GOAWAY, WINDOW_UPDATE, SETTINGS) with the wrong length, or a header-carrying frame too short for its fixed fields. */
  INVALID_FRAME_LENGTH: 'SPDY_INVALID_FRAME_LENGTH',
  /** Stream id 0 where a stream is required (DATA, SYN_STREAM, SYN_REPLY, HEADERS, RST_STREAM). */
  INVALID_STREAM_ID: 'SPDY_INVALID_STREAM_ID',
  /** RST_STREAM with status 0, which the spec says must not be sent. */
  INVALID_RST_STATUS: 'SPDY_INVALID_RST_STATUS',
  /** WINDOW_UPDATE with delta 0 (legal range 1 … 2^31 − 1). */
  INVALID_WINDOW_DELTA: 'SPDY_INVALID_WINDOW_DELTA',
  /** zlib rejected a header block: the direction's compression context is lost. */
  HEADER_INFLATE_FAILED: 'SPDY_HEADER_INFLATE_FAILED',
  /** A header block did not end where its frame ends (the zlib stream finished inside it). */
  HEADER_BLOCK_TRAILING_BYTES: 'SPDY_HEADER_BLOCK_TRAILING_BYTES',
  /** One header block inflated to more than `maxHeaderBlockInflated`. */
  HEADER_BLOCK_TOO_LARGE: 'SPDY_HEADER_BLOCK_TOO_LARGE',
  /** All header blocks of a direction inflated to more than `maxInflatedTotal`. */
  HEADER_INFLATE_LIMIT: 'SPDY_HEADER_INFLATE_LIMIT',
  /** A header block declares more pairs than `maxHeaderCount`. */
  TOO_MANY_HEADERS: 'SPDY_TOO_MANY_HEADERS',
  /** The inflated name/value block is inconsistent (lengths past its end, bytes left over). */
  HEADER_BLOCK_MALFORMED: 'SPDY_HEADER_BLOCK_MALFORMED',
  /** A header name of length 0 (a stream PROTOCOL_ERROR in the spec). */
  EMPTY_HEADER_NAME: 'SPDY_EMPTY_HEADER_NAME',
  /** Header blocks cannot be inflated: the compression context began before the bytes we saw. */
  HEADER_CONTEXT_UNKNOWN: 'SPDY_HEADER_CONTEXT_UNKNOWN',
  /** Bytes were lost (`gap`); the partial frame, if any, was dropped. */
  GAP: 'SPDY_GAP',
  /** Bytes skipped while looking for the next plausible frame header after a gap. */
  RESYNC_SKIPPED: 'SPDY_RESYNC_SKIPPED',
  /** Input ended inside a frame. */
  TRUNCATED_FRAME: 'SPDY_TRUNCATED_FRAME',
} as const;

export type SpdyErrorCode = (typeof SPDY_ERROR)[keyof typeof SPDY_ERROR];

export function spdyError(
  code: SpdyErrorCode,
  scope: ErrorScope,
  message: string,
  offset: number,
  direction: Direction | undefined,
  streamId?: number,
): KubewireError {
  return new KubewireError('spdy', code, scope, message, { offset, direction, streamId });
}
