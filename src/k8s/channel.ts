/**
 * Remote command (exec/attach) over WebSocket: each message is one channel
 * byte and the payload (binary protocols), or an ASCII digit and the base64
 * of the payload in a text message (`*.base64.channel.k8s.io`). V5 adds the
 * close signal `[255, channel]` (client to server: "no more stdin").
 *
 * `ChannelDecoder` turns one message (or, for client-to-server traffic, one
 * frame: that is what the Kubernetes server acts on) into one event. The
 * data it reports is application bytes only: channel byte and base64 removed.
 * It remembers which channels were closed, to flag data after a close.
 */
import { KubewireError } from '../common/errors.js';
import type { Direction, ErrorMode } from '../common/errors.js';
import { OPCODE } from '../websocket/constants.js';
import type { FrameInput } from '../websocket/encoder.js';
import { decodeBase64Strict, encodeBase64 } from './base64.js';
import { remoteCommandProtocol } from './protocols.js';

export const CHANNEL = {
  STDIN: 0,
  STDOUT: 1,
  STDERR: 2,
  ERROR: 3,
  RESIZE: 4,
} as const;

/** First byte of the V5 close signal; the second is the channel closed. */
export const CLOSE_SIGNAL = 255;

/** `ChannelDecoder.route` results other than a channel number. */
export const ROUTE_DIAGNOSTIC = -1;
export const ROUTE_CLOSE = -2;
export const ROUTE_EMPTY = -3;

export type RemoteCommandRole = 'stdin' | 'stdout' | 'stderr' | 'error' | 'resize';

export const ROLE_BY_CHANNEL: readonly RemoteCommandRole[] = ['stdin', 'stdout', 'stderr', 'error', 'resize'];

export const CHANNEL_BY_ROLE: Readonly<Record<RemoteCommandRole, number>> = {
  stdin: 0,
  stdout: 1,
  stderr: 2,
  error: 3,
  resize: 4,
};

/** Channels each side writes on. */
const CLIENT_CHANNELS = [0, 4];
const SERVER_CHANNELS = [1, 2, 3];

export interface ChannelDiagnostic {
  kind: 'diagnostic';
  error: KubewireError;
}

export interface ChannelData {
  kind: 'data';
  channel: number;
  role: RemoteCommandRole;
  /** Application bytes: a view into the message (binary protocols) or fresh (base64). */
  data: Uint8Array;
  /** Absolute offset of the message (or frame) that carried it. */
  offset: number;
}

export interface ChannelClose {
  kind: 'close';
  channel: number;
  role: RemoteCommandRole;
  offset: number;
}

/** A zero-length message: no channel at all (servers ignore it). */
export interface ChannelEmpty {
  kind: 'empty';
  offset: number;
}

export type ChannelEvent = ChannelData | ChannelClose | ChannelEmpty | ChannelDiagnostic;

export interface ChannelDecoderOptions {
  /** Negotiated protocol ('' = none offered: V1 binary). */
  protocol: string;
  /** Direction of the messages; enables the per-direction channel check. */
  direction?: Direction;
  mode?: ErrorMode;
  /**
   * Channels this session has (from the request: stdin → 0, stdout → 1, …).
   * Default: all five. A close signal or data for another channel is flagged.
   */
  channels?: readonly number[];
  connection?: number;
}

export class ChannelDecoder {
  private readonly strict: boolean;
  private readonly base64: boolean;
  private readonly closeSignal: boolean;
  private readonly direction: Direction | undefined;
  private readonly connection: number | undefined;
  /** Bit i set: channel i may carry data in this direction. */
  private readonly allowed: number;
  /** Bit i set: channel i exists in this session. */
  private readonly open: number;
  /** Bit i set: a close signal was seen for channel i. */
  private closed = 0;

  constructor(opts: ChannelDecoderOptions) {
    const p = remoteCommandProtocol(opts.protocol);
    if (p === null || !p.transports.includes('websocket')) {
      throw new RangeError(`${JSON.stringify(opts.protocol)} is not a WebSocket remote command protocol`);
    }
    this.strict = (opts.mode ?? 'strict') === 'strict';
    this.base64 = p.base64;
    this.closeSignal = p.closeSignal;
    this.direction = opts.direction;
    this.connection = opts.connection;
    let open = 0;
    for (const c of opts.channels ?? [0, 1, 2, 3, 4]) if (c >= 0 && c <= 4) open |= 1 << c;
    this.open = open;
    const dirChannels =
      opts.direction === 'clientToServer' ? CLIENT_CHANNELS : opts.direction === 'serverToClient' ? SERVER_CHANNELS : [0, 1, 2, 3, 4];
    let allowed = 0;
    for (const c of dirChannels) allowed |= 1 << c;
    this.allowed = allowed & open;
  }

  /**
   * Decode one message. `text` says whether it came in a text frame: binary
   * protocols take text frames as bytes too (the server reads both alike,
   * and python clients send `str` stdin as text).
   */
  decode(payload: Uint8Array, text = false, offset = 0): ChannelEvent {
    if (payload.length === 0) return { kind: 'empty', offset };
    if (this.base64) {
      // '0' + channel, then base64 (wsstream subtracts '0' without checking).
      const channel = payload[0]! - 0x30;
      const decoded = decodeBase64Strict(payload.subarray(1));
      if (decoded === null) return this.report('K8S_BASE64_INVALID', 'message', 'payload is not valid base64', offset, channel);
      return this.classify(channel, decoded, offset);
    }
    void text;
    return this.classify(payload[0]!, payload.subarray(1), offset);
  }

  /**
   * Decode a message whose first byte the frame decoder already split off
   * (`splitFirstByte`): `prefix` is that byte (-1: empty message), `rest`
   * the remaining bytes. Saves a view per message on the hot path.
   */
  decodeSplit(prefix: number, rest: Uint8Array, text = false, offset = 0): ChannelEvent {
    if (prefix < 0) return { kind: 'empty', offset };
    if (this.base64) {
      const decoded = decodeBase64Strict(rest);
      if (decoded === null) return this.report('K8S_BASE64_INVALID', 'message', 'payload is not valid base64', offset, prefix - 0x30);
      return this.classify(prefix - 0x30, decoded, offset);
    }
    void text;
    return this.classify(prefix, rest, offset);
  }

  /**
   * The allocation-free form of `decodeSplit` for binary protocols, for a
   * server's hot path: returns the channel whose application bytes are
   * `rest` (≥ 0), or `ROUTE_EMPTY`, `ROUTE_CLOSE` (the closed channel is in
   * `lastChannel`), `ROUTE_DIAGNOSTIC` (the error is in `lastError`; strict
   * mode throws instead). Base64 protocols need decoding: use `decodeSplit`.
   */
  route(prefix: number, rest: Uint8Array, offset = 0): number {
    if (prefix < 0) return ROUTE_EMPTY;
    // The common case, checked with bit tests only: an open, writable, not yet closed channel.
    if (prefix <= 4 && !this.base64 && ((this.allowed & ~this.closed) >> prefix) & 1) return prefix;
    const ev = this.base64 ? this.decodeSplit(prefix, rest, false, offset) : this.classify(prefix, rest, offset);
    switch (ev.kind) {
      case 'data':
        return ev.channel;
      case 'empty':
        return ROUTE_EMPTY;
      case 'close':
        this.lastChannel = ev.channel;
        return ROUTE_CLOSE;
      case 'diagnostic':
        this.lastError = ev.error;
        return ROUTE_DIAGNOSTIC;
      default: {
        const never: never = ev;
        throw new Error(`unknown channel event ${JSON.stringify(never)}`);
      }
    }
  }

  /** Channel of the last close signal `route` reported. */
  lastChannel = -1;
  /** Error of the last diagnostic `route` reported. */
  lastError: KubewireError | null = null;

  private classify(channel: number, data: Uint8Array, offset: number): ChannelEvent {
    if (channel === CLOSE_SIGNAL && this.closeSignal && !this.base64) return this.decodeClose(data, offset);
    if (channel < 0 || channel > 4) {
      return this.report('K8S_CHANNEL_OUT_OF_RANGE', 'message', `channel ${channel} does not exist (0–4)`, offset, channel);
    }
    if (((this.allowed >> channel) & 1) === 0) {
      const why = ((this.open >> channel) & 1) === 0 ? 'was not opened in this session' : `is not written by the ${this.direction === 'clientToServer' ? 'client' : 'server'}`;
      return this.report('K8S_CHANNEL_UNEXPECTED', 'channel', `channel ${channel} (${ROLE_BY_CHANNEL[channel]}) ${why}`, offset, channel);
    }
    if (((this.closed >> channel) & 1) !== 0) {
      return this.report('K8S_DATA_AFTER_CLOSE', 'channel', `data on channel ${channel} after its close signal`, offset, channel);
    }
    return { kind: 'data', channel, role: ROLE_BY_CHANNEL[channel]!, data, offset };
  }

  /** `rest` = the close message without its 255 byte. */
  private decodeClose(rest: Uint8Array, offset: number): ChannelEvent {
    // wsstream: a close message must be exactly [255, channel]; anything else ends the session.
    if (rest.length !== 1) {
      return this.report('K8S_CLOSE_SIGNAL_INVALID', 'connection', `close signal of ${rest.length + 1} bytes (must be 2)`, offset);
    }
    const channel = rest[0]!;
    if (channel > 4) {
      return this.report('K8S_CHANNEL_OUT_OF_RANGE', 'connection', `close signal for channel ${channel}, which does not exist`, offset, channel);
    }
    if (((this.open >> channel) & 1) === 0) {
      return this.report('K8S_CLOSE_UNKNOWN_CHANNEL', 'channel', `close signal for channel ${channel} (${ROLE_BY_CHANNEL[channel]}), never opened`, offset, channel);
    }
    if (((this.closed >> channel) & 1) !== 0) {
      return this.report('K8S_CHANNEL_ALREADY_CLOSED', 'channel', `second close signal for channel ${channel}`, offset, channel);
    }
    this.closed |= 1 << channel;
    return { kind: 'close', channel, role: ROLE_BY_CHANNEL[channel]!, offset };
  }

  /** Was a close signal seen for this channel? */
  isClosed(channel: number): boolean {
    return channel >= 0 && channel <= 4 && ((this.closed >> channel) & 1) !== 0;
  }

  private report(code: string, scope: 'message' | 'channel' | 'connection', message: string, offset: number, channel?: number): ChannelDiagnostic {
    const error = new KubewireError('k8s', code, scope, message, {
      offset,
      direction: this.direction,
      channel,
      connection: this.connection,
    });
    if (this.strict) throw error;
    return { kind: 'diagnostic', error };
  }
}

/** One-byte prefixes, shared (never written to). */
const PREFIX: readonly Uint8Array[] = Array.from({ length: 256 }, (_, i) => new Uint8Array([i]));

/**
 * The frame for a channel message, ready for `WebSocketFrameEncoder.encode`:
 * the channel byte and the data as two pieces (no copy before framing).
 */
export function channelFrame(channel: number, data: Uint8Array, opts: { base64?: boolean } = {}): FrameInput {
  if (!Number.isInteger(channel) || channel < 0 || channel > 255) throw new RangeError(`channel ${channel} out of range`);
  if (opts.base64) {
    if (channel > 9) throw new RangeError('base64 protocols carry channels 0–9 only');
    return { opcode: OPCODE.TEXT, payload: [PREFIX[0x30 + channel]!, encodeBase64(data)] };
  }
  return { opcode: OPCODE.BINARY, payload: [PREFIX[channel]!, data] };
}

/** A channel message payload as one buffer (binary: channel byte + data; base64: digit + base64). */
export function encodeChannelMessage(channel: number, data: Uint8Array, opts: { base64?: boolean } = {}): Uint8Array {
  const pieces = channelFrame(channel, data, opts).payload as Uint8Array[];
  const out = new Uint8Array(pieces[0]!.length + pieces[1]!.length);
  out.set(pieces[0]!, 0);
  out.set(pieces[1]!, pieces[0]!.length);
  return out;
}

/** The V5 close signal for `channel`: `[255, channel]`. */
export function encodeCloseSignal(channel: number): Uint8Array {
  if (!Number.isInteger(channel) || channel < 0 || channel > 255) throw new RangeError(`channel ${channel} out of range`);
  return new Uint8Array([CLOSE_SIGNAL, channel]);
}
