import { KubewireError, type ErrorLocation, type ErrorScope } from '../common/errors.js';

/** Stable codes raised by the capture layer. */
export const CAPTURE_ERROR = {
  /** Input ended before a complete file header / section header. */
  TRUNCATED_HEADER: 'CAPTURE_TRUNCATED_HEADER',
  /** The first bytes are no known pcap or pcapng magic. */
  UNKNOWN_FORMAT: 'CAPTURE_UNKNOWN_FORMAT',
  /** The file could not be opened or read (missing, a folder, an I/O error). */
  UNREADABLE: 'CAPTURE_UNREADABLE',
  /** Input was empty. */
  EMPTY: 'CAPTURE_EMPTY',
  UNSUPPORTED_VERSION: 'CAPTURE_UNSUPPORTED_VERSION',
  /** A record/block header says more bytes follow than a sane capture has. */
  ABSURD_CAPTURED_LENGTH: 'CAPTURE_ABSURD_CAPTURED_LENGTH',
  /** pcapng block total length too small, not a multiple of 4, too large or not repeated at the end. */
  BAD_BLOCK_LENGTH: 'CAPTURE_BAD_BLOCK_LENGTH',
  /** Input ended inside a packet record or block. */
  TRUNCATED_PACKET: 'CAPTURE_TRUNCATED_PACKET',
  /** A pcapng block that is not a section header came before any section header. */
  MISSING_SECTION_HEADER: 'CAPTURE_MISSING_SECTION_HEADER',
  /** A packet block names an interface the section did not describe. */
  UNKNOWN_INTERFACE: 'CAPTURE_UNKNOWN_INTERFACE',
  /** A block's inner lengths do not fit inside it. */
  MALFORMED_BLOCK: 'CAPTURE_MALFORMED_BLOCK',
  /** A link type kubewire cannot decode; its packets are skipped. */
  UNSUPPORTED_LINK_TYPE: 'CAPTURE_UNSUPPORTED_LINK_TYPE',
  /** A packet's link/IP/TCP headers are inconsistent; the packet is skipped. */
  MALFORMED_PACKET: 'CAPTURE_MALFORMED_PACKET',
  /** IP fragments that could not be reassembled (limit, truncation, overlap). */
  FRAGMENTS_DROPPED: 'CAPTURE_FRAGMENTS_DROPPED',
  /** Not one of a link type's packets held TCP over IP: most likely a wrong link type in the file. */
  NO_TCP: 'CAPTURE_NO_TCP',
} as const;

export function captureError(code: string, scope: ErrorScope, message: string, location: ErrorLocation): KubewireError {
  return new KubewireError('capture', code, scope, message, location);
}
