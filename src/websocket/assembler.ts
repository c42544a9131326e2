/**
 * Joins data frames into messages (RFC 6455 §5.4). Kept apart from the frame
 * decoder because Kubernetes servers (x/net/websocket) act on every frame as
 * if it were a message: an inspector needs both views, an endpoint one.
 *
 * Control frames may arrive between the fragments of a message; they pass by
 * the assembler untouched (it only watches for data after a close).
 */
import { KubewireError } from '../common/errors.js';
import { concatBytes, copyBytes } from '../common/bytes.js';
import type { Direction, ErrorMode } from '../common/errors.js';
import { isValidUtf8 } from './close.js';
import type { WebSocketFrame, WebSocketMessage, WebSocketMessageEvent } from './types.js';

export interface MessageAssemblerOptions {
  mode?: ErrorMode;
  direction?: Direction;
  connection?: number;
  /** Largest message accepted (sum of its fragments), checked before buffering each fragment. Default 64 MiB. */
  maxMessageSize?: number;
  /** Most frames one message may span. Default 65536. */
  maxFragments?: number;
  /** Check that text messages are UTF-8 (§8.1). Default true. */
  validateUtf8?: boolean;
}

export class MessageAssembler {
  private readonly strict: boolean;
  private readonly direction: Direction | undefined;
  private readonly connection: number | undefined;
  private readonly maxMessageSize: number;
  private readonly maxFragments: number;
  private readonly validateUtf8: boolean;

  private type: 'text' | 'binary' | null = null;
  private parts: Uint8Array[] = [];
  private size = 0;
  private firstOffset = 0;
  private firstRsv = 0;
  /** The current message went over a limit: its remaining fragments are dropped. */
  private discarding = false;
  private closed = false;
  private failure: KubewireError | null = null;

  constructor(opts: MessageAssemblerOptions = {}) {
    this.strict = (opts.mode ?? 'strict') === 'strict';
    this.direction = opts.direction;
    this.connection = opts.connection;
    this.maxMessageSize = opts.maxMessageSize ?? 64 * 1024 * 1024;
    this.maxFragments = opts.maxFragments ?? 65536;
    this.validateUtf8 = opts.validateUtf8 ?? true;
  }

  /** True while a fragmented message is waiting for its continuations. */
  get inMessage(): boolean {
    return this.type !== null;
  }

  /** Feed one decoded frame; returns the message it completes (if any) and diagnostics. */
  push(frame: WebSocketFrame): WebSocketMessageEvent[] {
    if (this.failure) {
      if (this.strict) throw this.failure;
    }
    const out: WebSocketMessageEvent[] = [];
    switch (frame.kind) {
      case 'ping':
      case 'pong':
      case 'reserved':
        return out;
      case 'close':
        this.closed = true;
        return out;
      case 'text':
      case 'binary':
        if (this.closed) this.report(out, 'WEBSOCKET_DATA_AFTER_CLOSE', 'data frame after a close frame', frame.offset);
        if (this.type !== null) {
          // §5.4: fragments of different messages are never interleaved.
          this.report(out, 'WEBSOCKET_MESSAGE_INTERRUPTED', `new ${frame.kind} message before the previous one ended`, frame.offset);
          this.reset();
        }
        if (frame.fin) {
          this.complete(out, frame.kind, frame.payload, 1, frame.offset, frame.rsv);
          return out;
        }
        this.type = frame.kind;
        this.parts = [];
        this.size = 0;
        this.firstOffset = frame.offset;
        this.firstRsv = frame.rsv;
        this.discarding = false;
        this.append(out, frame);
        return out;
      case 'continuation':
        if (this.closed) this.report(out, 'WEBSOCKET_DATA_AFTER_CLOSE', 'data frame after a close frame', frame.offset);
        if (this.type === null) {
          this.report(out, 'WEBSOCKET_UNEXPECTED_CONTINUATION', 'continuation frame without a message to continue', frame.offset);
          return out;
        }
        this.append(out, frame);
        if (frame.fin) {
          const type = this.type;
          const frames = this.parts.length;
          if (!this.discarding) {
            const data = concatBytes(this.parts);
            this.complete(out, type, data, frames, this.firstOffset, this.firstRsv);
          }
          this.reset();
        }
        return out;
      default: {
        const never: never = frame;
        throw new Error(`unknown frame ${JSON.stringify(never)}`);
      }
    }
  }

  /** Drop a partly assembled message (after a capture gap, say). */
  abort(): void {
    this.reset();
  }

  private append(out: WebSocketMessageEvent[], frame: WebSocketFrame): void {
    if (this.discarding) {
      this.parts.push(EMPTY);
      return;
    }
    if (this.parts.length + 1 > this.maxFragments) {
      this.report(out, 'WEBSOCKET_TOO_MANY_FRAGMENTS', `message spans more than ${this.maxFragments} frames`, frame.offset);
      this.discarding = true;
      this.parts.push(EMPTY);
      return;
    }
    if (this.size + frame.payload.length > this.maxMessageSize) {
      this.report(out, 'WEBSOCKET_MESSAGE_TOO_LARGE', `message exceeds ${this.maxMessageSize} bytes`, frame.offset);
      this.discarding = true;
      this.parts.push(EMPTY);
      return;
    }
    // Copy: the frame's payload may be a view into a chunk the caller reuses.
    this.parts.push(copyBytes(frame.payload));
    this.size += frame.payload.length;
  }

  private complete(
    out: WebSocketMessageEvent[],
    type: 'text' | 'binary',
    data: Uint8Array,
    frames: number,
    offset: number,
    rsv: number,
  ): void {
    if (frames === 1 && data.length > this.maxMessageSize) {
      this.report(out, 'WEBSOCKET_MESSAGE_TOO_LARGE', `message exceeds ${this.maxMessageSize} bytes`, offset);
      return;
    }
    // Compressed (RSV1) text is not UTF-8 until inflated; leave it to whoever inflates.
    if (type === 'text' && this.validateUtf8 && (rsv & 4) === 0 && !isValidUtf8(data)) {
      this.report(out, 'WEBSOCKET_INVALID_UTF8', 'text message is not valid UTF-8', offset);
    }
    const message: WebSocketMessage = { kind: 'message', type, data, frames, offset, rsv };
    out.push(message);
  }

  private reset(): void {
    this.type = null;
    this.parts = [];
    this.size = 0;
    this.discarding = false;
  }

  private report(out: WebSocketMessageEvent[], code: string, message: string, offset: number): void {
    const error = new KubewireError('websocket', code, 'connection', message, {
      offset,
      direction: this.direction,
      connection: this.connection,
    });
    if (this.strict) {
      this.failure = error;
      throw error;
    }
    out.push({ kind: 'diagnostic', error });
  }
}

const EMPTY = new Uint8Array(0);
