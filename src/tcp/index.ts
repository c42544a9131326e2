/** kubewire/tcp: TCP reassembly into connection events, and the capture → connections pipeline. */
export * from './types.js';
export { TCP_FLAG, formatAddress, parseAddress, type IpAddress, type TcpSegment } from './segment.js';
export { TcpReassembler, reassembleTcp, type TcpReassemblerOptions } from './reassembler.js';
export { WELL_KNOWN_SERVER_PORTS } from './roles.js';
export { seqAdd, seqBefore, seqDistance } from './sequence.js';
export {
  CaptureDecoder,
  connectionEvents,
  decodeCaptureBytes,
  decodeCaptureToConnections,
  decoderChunks,
  type DecodeCaptureOptions,
  type DecodeSummary,
} from './pipeline.js';
export {
  MergedCaptureDecoder,
  decodeMergedCaptures,
  type InputSummary,
  type MergedDecodeOptions,
  type MergedDecodeSummary,
} from './merged-pipeline.js';
