/**
 * Streaming SPDY/3.1 frame decoder: push chunks of any size, get every frame
 * they complete. Sans-IO and synchronous, header blocks included.
 *
 * Zero-copy: a DATA payload (and `headerBlock`, `unknown.payload`) is a view
 * into the pushed chunk when the frame lies inside one chunk; only frames that
 * straddle chunks are copied. Views stay valid while the caller leaves the
 * pushed buffers alone (copy with `slice()` to keep them past reuse).
 *
 * Errors: strict mode throws the first wire error (and the decoder stays
 * failed, like an endpoint that closed the session); inspect mode never
 * throws on wire input, puts a `diagnostic` event in the output before the
 * frame it concerns, and carries on wherever the framing allows.
 */
import { KubewireError, type Direction, type ErrorMode, type ErrorScope } from '../common/errors.js';
import { ByteQueue } from '../common/byte-queue.js';
import { SPDY_ERROR, spdyError, type SpdyErrorCode } from './errors.js';
import { CONTROL_PARSERS } from './frames/index.js';
import type { FrameDecodeContext } from './frames/context.js';
import { decodeData } from './frames/data.js';
import { decodeUnknown } from './frames/unknown.js';
import { FRAME_HEADER_LENGTH } from './frames/frame-header.js';
import { HeaderInflateContext } from './header-compression.js';
import { resolveLimits, type SpdyLimits } from './limits.js';
import { plausibleFrameLength } from './resync.js';
import { FRAME_TYPE, SPDY_VERSION, type SpdyFrame, type SpdyHeaders } from './types.js';

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
}

/** Longest DATA frame whose confirmation the resynchronising decoder waits for. */
const RESYNC_MAX_WAIT = 64 * 1024;

function isHeaderCarrying(type: number): boolean {
  return type === FRAME_TYPE.SYN_STREAM || type === FRAME_TYPE.SYN_REPLY || type === FRAME_TYPE.HEADERS;
}

export class SpdyFrameDecoder {
  private readonly strict: boolean;
  private readonly direction: Direction | undefined;
  private readonly limits: SpdyLimits;
  private readonly headerContext: HeaderInflateContext;
  private readonly ctx: FrameDecodeContext;

  /** Bytes of an incomplete frame (or, while resynchronising, of unknown bytes). */
  private readonly queue = new ByteQueue();
  /** Absolute offset of the first byte not yet decoded (the start of `queue`). */
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

  /** Every frame completed by this chunk, in order; [] when more bytes are needed. */
  push(chunk: Uint8Array): SpdyDecodeEvent[] {
    if (this.failure) throw this.failure;
    const out: SpdyDecodeEvent[] = (this.out = []);
    this.received += chunk.length;
    this.guard(() => this.consume(chunk));
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
      if (this.resyncing) {
        const n = this.resyncSkipped + this.rs.length - this.rs.start;
        if (n > 0) {
          this.report(SPDY_ERROR.RESYNC_SKIPPED, 'session', `input ended before a frame header was found again (${n} bytes skipped)`, this.cursor - this.resyncSkipped);
        }
      } else if (this.queue.length > 0 || this.skip > 0) {
        this.report(
          SPDY_ERROR.TRUNCATED_FRAME,
          'session',
          `input ended inside a frame (${this.pendingDescription()})`,
          this.cursor,
        );
      }
      this.cursor = this.received;
      this.queue.clear();
      this.rs = emptyResync();
      this.skip = 0;
    });
    return out;
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
    if (this.queue.length < FRAME_HEADER_LENGTH) return `${this.queue.length} of 8 header bytes`;
    const len = this.queue.uint32At(4) & 0xffffff;
    return `${this.queue.length - FRAME_HEADER_LENGTH} of ${len} body bytes`;
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
        p = n;
        this.resync();
        if (!this.resyncing) this.drainQueue();
        return;
      }
      if (this.queue.length > 0) {
        p = this.fillQueued(chunk, p);
        continue;
      }
      p = this.decodeInPlace(chunk, p);
      if (p < n && this.skip === 0) {
        // A partial frame: keep a view of it until the next chunk.
        this.queue.push(chunk.subarray(p));
        p = n;
      }
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
      if (len > maxLen) {
        const w0 = ((chunk[p]! << 24) | (chunk[p + 1]! << 16) | (chunk[p + 2]! << 8) | chunk[p + 3]!) >>> 0;
        this.cursor += FRAME_HEADER_LENGTH;
        this.frameTooLarge(w0, len);
        return p + FRAME_HEADER_LENGTH;
      }
      const end = p + FRAME_HEADER_LENGTH + len;
      if (end > n) return p;
      const offset = this.cursor;
      const b0 = chunk[p]!;
      const flags = chunk[p + 4]!;
      if (b0 < 0x80) {
        const streamId = (b0 << 24) | (chunk[p + 1]! << 16) | (chunk[p + 2]! << 8) | chunk[p + 3]!;
        this.out.push(decodeData(streamId, flags, chunk.subarray(p + FRAME_HEADER_LENGTH, end), offset, this.ctx));
      } else {
        const version = ((b0 & 0x7f) << 8) | chunk[p + 1]!;
        const type = (chunk[p + 2]! << 8) | chunk[p + 3]!;
        this.control(version, type, flags, chunk.subarray(p + FRAME_HEADER_LENGTH, end), offset);
      }
      this.cursor += FRAME_HEADER_LENGTH + len;
      p = end;
    }
    return p;
  }

  /** Move bytes of `chunk` into the queue until the queued frame completes; decode it. */
  private fillQueued(chunk: Uint8Array, p: number): number {
    const n = chunk.length;
    const q = this.queue;
    if (q.length < FRAME_HEADER_LENGTH) {
      const take = Math.min(FRAME_HEADER_LENGTH - q.length, n - p);
      q.push(chunk.subarray(p, p + take));
      p += take;
      if (q.length < FRAME_HEADER_LENGTH) return p;
      const len = q.uint32At(4) & 0xffffff;
      if (len > this.limits.maxFrameLength) {
        const w0 = q.uint32At(0);
        q.skip(FRAME_HEADER_LENGTH);
        this.cursor += FRAME_HEADER_LENGTH;
        this.frameTooLarge(w0, len);
        return p;
      }
    }
    const total = FRAME_HEADER_LENGTH + (q.uint32At(4) & 0xffffff);
    const take = Math.min(total - q.length, n - p);
    if (take > 0) q.push(chunk.subarray(p, p + take));
    p += take;
    if (q.length === total) this.decodeQueued();
    return p;
  }

  /** Decode every complete frame in the queue (after resynchronising). */
  private drainQueue(): void {
    const q = this.queue;
    while (q.length >= FRAME_HEADER_LENGTH && this.skip === 0) {
      const len = q.uint32At(4) & 0xffffff;
      if (len > this.limits.maxFrameLength) {
        const w0 = q.uint32At(0);
        q.skip(FRAME_HEADER_LENGTH);
        this.cursor += FRAME_HEADER_LENGTH;
        this.frameTooLarge(w0, len);
        const s = Math.min(this.skip, q.length);
        q.skip(s);
        this.skip -= s;
        this.cursor += s;
        continue;
      }
      if (q.length < FRAME_HEADER_LENGTH + len) return;
      this.decodeQueued();
    }
  }

  /** The queue starts with one complete frame (possibly more): decode the first. */
  private decodeQueued(): void {
    const q = this.queue;
    const w0 = q.uint32At(0);
    const w1 = q.uint32At(4);
    const len = w1 & 0xffffff;
    const flags = w1 >>> 24;
    const offset = this.cursor;
    q.skip(FRAME_HEADER_LENGTH);
    const body = q.take(len);
    this.cursor += FRAME_HEADER_LENGTH + len;
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
    const q = this.queue;
    if (!this.resyncing && q.length >= FRAME_HEADER_LENGTH) {
      const w0 = q.uint32At(0);
      const frameEnd = this.cursor + FRAME_HEADER_LENGTH + (q.uint32At(4) & 0xffffff);
      if (this.received <= frameEnd) {
        // We know where the next frame starts: drop this one and stay in step.
        const control = w0 >= 0x80000000;
        const lostHeaders = control && isHeaderCarrying(w0 & 0xffff);
        if (lostHeaders) this.headerContext.markUnknown();
        const frameOffset = this.cursor;
        this.cursor = this.received;
        this.skip = frameEnd - this.received;
        q.clear();
        this.report(
          SPDY_ERROR.GAP,
          control ? 'session' : 'stream',
          `${size} bytes lost inside ${control ? `a control frame of type ${w0 & 0xffff}` : 'a DATA frame'}, which is dropped` +
            (lostHeaders ? '; the header compression context is lost' : ''),
          frameOffset,
          control ? undefined : w0 & 0x7fffffff,
        );
        return;
      }
    }
    const dropped = q.length;
    q.clear();
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
   * Look for the next plausible frame header in the bytes after a gap. A
   * header is confirmed when the header its length points to is plausible
   * too. Where that header is not here yet, a control header (0x80 0x03, a
   * known type, flags and length that fit it) is taken on its own; a DATA
   * header is weak evidence, so the decoder keeps it pending and waits for
   * the bytes that confirm it (only for frames up to RESYNC_MAX_WAIT bytes),
   * while still taking a control header or a confirmed header found further
   * on. Each byte is examined a bounded number of times.
   */
  private resync(): void {
    const r = this.rs;
    const buf = r.buf;
    const end = r.length;
    const maxLen = this.limits.maxFrameLength;
    if (r.pending) {
      const next = r.start + FRAME_HEADER_LENGTH + plausibleFrameLength(buf, r.start, maxLen);
      if (next + FRAME_HEADER_LENGTH <= end) {
        if (plausibleFrameLength(buf, next, maxLen) >= 0) return this.resynced(r.start);
        r.pending = false;
        r.scan = r.start + 1; // positions passed over while it was pending are looked at again
      }
    }
    for (let i = Math.max(r.scan, r.start); i + FRAME_HEADER_LENGTH <= end; i++) {
      const len = plausibleFrameLength(buf, i, maxLen);
      if (len < 0) continue;
      const next = i + FRAME_HEADER_LENGTH + len;
      if (next + FRAME_HEADER_LENGTH <= end) {
        if (plausibleFrameLength(buf, next, maxLen) >= 0) return this.resynced(i);
        continue;
      }
      if (buf[i]! >= 0x80) return this.resynced(i);
      if (!r.pending && len <= RESYNC_MAX_WAIT) {
        this.dropResync(i - r.start);
        r.pending = true;
      }
    }
    r.scan = Math.max(r.start, end - (FRAME_HEADER_LENGTH - 1));
    // Without a pending candidate, only the last 7 bytes (a possible header start) are kept.
    if (!r.pending) this.dropResync(r.scan - r.start);
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
    this.queue.push(r.buf.slice(r.start, r.length));
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
  /** A DATA header at `start` waits for the bytes that confirm it. */
  pending: boolean;
}

function emptyResync(): ResyncState {
  return { buf: new Uint8Array(0), start: 0, length: 0, scan: 0, pending: false };
}
