/**
 * The server end of one WebSocket connection after the 101: frames decoded
 * with the project's codec (client frames must be masked), pings answered,
 * the close handshake done, messages handed on whole. Never fragments what it
 * sends: Kubernetes servers treat every frame as a message.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import {
  CLOSE_CODE,
  OPCODE,
  WebSocketFrameEncoder,
  WebSocketStreamDecoder,
  encodeClosePayload,
} from '../websocket/index.js';

/** How long we wait for the peer's Close before dropping the socket. */
const CLOSE_TIMEOUT_MS = 1000;

export interface WsConnectionEvents {
  message: [type: 'text' | 'binary', data: Uint8Array];
  close: [code: number | null];
}

export class WsServerConnection extends EventEmitter<WsConnectionEvents> {
  private readonly decoder: WebSocketStreamDecoder;
  private readonly encoder = new WebSocketFrameEncoder({ role: 'server' });
  private closeSent = false;
  private closed = false;

  constructor(
    readonly socket: Duplex,
    head: Uint8Array,
    opts: { maxPayload?: number } = {},
  ) {
    super();
    this.decoder = new WebSocketStreamDecoder({
      mode: 'strict',
      direction: 'clientToServer',
      maxPayload: opts.maxPayload ?? 16 * 1024 * 1024,
      maxMessageSize: opts.maxPayload ?? 16 * 1024 * 1024,
      validateUtf8: false,
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.finish(null));
    // The peer went away without a Close frame (the HTTP server's sockets allow half-open).
    socket.on('end', () => {
      socket.end();
      this.finish(null);
    });
    socket.on('error', () => this.finish(null));
    if (head.length) queueMicrotask(() => this.onData(head));
  }

  get isOpen(): boolean {
    return !this.closed && !this.closeSent;
  }

  /** Send one frame; returns false when the socket asks for a drain. */
  send(opcode: number, payload: Uint8Array | readonly Uint8Array[]): boolean {
    if (!this.isOpen) return true;
    return this.socket.write(this.encoder.frame(opcode, payload));
  }

  sendBinary(payload: Uint8Array | readonly Uint8Array[]): boolean {
    return this.send(OPCODE.BINARY, payload);
  }

  /** Wait until the socket can take more. */
  drained(): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed) return resolve();
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  /** Start the close handshake. */
  close(code: number = CLOSE_CODE.NORMAL, reason = ''): void {
    if (this.closeSent || this.closed) return;
    this.closeSent = true;
    this.socket.write(this.encoder.frame(OPCODE.CLOSE, encodeClosePayload(code, reason)));
    setTimeout(() => this.socket.destroy(), CLOSE_TIMEOUT_MS).unref();
  }

  private onData(chunk: Uint8Array): void {
    if (this.closed) return;
    let events;
    try {
      events = this.decoder.push(chunk);
    } catch {
      this.close(CLOSE_CODE.PROTOCOL_ERROR);
      this.socket.end();
      return;
    }
    for (const ev of events) {
      switch (ev.kind) {
        case 'message':
          this.emit('message', ev.type, ev.data);
          break;
        case 'ping':
          if (this.isOpen) this.socket.write(this.encoder.frame(OPCODE.PONG, ev.payload));
          break;
        case 'close':
          if (!this.closeSent) {
            this.closeSent = true;
            this.socket.write(this.encoder.frame(OPCODE.CLOSE, encodeClosePayload(ev.code ?? CLOSE_CODE.NORMAL)));
          }
          this.socket.end();
          this.finish(ev.code);
          return;
        case 'diagnostic':
          this.close(CLOSE_CODE.PROTOCOL_ERROR);
          this.socket.end();
          return;
        default:
          // data frames are reported as messages; pongs need nothing
          break;
      }
    }
  }

  private finish(code: number | null): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close', code);
  }
}
