/**
 * Frame-header plausibility, for finding the framing again after lost bytes.
 * A SPDY/3 control header has a strong signature (0x80 0x03, a known type,
 * flags and length that fit the type); a DATA header only says "high bit
 * clear, stream id not 0, flags FIN or nothing", so the decoder confirms it
 * with the header that follows.
 */
import { FRAME_TYPE } from './types.js';

/** Length of a plausible frame header at `buf[i…i+8)`, or -1. */
export function plausibleFrameLength(buf: Uint8Array, i: number, maxLength: number): number {
  const b0 = buf[i]!;
  const flags = buf[i + 4]!;
  const len = (buf[i + 5]! << 16) | (buf[i + 6]! << 8) | buf[i + 7]!;
  if (len > maxLength) return -1;
  if (b0 < 0x80) {
    const idNonZero = (b0 | buf[i + 1]! | buf[i + 2]! | buf[i + 3]!) !== 0;
    return idNonZero && flags <= 1 ? len : -1;
  }
  if (b0 !== 0x80 || buf[i + 1] !== 3 || buf[i + 2] !== 0) return -1;
  switch (buf[i + 3]) {
    case FRAME_TYPE.SYN_STREAM:
      return flags <= 3 && len >= 10 ? len : -1;
    case FRAME_TYPE.SYN_REPLY:
    case FRAME_TYPE.HEADERS:
      return flags <= 1 && len >= 4 ? len : -1;
    case FRAME_TYPE.SETTINGS:
      return flags <= 1 && len >= 4 && (len - 4) % 8 === 0 ? len : -1;
    case FRAME_TYPE.RST_STREAM:
    case FRAME_TYPE.GOAWAY:
    case FRAME_TYPE.WINDOW_UPDATE:
      return flags === 0 && len === 8 ? len : -1;
    case FRAME_TYPE.PING:
      return flags === 0 && len === 4 ? len : -1;
    default:
      return -1;
  }
}
