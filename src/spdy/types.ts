/**
 * SPDY/3.1 frames as values. This is the contract between the codec
 * (decoder/encoder), the multiplexer and the capture decoder.
 *
 * Payload lifetime: `data` of a DATA frame, and `headerBlock` of header-
 * carrying frames, are views into the bytes pushed into the decoder. They
 * stay valid as long as the caller does not mutate or reuse those input
 * buffers; copy (`Uint8Array.prototype.slice`) to retain beyond that.
 */

export const SPDY_VERSION = 3;

export const FRAME_TYPE = {
  SYN_STREAM: 1,
  SYN_REPLY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  HEADERS: 8,
  WINDOW_UPDATE: 9,
  CREDENTIAL: 10,
} as const;

export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;
export const FLAG_SETTINGS_CLEAR_SETTINGS = 0x01;
export const SETTINGS_FLAG_PERSIST_VALUE = 0x01;
export const SETTINGS_FLAG_PERSISTED = 0x02;

export const RST_STATUS = {
  PROTOCOL_ERROR: 1,
  INVALID_STREAM: 2,
  REFUSED_STREAM: 3,
  UNSUPPORTED_VERSION: 4,
  CANCEL: 5,
  INTERNAL_ERROR: 6,
  FLOW_CONTROL_ERROR: 7,
  STREAM_IN_USE: 8,
  STREAM_ALREADY_CLOSED: 9,
  INVALID_CREDENTIALS: 10,
  FRAME_TOO_LARGE: 11,
} as const;

export const GOAWAY_STATUS = {
  OK: 0,
  PROTOCOL_ERROR: 1,
  INTERNAL_ERROR: 2,
} as const;

export const SETTINGS_ID = {
  UPLOAD_BANDWIDTH: 1,
  DOWNLOAD_BANDWIDTH: 2,
  ROUND_TRIP_TIME: 3,
  MAX_CONCURRENT_STREAMS: 4,
  CURRENT_CWND: 5,
  DOWNLOAD_RETRANS_RATE: 6,
  INITIAL_WINDOW_SIZE: 7,
  CLIENT_CERTIFICATE_VECTOR_SIZE: 8,
} as const;

/**
 * Header name/value pairs in wire order. Several values for one name are one
 * value joined by NUL, as on the wire.
 */
export type SpdyHeaders = Array<[name: string, value: string]>;

interface FrameBase {
  /** Absolute offset of the frame's first byte in the decoded byte stream. */
  offset?: number;
  /** Raw flags byte as on the wire (includes bits with no defined meaning). */
  flags: number;
}

export interface DataFrame extends FrameBase {
  kind: 'data';
  streamId: number;
  /** FIN flag; with `dataPieces`, set on the last piece only. */
  fin: boolean;
  data: Uint8Array;
  /**
   * Only from a decoder with `dataPieces`: true when this is a piece of a
   * frame that straddles chunks and more of its payload follows (the pieces
   * share the frame's `offset` and `flags`). Absent on whole frames.
   */
  more?: boolean;
}

interface HeaderCarrying {
  /**
   * Decoded header pairs; `null` when the block could not be decoded (inspect
   * mode: a diagnostic says why, e.g. a capture joined after the zlib context
   * began).
   */
  headers: SpdyHeaders | null;
  /** Compressed header block as on the wire (set by the decoder). */
  headerBlock?: Uint8Array;
}

export interface SynStreamFrame extends FrameBase, HeaderCarrying {
  kind: 'syn_stream';
  streamId: number;
  associatedStreamId: number;
  /** 0 (highest) … 7 (lowest). */
  priority: number;
  slot: number;
  fin: boolean;
  unidirectional: boolean;
}

export interface SynReplyFrame extends FrameBase, HeaderCarrying {
  kind: 'syn_reply';
  streamId: number;
  fin: boolean;
}

export interface HeadersFrame extends FrameBase, HeaderCarrying {
  kind: 'headers';
  streamId: number;
  fin: boolean;
}

export interface RstStreamFrame extends FrameBase {
  kind: 'rst_stream';
  streamId: number;
  status: number;
}

export interface SettingsEntry {
  id: number;
  /** PERSIST_VALUE (1) / PERSISTED (2). */
  flags: number;
  value: number;
}

export interface SettingsFrame extends FrameBase {
  kind: 'settings';
  clearSettings: boolean;
  entries: SettingsEntry[];
}

export interface PingFrame extends FrameBase {
  kind: 'ping';
  id: number;
}

export interface GoawayFrame extends FrameBase {
  kind: 'goaway';
  lastGoodStreamId: number;
  status: number;
}

export interface WindowUpdateFrame extends FrameBase {
  kind: 'window_update';
  /** 0 = the session window (SPDY/3.1). */
  streamId: number;
  delta: number;
}

/** A control frame of a type we do not know (CREDENTIAL=10 included), or of another version. */
export interface UnknownControlFrame extends FrameBase {
  kind: 'unknown';
  version: number;
  type: number;
  payload: Uint8Array;
}

export type SpdyFrame =
  | DataFrame
  | SynStreamFrame
  | SynReplyFrame
  | HeadersFrame
  | RstStreamFrame
  | SettingsFrame
  | PingFrame
  | GoawayFrame
  | WindowUpdateFrame
  | UnknownControlFrame;

export type SpdyFrameKind = SpdyFrame['kind'];

type InputOf<F extends SpdyFrame, Defaulted extends keyof F = never> = Omit<
  F,
  'offset' | 'headerBlock' | 'flags' | 'headers' | Defaulted
> &
  Partial<Pick<F, Defaulted>> & {
    /**
     * Raw flags byte. Optional: the encoder ORs in the bits the frame's
     * booleans (fin, unidirectional, clearSettings) ask for.
     */
    flags?: number;
  };

/**
 * What the encoder takes: a frame without decoder-set fields (`offset`,
 * `headerBlock`), `flags` optional, header-carrying frames with non-null
 * `headers`. Booleans and SYN_STREAM's associatedStreamId/priority/slot
 * default to false/0.
 */
export type SpdyFrameInput =
  | InputOf<DataFrame, 'fin'>
  | (InputOf<SynStreamFrame, 'associatedStreamId' | 'priority' | 'slot' | 'fin' | 'unidirectional'> & {
      headers: SpdyHeaders;
    })
  | (InputOf<SynReplyFrame, 'fin'> & { headers: SpdyHeaders })
  | (InputOf<HeadersFrame, 'fin'> & { headers: SpdyHeaders })
  | InputOf<RstStreamFrame>
  | InputOf<SettingsFrame, 'clearSettings'>
  | InputOf<PingFrame>
  | InputOf<GoawayFrame>
  | InputOf<WindowUpdateFrame>
  | InputOf<UnknownControlFrame>;

/** The input type for one frame kind, e.g. `SpdyFrameInputOf<'syn_stream'>`. */
export type SpdyFrameInputOf<K extends SpdyFrameKind> = Extract<SpdyFrameInput, { kind: K }>;
