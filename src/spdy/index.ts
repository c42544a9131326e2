/** kubewire/spdy: the SPDY/3.1 frame codec. */
export * from './types.js';
export { SpdyFrameDecoder, type SpdyDecodeEvent, type SpdyDiagnostic, type SpdyFrameDecoderOptions } from './decoder.js';
export { SpdyFrameEncoder, type SpdyFrameEncoderOptions } from './encoder.js';
export { DEFAULT_SPDY_LIMITS, MAX_FRAME_LENGTH, type SpdyLimits } from './limits.js';
export { SPDY_ERROR, type SpdyErrorCode } from './errors.js';
export { SPDY3_DICTIONARY, SPDY3_DICTIONARY_ID } from './dictionary.js';
export { parseHeaderBlock, HeaderBlockWriter } from './header-block.js';
export { HeaderInflateContext, HeaderDeflateContext } from './header-compression.js';
export { encodeDataHeader } from './frames/data.js';
export * from './session/index.js';
