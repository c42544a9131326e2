/** Resource limits of the SPDY decoder. All are checked before allocating. */
export interface SpdyLimits {
  /** Largest frame length accepted; checked before buffering a frame body. Default 0xffffff (the 24-bit maximum). */
  maxFrameLength: number;
  /** Bytes one header block may inflate to. Default 1 MiB. */
  maxHeaderBlockInflated: number;
  /** Bytes all header blocks of one direction may inflate to. Default 64 MiB. */
  maxInflatedTotal: number;
  /** Name/value pairs per header block. Default 1024. */
  maxHeaderCount: number;
}

export const MAX_FRAME_LENGTH = 0xffffff;

export const DEFAULT_SPDY_LIMITS: Readonly<SpdyLimits> = Object.freeze({
  maxFrameLength: MAX_FRAME_LENGTH,
  maxHeaderBlockInflated: 1024 * 1024,
  maxInflatedTotal: 64 * 1024 * 1024,
  maxHeaderCount: 1024,
});

export function resolveLimits(partial: Partial<SpdyLimits> | undefined): SpdyLimits {
  const l = { ...DEFAULT_SPDY_LIMITS, ...partial };
  for (const key of Object.keys(DEFAULT_SPDY_LIMITS) as Array<keyof SpdyLimits>) {
    const v = l[key];
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`SPDY limit ${key} must be a non-negative integer, got ${v}`);
  }
  if (l.maxFrameLength > MAX_FRAME_LENGTH) l.maxFrameLength = MAX_FRAME_LENGTH;
  return l;
}
