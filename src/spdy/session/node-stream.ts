/**
 * One SPDY stream as a Node Duplex. Writes become DATA frames (payload views,
 * never copied), `end()` sends FIN, `destroy()` before both sides finished
 * sends RST_STREAM(CANCEL). Reads are views into the transport's chunks.
 */
import { Duplex } from 'node:stream';
import type { ReadableStream, WritableStream } from 'node:stream/web';
import type { SpdyHeaders } from '../types.js';
import type { SpdySession } from './node-session.js';

export interface SpdyStreamInternals {
  /** Bytes pushed to the reader while it was full: credited back on the next _read. */
  owed: number;
  /** A write waiting for window: what is left of it, in order. */
  pending: { pieces: Uint8Array[]; cb: (err?: Error | null) => void } | null;
  /** A FIN waiting for that write. */
  finalCb: ((err?: Error | null) => void) | null;
}

export class SpdyStream extends Duplex {
  /** Headers of the stream's SYN_STREAM (ours or the peer's). */
  readonly headers: SpdyHeaders;
  /** Headers of the SYN_REPLY once it arrived (streams we opened). */
  replyHeaders: SpdyHeaders | null = null;
  /** RST_STREAM status when the stream was reset (by either side). */
  resetStatus: number | null = null;
  /** @internal */
  readonly internals: SpdyStreamInternals = { owed: 0, pending: null, finalCb: null };

  constructor(
    private readonly session: SpdySession,
    readonly id: number,
    headers: SpdyHeaders,
    /** True when we opened the stream. */
    readonly local: boolean,
    highWaterMark: number,
  ) {
    super({ readableHighWaterMark: highWaterMark, writableHighWaterMark: highWaterMark, allowHalfOpen: true });
    this.headers = headers;
  }

  /** Value of a header of the SYN_STREAM (names compared case-insensitively). */
  header(name: string): string | undefined {
    const lower = name.toLowerCase();
    for (const [k, v] of this.headers) if (k.toLowerCase() === lower) return v;
    return undefined;
  }

  /** Accept a peer stream with SYN_REPLY (writing data first replies with no headers by itself). */
  respond(headers: SpdyHeaders = [], opts: { fin?: boolean } = {}): void {
    this.session._respond(this, headers, !!opts.fin);
  }

  /** Send a HEADERS frame. */
  sendHeaders(headers: SpdyHeaders, opts: { fin?: boolean } = {}): void {
    this.session._sendHeaders(this, headers, !!opts.fin);
  }

  /** RST_STREAM with a status (default CANCEL) and destroy the stream. */
  reset(status?: number): void {
    this.session._reset(this, status);
    this.destroy();
  }

  /** The same stream as a WHATWG pair (Node's `Duplex.toWeb`); use one face or the other, not both. */
  toWeb(): { readable: ReadableStream; writable: WritableStream } {
    return Duplex.toWeb(this);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.session._write(this, [chunk], cb);
  }

  // Chunks that queued up while a write was in flight go out together: one
  // callback and one flush for all of them instead of one each.
  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    const pieces = new Array<Uint8Array>(chunks.length);
    for (let i = 0; i < chunks.length; i++) pieces[i] = chunks[i]!.chunk;
    this.session._write(this, pieces, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.session._final(this, cb);
  }

  override _read(): void {
    this.session._read(this);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.session._destroyStream(this);
    cb(err);
  }
}
