/**
 * What TCP reassembly hands to the layers above: per connection, two ordered
 * byte streams with timestamps and explicit gaps. The live tap produces the
 * same events from sockets, so everything above `tcp/` works on both.
 */
import type { Direction, KubewireError } from '../common/errors.js';

export interface Endpoint {
  /** Dotted IPv4 or compressed IPv6 text. */
  address: string;
  port: number;
}

/** Microseconds since the Unix epoch (fractional part for sub-µs clocks). */
export type Timestamp = number;

export interface ConnectionOpen {
  kind: 'open';
  /** 1-based connection number, in order of first appearance. */
  connection: number;
  client: Endpoint;
  server: Endpoint;
  time: Timestamp;
  /**
   * No SYN was seen: the capture began after the connection did, and the
   * client/server assignment is a guess from ports (higher port = client).
   */
  startedLate: boolean;
}

export interface ConnectionData {
  kind: 'data';
  connection: number;
  direction: Direction;
  /** In-order payload bytes; a view, valid until the next event is pulled. */
  bytes: Uint8Array;
  /** Offset of `bytes[0]` in this direction's byte stream (gaps count). */
  offset: number;
  time: Timestamp;
  /** 1-based capture packet number the bytes came from (the last one if several). */
  packet?: number;
}

export interface ConnectionGap {
  kind: 'gap';
  connection: number;
  direction: Direction;
  /** Offset in this direction's stream where the missing bytes begin. */
  offset: number;
  /** Number of bytes missing. */
  size: number;
  time: Timestamp;
  packet?: number;
}

export type CloseReason = 'fin' | 'rst' | 'end-of-input' | 'evicted' | 'timeout';

export interface ConnectionClose {
  kind: 'close';
  connection: number;
  reason: CloseReason;
  /** For fin/rst: which side sent it first. */
  direction?: Direction;
  time: Timestamp;
  packet?: number;
  /**
   * The inputs (`TcpSegment.source`, ascending) whose segments made up the
   * connection, when the segments carried one (merged captures).
   */
  sources?: number[];
}

/** Something odd below the application layer (conflicting overlap, buffer limit hit, …). */
export interface ConnectionDiagnostic {
  kind: 'diagnostic';
  connection?: number;
  time?: Timestamp;
  error: KubewireError;
}

export type ConnectionEvent = ConnectionOpen | ConnectionData | ConnectionGap | ConnectionClose | ConnectionDiagnostic;
