/**
 * HTTP/2 frames (RFC 9113 §4, §6) as values.
 *
 *   +-----------------------------------------------+
 *   |                 Length (24)                   |
 *   +---------------+---------------+---------------+
 *   |   Type (8)    |   Flags (8)   |
 *   +-+-------------+---------------+-------------------------------+
 *   |R|                 Stream Identifier (31)                      |
 *   +=+=============================================================+
 *   |                   Frame Payload (0...)                      ...
 *
 * Payload lifetime: views into the pushed chunks when a frame lies inside
 * one, else a fresh copy; copy to keep one beyond the chunk.
 */
import type { KubewireError } from '../common/errors.js';

/** What a client sends first (RFC 9113 §3.4), before its SETTINGS. */
export const CLIENT_PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';
export const CLIENT_PREFACE_BYTES = Uint8Array.from(CLIENT_PREFACE, (c) => c.charCodeAt(0));
export const FRAME_HEADER_LENGTH = 9;

export const FRAME_TYPE = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

export const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;

export const SETTING = { HEADER_TABLE_SIZE: 0x1, ENABLE_PUSH: 0x2, MAX_CONCURRENT_STREAMS: 0x3, INITIAL_WINDOW_SIZE: 0x4, MAX_FRAME_SIZE: 0x5, MAX_HEADER_LIST_SIZE: 0x6 } as const;

export const ERROR_CODE_NAMES: Readonly<Record<number, string>> = {
  0x0: 'NO_ERROR',
  0x1: 'PROTOCOL_ERROR',
  0x2: 'INTERNAL_ERROR',
  0x3: 'FLOW_CONTROL_ERROR',
  0x4: 'SETTINGS_TIMEOUT',
  0x5: 'STREAM_CLOSED',
  0x6: 'FRAME_SIZE_ERROR',
  0x7: 'REFUSED_STREAM',
  0x8: 'CANCEL',
  0x9: 'COMPRESSION_ERROR',
  0xa: 'CONNECT_ERROR',
  0xb: 'ENHANCE_YOUR_CALM',
  0xc: 'INADEQUATE_SECURITY',
  0xd: 'HTTP_1_1_REQUIRED',
};

interface FrameBase {
  streamId: number;
  flags: number;
  /** Payload length as on the wire (HEADERS: of the first frame, CONTINUATIONs not counted). */
  length: number;
  /** Absolute offset of the frame header. */
  offset: number;
}

export type Http2Frame =
  | (FrameBase & { kind: 'data'; endStream: boolean; data: Uint8Array })
  | (FrameBase & { kind: 'headers'; endStream: boolean; headerBlock: Uint8Array; continuations: number })
  | (FrameBase & { kind: 'priority' })
  | (FrameBase & { kind: 'rst_stream'; errorCode: number })
  | (FrameBase & { kind: 'settings'; ack: boolean; entries: Array<{ id: number; value: number }> })
  | (FrameBase & { kind: 'push_promise'; promisedStreamId: number; headerBlock: Uint8Array; continuations: number })
  | (FrameBase & { kind: 'ping'; ack: boolean; opaque: Uint8Array })
  | (FrameBase & { kind: 'goaway'; lastStreamId: number; errorCode: number; debug: Uint8Array })
  | (FrameBase & { kind: 'window_update'; increment: number })
  /** A type this decoder does not know: RFC 9113 §4.1 says to ignore it. */
  | (FrameBase & { kind: 'unknown'; type: number; payload: Uint8Array });

export type Http2DecodeEvent = Http2Frame | { kind: 'preface'; offset: number } | { kind: 'diagnostic'; error: KubewireError };
