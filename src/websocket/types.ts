/**
 * Decoded WebSocket frames and messages as values.
 *
 * Payload lifetime: an unmasked frame's `payload` is a view into the chunk
 * passed to `push` (valid while that chunk is not reused or mutated). A masked
 * frame must be unmasked: by default into a fresh buffer (the input stays as
 * on the wire, which a capture inspector showing raw bytes needs); with
 * `unmask: 'in-place'` the caller's chunk is unmasked where it lies and the
 * payload is a view into it. A payload split across chunks is always copied
 * into a fresh buffer. Copy (`slice`) to retain a view beyond its chunk.
 */
import type { KubewireError } from '../common/errors.js';
import type { FrameKind } from './constants.js';

interface FrameFields {
  /** Opcode as on the wire (0–15). */
  opcode: number;
  fin: boolean;
  /** RSV1, RSV2, RSV3 as bits 2, 1, 0 (RSV1 = 4). */
  rsv: number;
  masked: boolean;
  /** Masking key, first wire byte most significant; 0 when not masked. */
  maskKey: number;
  /** Payload, unmasked (without its first byte when the decoder splits it off). */
  payload: Uint8Array;
  /**
   * The first payload byte when the decoder was asked to split it off
   * (`splitFirstByte`, data frames only), else -1 (also for an empty payload).
   */
  prefix: number;
  /** Absolute offset of the frame's first byte. */
  offset: number;
  /** Bytes of header (2–14). */
  headerLength: number;
}

export interface WebSocketDataFrame extends FrameFields {
  kind: 'continuation' | 'text' | 'binary';
}

export interface WebSocketPingPongFrame extends FrameFields {
  kind: 'ping' | 'pong';
}

export interface WebSocketCloseFrame extends FrameFields {
  kind: 'close';
  /** Status code, null for an empty (or 1-byte, invalid) payload. */
  code: number | null;
  reason: string;
}

/** Opcode 3–7 or 11–15: only delivered in inspect mode, after a diagnostic. */
export interface WebSocketReservedFrame extends FrameFields {
  kind: 'reserved';
}

export type WebSocketFrame = WebSocketDataFrame | WebSocketPingPongFrame | WebSocketCloseFrame | WebSocketReservedFrame;

export interface WebSocketDiagnostic {
  kind: 'diagnostic';
  error: KubewireError;
}

export type WebSocketFrameEvent = WebSocketFrame | WebSocketDiagnostic;

/** A whole data message: one frame, or a first frame and its continuations. */
export interface WebSocketMessage {
  kind: 'message';
  type: 'text' | 'binary';
  /**
   * Message bytes. For a one-frame message the frame's payload itself (same
   * lifetime); for a fragmented one a fresh buffer.
   */
  data: Uint8Array;
  /** Number of frames the message arrived in. */
  frames: number;
  /** Absolute offset of the first frame. */
  offset: number;
  /** RSV bits of the first frame (RSV1 = 4 marks a compressed message under permessage-deflate). */
  rsv: number;
}

export type WebSocketMessageEvent = WebSocketMessage | WebSocketDiagnostic;

export type { FrameKind };
