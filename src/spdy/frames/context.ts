/** What a frame body parser needs from the decoder. */
import type { ErrorScope } from '../../common/errors.js';
import type { SpdyErrorCode } from '../errors.js';
import type { SpdyFrame, SpdyHeaders } from '../types.js';

export interface FrameDecodeContext {
  /**
   * Report a wire error about the frame at `offset`: strict mode throws,
   * inspect mode records a diagnostic and the parser carries on.
   */
  report(code: SpdyErrorCode, scope: ErrorScope, message: string, offset: number, streamId?: number): void;
  /**
   * Inflate and parse a header block through the direction's context; null
   * when it could not be decoded (the reason has been reported).
   */
  headers(block: Uint8Array, streamId: number, offset: number): SpdyHeaders | null;
}

/**
 * Parses a control frame's body (`body` = the bytes after the 8-byte header,
 * a view into the input). Returns null when the frame cannot be represented
 * (reported through the context).
 */
export type ControlBodyParser = (
  body: Uint8Array,
  flags: number,
  offset: number,
  ctx: FrameDecodeContext,
) => SpdyFrame | null;
