/** kubewire/capture: pcap and pcapng readers, link/IP decoding to TCP segments, and a pcapng writer. */
export * from './types.js';
export { CAPTURE_ERROR } from './errors.js';
export { CaptureReader, readCaptureBytes } from './reader.js';
export { readCapture, captureChunks, type CaptureInput, type CaptureSourceOptions } from './sources.js';
export { CaptureMerge, mergeCaptureInputs, type CaptureMergeOptions, type MergedRecord, type MergeFilesOptions } from './merge.js';
export { PacketDecoder, type PacketDecoderOptions } from './packet-decoder.js';
export { decodeLink, isSupportedLinkType, ETHERTYPE_IPV4, ETHERTYPE_IPV6, type LinkResult } from './link.js';
export { FragmentReassembler, type FragmentLimits } from './fragments.js';
export { tsResolution, type TsResolution } from './timestamps.js';
export {
  PcapngEventWriter,
  PcapngWriter,
  SyntheticTcpConnection,
  writeSyntheticPcapng,
  type PcapngWriterOptions,
  type SyntheticConnectionOptions,
  type SyntheticExchange,
} from './pcapng-writer.js';
