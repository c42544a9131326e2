/** HTTP/2 (RFC 9113) framing and HPACK (RFC 7541): sans-IO decoders. */
export * from './frames.js';
export { Http2FrameDecoder, type Http2DecoderOptions } from './decoder.js';
export { HpackDecoder, type HpackDecoderOptions, type HeaderField } from './hpack/decoder.js';
export { decodeHuffman, encodeHuffman } from './hpack/huffman.js';
export { STATIC_TABLE } from './hpack/static-table.js';
