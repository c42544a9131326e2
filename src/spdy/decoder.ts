/**
 * Streaming SPDY/3.1 frame decoder: push chunks of any size, get every frame
 * they complete. Sans-IO and synchronous, header blocks included.
 *
 * Zero-copy: a DATA payload (and `headerBlock`, `unknown.payload`) is a view
 * into the pushed chunk when the frame lies inside one chunk; only frames that
 * straddle chunks are copied (once, into memory the decoder never reuses).
 * With `dataPieces`, DATA frames that straddle chunks are not copied at all:
 * their payload comes out in pieces, each a view into its chunk. Views stay
 * valid while the caller leaves the pushed buffers alone (copy with `slice()`
 * to keep them past reuse of those buffers).
 *
 * Errors: strict mode throws the first wire error (and the decoder stays
 * failed, like an endpoint that closed the session); inspect mode never
 * throws on wire input, puts a `diagnostic` event in the output before the
 * frame it concerns, and carries on wherever the framing allows.
 */
import { Buffer } from 'node:buffer';
import { KubewireError, type Direction, type ErrorMode, type ErrorScope } from '../common/errors.js';
import { SPDY_ERROR, spdyError, type SpdyErrorCode } from './errors.js';
import { CONTROL_PARSERS } from './frames/index.js';
import type { FrameDecodeContext } from './frames/context.js';
import { decodeData } from './frames/data.js';
import { decodeUnknown } from './frames/unknown.js';
import { FRAME_HEADER_LENGTH } from './frames/frame-header.js';
import { HeaderInflateContext } from './header-compression.js';
import { resolveLimits, type SpdyLimits } from './limits.js';
import { plausibleFrameLength } from './resync.js';
import { FLAG_FIN, FRAME_TYPE, SPDY_VERSION, type SpdyFrame, type SpdyHeaders } from './types.js';

export type { SpdyLimits } from './limits.js';

export interface SpdyDiagnostic {
  kind: 'diagnostic';
  error: KubewireError;
}

export type SpdyDecodeEvent = SpdyFrame | SpdyDiagnostic;

export interface SpdyFrameDecoderOptions {
  /** Default 'strict'. */
  mode?: ErrorMode;
  /** Stamped on errors. */
  direction?: Direction;
  limits?: Partial<SpdyLimits>;
  /**
   * 'fresh' (default): the bytes start at the beginning of the session, so
   * header blocks can be inflated. 'unknown': a capture joined mid-session;
   * header blocks are not inflated (`headers: null`, one diagnostic for the
   * direction), DATA and every other frame still decode.
   */
  headerContext?: 'fresh' | 'unknown';
  /** Absolute offset of the first byte pushed (default 0). */
  baseOffset?: number;
  /**
   * After a gap, a DATA header whose stream id fails this test is not taken
   * for the framing. A session knows its streams (Kubernetes clients open
   * every stream, so ids are odd), and payload bytes that look like a DATA
   * header rarely name one of them. Default: any id.
   */
  resyncStreamId?: (streamId: number) => boolean;
  /**
   * Deliver the payload of a DATA frame that straddles chunks as it arrives,
   * as several `data` events (`more: true` on all but the last, `fin` on the
   * last only), each a view into the chunk it came in, instead of copying the
   * frame to deliver it whole. Default false (every frame whole). A frame
   * cut by a gap or the end of input has its earlier pieces delivered
   * already; the diagnostic that reports the cut says how many bytes. A
   * function decides per frame, from its stream id, when its header is read.
   */
  dataPieces?: boolean | ((streamId: number) => boolean);
}

const SLAB_SIZE = 256 * 1024;
const SLAB_MAX = 64 * 1024;
const EMPTY = new Uint8Array(0);

/** Plausible frames that must follow each other before the framing found after a gap is believed. */
const RESYNC_CHAIN = 4;
/** Frames (empty DATA included) a chain may take to reach RESYNC_CHAIN others. */
const RESYNC_CHAIN_MAX_FRAMES = 32;
/** Frames longer than this are not used to resynchronise (Kubernetes peers write DATA of at most 32 KiB). */
const RESYNC_MAX_FRAME = 1 << 20;
/** Bytes after an undecided candidate beyond which it is given up. */
const RESYNC_WINDOW = (RESYNC_CHAIN + 1) * (RESYNC_MAX_FRAME + 8);

function isHeaderCarrying(type: number): boolean {
  return type === FRAME_TYPE.SYN_STREAM || type === FRAME_TYPE.SYN_REPLY || type === FRAME_TYPE.HEADERS;
}

export class SpdyFrameDecoder {
  private readonly strict: boolean;
  private readonly direction: Direction | undefined;
  private readonly limits: SpdyLimits;
  private readonly resyncStreamId: ((streamId: number) => boolean) | undefined;
  private readonly dataPieces: boolean | ((streamId: number) => boolean);
  private readonly headerContext: HeaderInflateContext;
  private readonly ctx: FrameDecodeContext;

  /**
   * An incomplete frame: its header bytes so far, then (once the length is
   * known and checked) its body, copied as it arrives into memory of exactly
   * its size; or, for a DATA frame in pieces, no body (`partBody` null) and
   * the bytes of it delivered so far in `partBodyFilled`.
   */
  private readonly partHeader = new Uint8Array(FRAME_HEADER_LENGTH);
  private partHeaderLength = 0;
  /** The incomplete frame's body length, once its header is whole. */
  private partLength = 0;
  private partBody: Uint8Array | null = null;
  private partBodyFilled = 0;
  /** The incomplete frame is a DATA frame delivered in pieces. */
  private partPieces = false;
  private slab: Uint8Array = EMPTY;
  private slabUsed = 0;
  /** Absolute offset of the first byte not yet decoded (the start of a partial frame). */
  private cursor: number;
  /** Absolute offset of the next byte expected. */
  private received: number;
  /** Bytes still to drop of a frame we decided not to buffer (too large). */
  private skip = 0;
  private resyncing = false;
  private resyncSkipped = 0;
  /** Bytes after a gap, while looking for a frame header. */
  private rs: ResyncState = emptyResync();
  private contextNoticeGiven = false;
  private failure: KubewireError | null = null;
  private out: SpdyDecodeEvent[] = [];

  constructor(opts: SpdyFrameDecoderOptions = {}) {
    this.strict = (opts.mode ?? 'strict') === 'strict';
    this.direction = opts.direction;
    this.limits = resolveLimits(opts.limits);
    this.resyncStreamId = opts.resyncStreamId;
    this.dataPieces = opts.dataPieces ?? false;
    this.headerContext = new HeaderInflateContext((opts.headerContext ?? 'fresh') === 'fresh');
    this.cursor = this.received = opts.baseOffset ?? 0;
    this.ctx = {
      report: (code, scope, message, offset, streamId) => this.report(code, scope, message, offset, streamId),
      headers: (block, streamId, offset) => this.inflateHeaders(block, streamId, offset),
    };
  }

  /** Absolute offset of the next byte expected. */
  get offset(): number {
    return this.received;
  }

  /**
   * Every frame completed by this chunk, in order; [] when more bytes are
   * needed. Payload views are plain Uint8Arrays over the chunk's memory.
   */
  push(chunk: Uint8Array): SpdyDecodeEvent[] {
    if (this.failure) throw this.failure;
    const out: SpdyDecodeEvent[] = (this.out = []);
    this.received += chunk.length;
    // Views of a plain Uint8Array are cheaper to make than Buffer slices (Buffer#subarray runs JS).
    const bytes = chunk.constructor === Uint8Array ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
    this.guard(() => this.consume(bytes));
    return out;
  }

  /**
   * `size` bytes were lost before the next chunk. The partial frame they cut
   * is dropped. When the lost bytes fall inside a frame whose length we had
   * already read, framing stays in step (and so does the header context,
   * unless that frame carried a header block); otherwise the decoder looks
   * for the next plausible frame header and the header context is unknown
   * from then on. Strict mode throws: an endpoint cannot lose bytes.
   */
  gap(size: number): SpdyDecodeEvent[] {
    if (this.failure) throw this.failure;
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`gap size must be a non-negative integer, got ${size}`);
    const out: SpdyDecodeEvent[] = (this.out = []);
    if (size === 0) return out;
    this.guard(() => this.loseBytes(size));
    return out;
  }

  /** End of input: a diagnostic (strict: an error) when a frame is incomplete. */
  end(): SpdyDecodeEvent[] {
    if (this.failure) throw this.failure;
    const out: SpdyDecodeEvent[] = (this.out = []);
    this.guard(() => {
      // At the end, whole plausible frames that reach the last byte are proof enough.
      if (this.resyncing) this.resync(true);
      if (this.resyncing) {
        const n = this.resyncSkipped + this.rs.length - this.rs.start;
        if (n > 0) {
          this.report(SPDY_ERROR.RESYNC_SKIPPED, 'session', `input ended before a frame header was found again (${n} bytes skipped)`, this.cursor - this.resyncSkipped);
        }
      } else if (this.partHeaderLength > 0 || this.skip > 0) {
        this.report(
          SPDY_ERROR.TRUNCATED_FRAME,
          'session',
          `input ended inside a frame (${this.pendingDescription()})`,
          this.cursor,
        );
      }
      this.cursor = this.received;
      this.dropPartial();
      this.rs = emptyResync();
      this.skip = 0;
    });
    return out;
  }

  /**
   * The incomplete frame held at this point, if any: where it starts, its
   * first header bytes (a copy), how many of its bytes arrived and how many
   * it needs (null while its length is not known). Null when nothing is held,
   * or while looking for a frame header after a gap. Lets a caller tell what
   * an end of input cut (a closing GOAWAY, say) before calling `end()`.
   */
  pendingFrame(): { offset: number; header: Uint8Array; have: number; need: number | null } | null {
    if (this.failure || this.resyncing || this.skip > 0 || this.partHeaderLength === 0) return null;
    const header = this.partHeader.slice(0, this.partHeaderLength);
    const need = this.partHeaderLength === FRAME_HEADER_LENGTH ? FRAME_HEADER_LENGTH + this.partLength : null;
    return { offset: this.cursor, header, have: this.partHeaderLength + this.partBodyFilled, need };
  }

  /** Release the zlib context now rather than at garbage collection. */
  close(): void {
    this.headerContext.close();
  }

  // --- internals -----------------------------------------------------------

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (e instanceof KubewireError) this.failure = e;
      throw e;
    }
  }

  private pendingDescription(): string {
    if (this.skip > 0) return `${this.skip} bytes of an oversized frame missing`;
    if (this.partHeaderLength < FRAME_HEADER_LENGTH) return `${this.partHeaderLength} of 8 header bytes`;
    // a frame whose header alone arrived has delivered nothing yet, in pieces or not
    const delivered = this.partPieces && this.partBodyFilled > 0 ? `, delivered in pieces already` : '';
    return `${this.partBodyFilled} of ${this.partLength} body bytes${delivered}`;
  }

  private report(code: SpdyErrorCode, scope: ErrorScope, message: string, offset: number, streamId?: number): void {
    const error = spdyError(code, scope, message, offset, this.direction, streamId);
    if (this.strict) throw error;
    this.out.push({ kind: 'diagnostic', error });
  }

  private inflateHeaders(block: Uint8Array, streamId: number, offset: number): SpdyHeaders | null {
    const r = this.headerContext.decode(block, this.limits);
    if (r.ok) {
      if (r.emptyName) {
        this.report(SPDY_ERROR.EMPTY_HEADER_NAME, 'stream', 'header block has an empty name', offset, streamId);
      }
      return r.headers;
    }
    if (r.code === SPDY_ERROR.HEADER_CONTEXT_UNKNOWN) {
      // Once per direction: every later block has the same cause.
      if (this.contextNoticeGiven) return null;
      this.contextNoticeGiven = true;
    } else if (r.scope === 'session') {
      // This failure explains every later `headers: null`.
      this.contextNoticeGiven = true;
    }
    this.report(r.code, r.scope, r.message, offset, streamId);
    return null;
  }

  private consume(chunk: Uint8Array): void {
    const n = chunk.length;
    let p = 0;
    while (p < n) {
      if (this.skip > 0) {
        const s = Math.min(this.skip, n - p);
        this.skip -= s;
        this.cursor += s;
        p += s;
        continue;
      }
      if (this.resyncing) {
        this.resyncAppend(chunk.subarray(p));
        this.resync(false);
        return;
      }
      if (this.partHeaderLength === 0) {
        p = this.decodeInPlace(chunk, p);
        if (p >= n || this.skip > 0) continue;
      }
      p = this.fillPartial(chunk, p);
    }
  }

  /**
   * The fast path: decode whole frames straight out of `chunk` from `p`.
   * Returns where the first incomplete frame starts (or where skipping begins).
   */
  private decodeInPlace(chunk: Uint8Array, p: number): number {
    const n = chunk.length;
    const maxLen = this.limits.maxFrameLength;
    while (n - p >= FRAME_HEADER_LENGTH) {
      const len = (chunk[p + 5]! << 16) | (chunk[p + 6]! << 8) | chunk[p + 7]!;
      const w0 = ((chunk[p]! << 24) | (chunk[p + 1]! << 16) | (chunk[p + 2]! << 8) | chunk[p + 3]!) >>> 0;
      if (len > maxLen) {
        this.cursor += FRAME_HEADER_LENGTH;
        this.frameTooLarge(w0, len);
        return p + FRAME_HEADER_LENGTH;
      }
      const end = p + FRAME_HEADER_LENGTH + len;
      if (end > n) return p;
      const offset = this.cursor;
      this.cursor = offset + FRAME_HEADER_LENGTH + len;
      this.dispatch(w0, chunk[p + 4]!, chunk.subarray(p + FRAME_HEADER_LENGTH, end), offset);
      p = end;
    }
    return p;
  }

  /**
   * Feed bytes of `chunk` from `p` into the incomplete frame; decode it once
   * complete. The body is copied once, into a buffer allocated (unzeroed) at
   * its exact size once the length is known and checked; when only the header
   * was split, the body is a view into `chunk` after all.
   */
  private fillPartial(chunk: Uint8Array, p: number): number {
    const n = chunk.length;
    const h = this.partHeader;
    if (this.partHeaderLength < FRAME_HEADER_LENGTH) {
      const take = Math.min(FRAME_HEADER_LENGTH - this.partHeaderLength, n - p);
      h.set(chunk.subarray(p, p + take), this.partHeaderLength);
      this.partHeaderLength += take;
      p += take;
      if (this.partHeaderLength < FRAME_HEADER_LENGTH) return p;
      const len = (h[5]! << 16) | (h[6]! << 8) | h[7]!;
      const w0 = ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
      if (len > this.limits.maxFrameLength) {
        this.partHeaderLength = 0;
        this.cursor += FRAME_HEADER_LENGTH;
        this.frameTooLarge(w0, len);
        return p;
      }
      if (n - p >= len) {
        this.completePartial(chunk.subarray(p, p + len));
        return p + len;
      }
      this.partLength = len;
      this.partBodyFilled = 0;
      const pieces = this.dataPieces;
      if (w0 < 0x80000000 && (pieces === true || (pieces !== false && pieces(w0)))) {
        this.partPieces = true;
      } else {
        this.partBody = this.allocBody(len);
      }
    }
    if (this.partPieces) return this.dataPiece(chunk, p);
    const body = this.partBody!;
    const take = Math.min(body.length - this.partBodyFilled, n - p);
    body.set(chunk.subarray(p, p + take), this.partBodyFilled);
    this.partBodyFilled += take;
    p += take;
    if (this.partBodyFilled === body.length) this.completePartial(body);
    return p;
  }

  /** The next piece of a DATA frame delivered in pieces: what `chunk` holds of it from `p`. */
  private dataPiece(chunk: Uint8Array, p: number): number {
    const take = Math.min(this.partLength - this.partBodyFilled, chunk.length - p);
    if (take === 0) return p;
    const h = this.partHeader;
    const streamId = ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
    const flags = h[4]!;
    const offset = this.cursor;
    this.partBodyFilled += take;
    const data = chunk.subarray(p, p + take);
    if (this.partBodyFilled < this.partLength) {
      this.out.push({ kind: 'data', offset, flags, streamId, fin: false, data, more: true });
    } else {
      this.cursor = offset + FRAME_HEADER_LENGTH + this.partLength;
      this.dropPartial();
      // as decodeData does for a whole frame, once the frame is complete
      if (streamId === 0) this.report(SPDY_ERROR.INVALID_STREAM_ID, 'session', 'DATA frame on stream 0', offset, 0);
      this.out.push({ kind: 'data', offset, flags, streamId, fin: (flags & FLAG_FIN) !== 0, data, more: false });
    }
    return p + take;
  }

  /**
   * Memory for a frame body that straddles chunks. Bodies up to SLAB_MAX are
   * carved out of a shared slab (as Node's Buffer pool does): allocating a
   * fresh buffer per frame cost more than copying the bytes. A slab stays
   * alive while any frame that points into it does.
   */
  private allocBody(len: number): Uint8Array {
    if (len > SLAB_MAX) return Buffer.allocUnsafeSlow(len);
    if (this.slabUsed + len > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
      this.slabUsed = 0;
    }
    const body = this.slab.subarray(this.slabUsed, this.slabUsed + len);
    // Keep slices 8-byte aligned.
    this.slabUsed += (len + 7) & ~7;
    return body;
  }

  private completePartial(body: Uint8Array): void {
    const h = this.partHeader;
    const w0 = ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
    const offset = this.cursor;
    this.cursor = offset + FRAME_HEADER_LENGTH + body.length;
    this.dropPartial();
    this.dispatch(w0, h[4]!, body, offset);
  }

  private dropPartial(): void {
    this.partHeaderLength = 0;
    this.partLength = 0;
    this.partBody = null;
    this.partBodyFilled = 0;
    this.partPieces = false;
  }

  private dispatch(w0: number, flags: number, body: Uint8Array, offset: number): void {
    if (w0 < 0x80000000) {
      this.out.push(decodeData(w0, flags, body, offset, this.ctx));
    } else {
      this.control((w0 >>> 16) & 0x7fff, w0 & 0xffff, flags, body, offset);
    }
  }

  private control(version: number, type: number, flags: number, body: Uint8Array, offset: number): void {
    if (version !== SPDY_VERSION) {
      this.report(SPDY_ERROR.UNSUPPORTED_VERSION, 'session', `control frame of version ${version} (type ${type})`, offset);
      this.out.push(decodeUnknown(version, type, body, flags, offset));
      return;
    }
    const parser = CONTROL_PARSERS[type];
    const frame = parser ? parser(body, flags, offset, this.ctx) : decodeUnknown(version, type, body, flags, offset);
    if (frame) this.out.push(frame);
  }

  /** The frame whose header was just consumed is longer than allowed: report, then skip its body. */
  private frameTooLarge(w0: number, len: number): void {
    const offset = this.cursor - FRAME_HEADER_LENGTH;
    const control = w0 >= 0x80000000;
    const type = w0 & 0xffff;
    const what = control ? `control frame type ${type}` : `DATA frame on stream ${w0 & 0x7fffffff}`;
    this.skip = len;
    if (control && isHeaderCarrying(type)) {
      // Its header block is never inflated, so later blocks cannot be either.
      this.headerContext.markUnknown();
    }
    this.report(
      SPDY_ERROR.FRAME_TOO_LARGE,
      'session',
      `${what} of length ${len} exceeds maxFrameLength ${this.limits.maxFrameLength}`,
      offset,
      control ? undefined : w0 & 0x7fffffff,
    );
  }

  private loseBytes(size: number): void {
    const lostAt = this.received;
    this.received += size;
    if (this.skip > 0) {
      if (size <= this.skip) {
        // The loss falls inside a frame we were dropping anyway: still in step.
        this.skip -= size;
        this.cursor += size;
        this.report(SPDY_ERROR.GAP, 'session', `${size} bytes lost inside a skipped frame`, lostAt);
        return;
      }
      this.cursor += this.skip;
      size -= this.skip;
      this.skip = 0;
    }
    const h = this.partHeader;
    if (!this.resyncing && this.partHeaderLength === FRAME_HEADER_LENGTH) {
      const w0 = ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
      const frameEnd = this.cursor + FRAME_HEADER_LENGTH + this.partLength;
      if (this.received <= frameEnd) {
        // We know where the next frame starts: drop this one and stay in step.
        const control = w0 >= 0x80000000;
        const lostHeaders = control && isHeaderCarrying(w0 & 0xffff);
        if (lostHeaders) this.headerContext.markUnknown();
        const frameOffset = this.cursor;
        const delivered = this.partPieces && this.partBodyFilled > 0 ? ` (${this.partBodyFilled} bytes of it delivered in pieces already)` : '';
        this.cursor = this.received;
        this.skip = frameEnd - this.received;
        this.dropPartial();
        this.report(
          SPDY_ERROR.GAP,
          control ? 'session' : 'stream',
          `${size} bytes lost inside ${control ? `a control frame of type ${w0 & 0xffff}` : 'a DATA frame'}, which is dropped${delivered}` +
            (lostHeaders ? '; the header compression context is lost' : ''),
          frameOffset,
          control ? undefined : w0 & 0x7fffffff,
        );
        return;
      }
    }
    const dropped = this.partHeaderLength + this.partBodyFilled;
    this.dropPartial();
    this.cursor = this.received;
    this.headerContext.markUnknown();
    this.resyncing = true;
    this.resyncSkipped = 0;
    this.rs = emptyResync();
    this.report(
      SPDY_ERROR.GAP,
      'session',
      `${size} bytes lost${dropped ? ` (a partial frame of ${dropped} bytes dropped)` : ''}; looking for the next frame header, header blocks can no longer be inflated`,
      lostAt,
    );
  }

  /**
   * Look for the framing again in the bytes after a gap. A DATA header only
   * says "high bit clear, stream id not 0, flags FIN or nothing", which random
   * payload bytes match about once in 250 positions, and a false one with a
   * large length would swallow the real frames behind it. So a candidate is
   * believed only when RESYNC_CHAIN plausible headers follow each other from
   * it, each frame at most RESYNC_MAX_FRAME long (or, at the end of input,
   * when plausible frames reach the last byte exactly). A control header
   * (0x80 0x03, a known type, flags and length that fit it) is a strong
   * signature and starts a chain like any other. Bytes stay buffered while
   * the first candidate is undecided, bounded by RESYNC_WINDOW.
   */
  private resync(atEnd: boolean): void {
    const r = this.rs;
    const buf = r.buf;
    const end = r.length;
    for (let i = Math.max(r.scan, r.start); i + FRAME_HEADER_LENGTH <= end; i++) {
      const v = chainAt(buf, i, end, atEnd, this.resyncStreamId);
      if (v === CHAIN_NO) continue;
      if (v === CHAIN_YES) return this.resynced(i);
      if (end - i >= RESYNC_WINDOW) continue; // cannot be proven within the window
      // Undecided: keep the bytes from here and wait for more.
      this.dropResync(i - r.start);
      r.scan = i;
      return;
    }
    r.scan = Math.max(r.start, end - (FRAME_HEADER_LENGTH - 1));
    // Only the last 7 bytes (a possible header start) are kept.
    this.dropResync(r.scan - r.start);
  }

  /** Append bytes to the resynchronisation buffer. */
  private resyncAppend(chunk: Uint8Array): void {
    const r = this.rs;
    if (r.length + chunk.length > r.buf.length) {
      const live = r.length - r.start;
      const need = live + chunk.length;
      const next = need * 2 > r.buf.length ? new Uint8Array(Math.max(64, need * 2)) : r.buf;
      next.set(r.buf.subarray(r.start, r.length), 0);
      r.scan -= r.start;
      r.buf = next;
      r.length = live;
      r.start = 0;
    }
    r.buf.set(chunk, r.length);
    r.length += chunk.length;
  }

  /** Framing found again at buffer position `i`: hand the rest to the normal path. */
  private resynced(i: number): void {
    const r = this.rs;
    this.dropResync(i - r.start);
    // Frames decoded from here are views into this buffer, which is not reused.
    const rest = r.buf.subarray(r.start, r.length);
    this.rs = emptyResync();
    this.resyncing = false;
    if (this.resyncSkipped > 0) {
      this.report(
        SPDY_ERROR.RESYNC_SKIPPED,
        'session',
        `skipped ${this.resyncSkipped} bytes to the next plausible frame header`,
        this.cursor - this.resyncSkipped,
      );
    }
    this.consume(rest);
  }

  private dropResync(n: number): void {
    this.rs.start += n;
    this.cursor += n;
    this.resyncSkipped += n;
  }
}

interface ResyncState {
  buf: Uint8Array;
  /** Live bytes are buf[start, length). */
  start: number;
  length: number;
  /** Next position to examine. */
  scan: number;
}

function emptyResync(): ResyncState {
  return { buf: new Uint8Array(0), start: 0, length: 0, scan: 0 };
}

const CHAIN_NO = 0;
const CHAIN_MORE = 1;
const CHAIN_YES = 2;

/** Plausible headers, one after the other, at `i`? CHAIN_NO, CHAIN_MORE (undecided yet) or CHAIN_YES. */
function chainAt(buf: Uint8Array, i: number, end: number, atEnd: boolean, streamIdOk: ((id: number) => boolean) | undefined): number {
  let p = i;
  // An empty DATA frame is eight bytes a payload can hold: it may sit in a
  // chain but does not count towards it, and cannot start one.
  let counted = 0;
  for (let k = 0; counted < RESYNC_CHAIN; k++) {
    if (atEnd && p === end && counted > 0) return CHAIN_YES;
    if (k >= RESYNC_CHAIN_MAX_FRAMES) return CHAIN_NO;
    if (p + FRAME_HEADER_LENGTH > end) return atEnd ? CHAIN_NO : CHAIN_MORE;
    const len = plausibleFrameLength(buf, p, RESYNC_MAX_FRAME);
    if (len < 0) return CHAIN_NO;
    const emptyData = len === 0 && buf[p]! < 0x80;
    if (emptyData && k === 0) return CHAIN_NO;
    if (!emptyData) counted++;
    if (streamIdOk && buf[p]! < 0x80) {
      const id = ((buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!) >>> 0;
      if (!streamIdOk(id)) return CHAIN_NO;
    }
    p += FRAME_HEADER_LENGTH + len;
    if (p > end) return atEnd ? CHAIN_NO : CHAIN_MORE;
  }
  return CHAIN_YES;
}
