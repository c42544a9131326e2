/**
 * The KEP-4006 port-forward tunnel (`SPDY/3.1+portforward.k8s.io`): the
 * payloads of binary WebSocket messages, concatenated per direction, are a
 * SPDY/3.1 byte stream. Message boundaries mean nothing: kubectl writes each
 * SPDY field separately (1-, 2-, 4-byte and empty messages are normal) and a
 * SPDY frame may span many messages. Text messages are a protocol error
 * (client-go: "invalid message type received").
 */
import { KubewireError } from '../common/errors.js';
import type { Direction, ErrorMode } from '../common/errors.js';
import { SpdyFrameDecoder, SpdyFrameEncoder } from '../spdy/index.js';
import type { SpdyDecodeEvent, SpdyFrameDecoderOptions } from '../spdy/index.js';
import type { SpdyFrameInput } from '../spdy/types.js';
import type { MaskSource } from '../websocket/encoder.js';
import { WebSocketFrameEncoder } from '../websocket/encoder.js';
import { OPCODE } from '../websocket/constants.js';
import type { WebSocketFrame } from '../websocket/types.js';

export interface TunnelDecoderOptions {
  direction: Direction;
  mode?: ErrorMode;
  connection?: number;
  spdy?: Omit<SpdyFrameDecoderOptions, 'mode' | 'direction'>;
}

/** WebSocket frames of one direction in, SPDY frames out. */
export class TunnelDecoder {
  readonly spdy: SpdyFrameDecoder;
  private readonly strict: boolean;
  /** Inside a text message: its continuations are skipped too. */
  private inText = false;

  constructor(private readonly opts: TunnelDecoderOptions) {
    this.strict = (opts.mode ?? 'strict') === 'strict';
    this.spdy = new SpdyFrameDecoder({ ...opts.spdy, mode: opts.mode, direction: opts.direction });
  }

  /** Feed one WebSocket frame (any kind; only binary data reaches SPDY). */
  pushFrame(frame: WebSocketFrame): Array<SpdyDecodeEvent> {
    switch (frame.kind) {
      case 'binary':
        this.inText = false;
        return this.pushBytes(withPrefix(frame));
      case 'continuation':
        return this.inText ? [] : this.pushBytes(withPrefix(frame));
      case 'text': {
        this.inText = !frame.fin;
        const error = new KubewireError('k8s', 'K8S_TUNNEL_TEXT_MESSAGE', 'connection', 'text message in a SPDY tunnel', {
          offset: frame.offset,
          direction: this.opts.direction,
          connection: this.opts.connection,
        });
        if (this.strict) throw error;
        return [{ kind: 'diagnostic', error }];
      }
      case 'ping':
      case 'pong':
      case 'close':
      case 'reserved':
        return [];
      default: {
        const never: never = frame;
        throw new Error(`unknown frame ${JSON.stringify(never)}`);
      }
    }
  }

  /** Feed SPDY bytes directly (the payload of a binary message). */
  pushBytes(bytes: Uint8Array): Array<SpdyDecodeEvent> {
    return bytes.length === 0 ? [] : this.spdy.push(bytes);
  }

  /** `size` SPDY bytes were lost (a capture gap inside binary payloads): the SPDY decoder resynchronises. */
  gap(size: number): Array<SpdyDecodeEvent> {
    return this.spdy.gap(size);
  }

  end(): Array<SpdyDecodeEvent> {
    return this.spdy.end();
  }
}

/** A frame's whole payload, also when its first byte was split off. */
function withPrefix(frame: WebSocketFrame): Uint8Array {
  if (frame.prefix < 0) return frame.payload;
  const whole = new Uint8Array(frame.payload.length + 1);
  whole[0] = frame.prefix;
  whole.set(frame.payload, 1);
  return whole;
}

export interface TunnelEncoderOptions {
  role: 'client' | 'server';
  maskSource?: MaskSource;
  spdy?: SpdyFrameEncoder;
}

/** SPDY frames in, WebSocket binary frames out (one message per SPDY frame). */
export class TunnelEncoder {
  readonly spdy: SpdyFrameEncoder;
  readonly ws: WebSocketFrameEncoder;

  constructor(opts: TunnelEncoderOptions) {
    this.spdy = opts.spdy ?? new SpdyFrameEncoder();
    this.ws = new WebSocketFrameEncoder({ role: opts.role, maskSource: opts.maskSource });
  }

  frame(frame: SpdyFrameInput): Uint8Array {
    return this.bytes(this.spdy.encode(frame));
  }

  /** Wrap raw SPDY bytes in one binary message. */
  bytes(spdy: Uint8Array): Uint8Array {
    return this.ws.frame(OPCODE.BINARY, spdy);
  }
}
