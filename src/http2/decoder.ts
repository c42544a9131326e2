/**
 * Sans-IO HTTP/2 frame decoder for one direction: bytes in (any chunking),
 * frames out. The client's direction starts with the connection preface.
 * HEADERS and PUSH_PROMISE are delivered once their CONTINUATIONs are in,
 * with the whole header block (HPACK is the next layer's job), padding and
 * priority fields removed.
 *
 * Errors: `strict` throws the first; `inspect` reports each as a
 * diagnostic. A frame whose own payload is malformed is skipped (its length
 * is still known); what loses the frame boundaries (a bad preface, a length
 * over the limit, a gap, a frame that should have been a CONTINUATION) stops
 * the direction: HTTP/2 has no way to find the next frame.
 */
import { ByteQueue } from '../common/byte-queue.js';
import { concatBytes, copyBytes } from '../common/bytes.js';
import { KubewireError, type Direction, type ErrorMode } from '../common/errors.js';
import { http2Error } from './errors.js';
import { CLIENT_PREFACE_BYTES, FLAG, FRAME_HEADER_LENGTH, FRAME_TYPE, type Http2DecodeEvent } from './frames.js';

export interface Http2DecoderOptions {
  mode?: ErrorMode;
  direction?: Direction;
  connection?: number;
  /** Absolute offset of the first byte pushed. */
  baseOffset?: number;
  /** The client's direction: the 24-byte preface comes first. */
  expectPreface?: boolean;
  /** Largest frame payload accepted (default 2^24-1, the most SETTINGS_MAX_FRAME_SIZE allows). */
  maxFrameSize?: number;
  /** Largest header block (HEADERS plus CONTINUATIONs) held. Default 1 MiB. */
  maxHeaderBlock?: number;
}

interface PendingBlock {
  kind: 'headers' | 'push_promise';
  streamId: number;
  flags: number;
  length: number;
  offset: number;
  endStream: boolean;
  promisedStreamId: number;
  parts: Uint8Array[];
  bytes: number;
  continuations: number;
}

export class Http2FrameDecoder {
  private readonly q = new ByteQueue();
  private readonly strict: boolean;
  private readonly direction: Direction | undefined;
  private readonly connection: number | undefined;
  private readonly maxFrameSize: number;
  private readonly maxHeaderBlock: number;
  private prefacePending: boolean;
  private pending: PendingBlock | null = null;
  private stopped = false;

  constructor(opts: Http2DecoderOptions = {}) {
    this.strict = (opts.mode ?? 'strict') === 'strict';
    this.direction = opts.direction;
    this.connection = opts.connection;
    this.q.offset = opts.baseOffset ?? 0;
    this.prefacePending = opts.expectPreface ?? false;
    this.maxFrameSize = opts.maxFrameSize ?? 0xffffff;
    this.maxHeaderBlock = opts.maxHeaderBlock ?? 1024 * 1024;
  }

  /** True once the direction cannot be decoded any further. */
  get dead(): boolean {
    return this.stopped;
  }

  push(chunk: Uint8Array): Http2DecodeEvent[] {
    const out: Http2DecodeEvent[] = [];
    if (this.stopped) return out;
    this.q.push(chunk);
    this.run(out);
    return out;
  }

  /** Bytes missing from the capture: frame boundaries are lost. */
  gap(size: number): Http2DecodeEvent[] {
    const out: Http2DecodeEvent[] = [];
    if (this.stopped) return out;
    this.fail(out, 'HTTP2_GAP', `${size} bytes missing: HTTP/2 cannot find its next frame; the rest of this direction is not decoded`, this.q.offset, true);
    return out;
  }

  /** End of input: a frame cut short is reported. */
  end(): Http2DecodeEvent[] {
    const out: Http2DecodeEvent[] = [];
    if (this.stopped) return out;
    if (this.q.length > 0) this.fail(out, 'HTTP2_TRUNCATED', `input ends inside a frame (${this.q.length} bytes held)`, this.q.offset, true);
    else if (this.pending) this.fail(out, 'HTTP2_TRUNCATED', `input ends before the CONTINUATION of stream ${this.pending.streamId}'s header block`, this.q.offset, true);
    return out;
  }

  private run(out: Http2DecodeEvent[]): void {
    if (this.prefacePending) {
      const n = Math.min(this.q.length, CLIENT_PREFACE_BYTES.length);
      for (let i = 0; i < n; i++) {
        if (this.q.byteAt(i) !== CLIENT_PREFACE_BYTES[i]) {
          this.fail(out, 'HTTP2_BAD_PREFACE', 'the client did not start with the HTTP/2 connection preface', this.q.offset + i, true);
          return;
        }
      }
      if (n < CLIENT_PREFACE_BYTES.length) return;
      out.push({ kind: 'preface', offset: this.q.offset });
      this.q.skip(CLIENT_PREFACE_BYTES.length);
      this.prefacePending = false;
    }
    while (!this.stopped && this.q.length >= FRAME_HEADER_LENGTH) {
      const length = (this.q.byteAt(0) << 16) | (this.q.byteAt(1) << 8) | this.q.byteAt(2);
      if (length > this.maxFrameSize) {
        this.fail(out, 'HTTP2_FRAME_TOO_LARGE', `frame of ${length} bytes (limit ${this.maxFrameSize})`, this.q.offset, true);
        return;
      }
      if (this.q.length < FRAME_HEADER_LENGTH + length) return;
      const type = this.q.byteAt(3);
      const flags = this.q.byteAt(4);
      const streamId = this.q.uint32At(5) & 0x7fffffff;
      const offset = this.q.offset;
      this.q.skip(FRAME_HEADER_LENGTH);
      const payload = this.q.take(length);
      this.frame(out, type, flags, streamId, payload, offset);
    }
  }

  private frame(out: Http2DecodeEvent[], type: number, flags: number, streamId: number, p: Uint8Array, offset: number): void {
    const base = { streamId, flags, length: p.length, offset };
    const bad = (code: string, message: string) => this.fail(out, code, message, offset, false, streamId);
    if (this.pending && type !== FRAME_TYPE.CONTINUATION) {
      // §6.10: nothing may come between a header block's frames
      this.fail(out, 'HTTP2_EXPECTED_CONTINUATION', `frame type ${type} inside the header block of stream ${this.pending.streamId}`, offset, true, streamId);
      return;
    }
    const connectionLevel = type === FRAME_TYPE.SETTINGS || type === FRAME_TYPE.PING || type === FRAME_TYPE.GOAWAY;
    if (connectionLevel && streamId !== 0) return bad('HTTP2_STREAM_ID', `frame type ${type} on stream ${streamId} (must be 0)`);
    const streamLevel = type === FRAME_TYPE.DATA || type === FRAME_TYPE.HEADERS || type === FRAME_TYPE.PRIORITY || type === FRAME_TYPE.RST_STREAM || type === FRAME_TYPE.PUSH_PROMISE || type === FRAME_TYPE.CONTINUATION;
    if (streamLevel && streamId === 0) return bad('HTTP2_STREAM_ID', `frame type ${type} on stream 0`);
    switch (type) {
      case FRAME_TYPE.DATA: {
        const body = this.unpad(p, flags, 0, bad);
        if (body) out.push({ kind: 'data', ...base, endStream: (flags & FLAG.END_STREAM) !== 0, data: body });
        return;
      }
      case FRAME_TYPE.HEADERS: {
        const body = this.unpad(p, flags, flags & FLAG.PRIORITY ? 5 : 0, bad);
        if (body) this.startBlock(out, { kind: 'headers', ...base, endStream: (flags & FLAG.END_STREAM) !== 0, promisedStreamId: 0 }, body);
        return;
      }
      case FRAME_TYPE.PRIORITY:
        if (p.length !== 5) return bad('HTTP2_FRAME_SIZE', `PRIORITY of ${p.length} bytes (must be 5)`);
        out.push({ kind: 'priority', ...base });
        return;
      case FRAME_TYPE.RST_STREAM:
        if (p.length !== 4) return bad('HTTP2_FRAME_SIZE', `RST_STREAM of ${p.length} bytes (must be 4)`);
        out.push({ kind: 'rst_stream', ...base, errorCode: u32(p, 0) });
        return;
      case FRAME_TYPE.SETTINGS: {
        const ack = (flags & FLAG.ACK) !== 0;
        if (p.length % 6 !== 0 || (ack && p.length !== 0)) return bad('HTTP2_FRAME_SIZE', `SETTINGS of ${p.length} bytes${ack ? ' with ACK' : ''}`);
        const entries: Array<{ id: number; value: number }> = [];
        for (let i = 0; i < p.length; i += 6) entries.push({ id: (p[i]! << 8) | p[i + 1]!, value: u32(p, i + 2) });
        out.push({ kind: 'settings', ...base, ack, entries });
        return;
      }
      case FRAME_TYPE.PUSH_PROMISE: {
        const body = this.unpad(p, flags, 4, bad);
        if (!body) return;
        const promised = u32(p, flags & FLAG.PADDED ? 1 : 0) & 0x7fffffff;
        this.startBlock(out, { kind: 'push_promise', ...base, endStream: false, promisedStreamId: promised }, body);
        return;
      }
      case FRAME_TYPE.PING:
        if (p.length !== 8) return bad('HTTP2_FRAME_SIZE', `PING of ${p.length} bytes (must be 8)`);
        out.push({ kind: 'ping', ...base, ack: (flags & FLAG.ACK) !== 0, opaque: p });
        return;
      case FRAME_TYPE.GOAWAY:
        if (p.length < 8) return bad('HTTP2_FRAME_SIZE', `GOAWAY of ${p.length} bytes (at least 8)`);
        out.push({ kind: 'goaway', ...base, lastStreamId: u32(p, 0) & 0x7fffffff, errorCode: u32(p, 4), debug: p.subarray(8) });
        return;
      case FRAME_TYPE.WINDOW_UPDATE:
        if (p.length !== 4) return bad('HTTP2_FRAME_SIZE', `WINDOW_UPDATE of ${p.length} bytes (must be 4)`);
        out.push({ kind: 'window_update', ...base, increment: u32(p, 0) & 0x7fffffff });
        return;
      case FRAME_TYPE.CONTINUATION: {
        const b = this.pending;
        if (!b || b.streamId !== streamId) return bad('HTTP2_UNEXPECTED_CONTINUATION', `CONTINUATION on stream ${streamId} without a header block to continue`);
        b.continuations++;
        this.addToBlock(out, b, p, (flags & FLAG.END_HEADERS) !== 0);
        return;
      }
      default:
        // §4.1: unknown types are ignored (and must not break decoding)
        out.push({ kind: 'unknown', ...base, type, payload: p });
        return;
    }
  }

  /** The payload without its pad length, `skip` fixed bytes and padding; null (reported) when malformed. */
  private unpad(p: Uint8Array, flags: number, skip: number, bad: (code: string, message: string) => void): Uint8Array | null {
    let start = 0;
    let end = p.length;
    if (flags & FLAG.PADDED) {
      if (p.length < 1) {
        bad('HTTP2_BAD_PADDING', 'PADDED frame without a pad length');
        return null;
      }
      start = 1;
      end -= p[0]!;
    }
    start += skip;
    if (end < start) {
      bad('HTTP2_BAD_PADDING', `padding and fixed fields (${p.length - end + start} bytes) longer than the ${p.length}-byte payload`);
      return null;
    }
    return p.subarray(start, end);
  }

  private startBlock(out: Http2DecodeEvent[], b: Omit<PendingBlock, 'parts' | 'bytes' | 'continuations'>, fragment: Uint8Array): void {
    const block: PendingBlock = { ...b, parts: [], bytes: 0, continuations: 0 };
    this.addToBlock(out, block, fragment, (b.flags & FLAG.END_HEADERS) !== 0);
  }

  private addToBlock(out: Http2DecodeEvent[], b: PendingBlock, fragment: Uint8Array, last: boolean): void {
    if (b.bytes + fragment.length > this.maxHeaderBlock) {
      this.fail(out, 'HTTP2_HEADER_BLOCK_TOO_LARGE', `header block of stream ${b.streamId} over ${this.maxHeaderBlock} bytes`, b.offset, true, b.streamId);
      return;
    }
    // a fragment may be a view into a chunk the caller reuses: copy while the block is incomplete
    b.parts.push(last && b.parts.length === 0 ? fragment : copyBytes(fragment));
    b.bytes += fragment.length;
    if (!last) {
      this.pending = b;
      return;
    }
    this.pending = null;
    const headerBlock = b.parts.length === 1 ? b.parts[0]! : concatBytes(b.parts);
    const base = { streamId: b.streamId, flags: b.flags, length: b.length, offset: b.offset, headerBlock, continuations: b.continuations };
    if (b.kind === 'headers') out.push({ kind: 'headers', ...base, endStream: b.endStream });
    else out.push({ kind: 'push_promise', ...base, promisedStreamId: b.promisedStreamId });
  }

  private fail(out: Http2DecodeEvent[], code: string, message: string, offset: number, fatal: boolean, streamId?: number): void {
    const error: KubewireError = http2Error(code, fatal ? 'connection' : 'stream', message, { offset, direction: this.direction, connection: this.connection, streamId });
    if (this.strict) throw error;
    out.push({ kind: 'diagnostic', error });
    if (fatal) {
      this.stopped = true;
      this.pending = null;
      this.q.clear();
    }
  }
}

function u32(p: Uint8Array, i: number): number {
  return ((p[i]! << 24) | (p[i + 1]! << 16) | (p[i + 2]! << 8) | p[i + 3]!) >>> 0;
}
