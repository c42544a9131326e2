/**
 * Streaming RFC 6455 frame decoder: bytes in, frames out, any chunking.
 *
 * A small integer state machine (header / payload / skip / resync / failed)
 * over the pushed chunks. A frame that lies inside one chunk is decoded in
 * place: its payload is a view into the chunk (see `types.ts` for lifetimes
 * and what happens to masked payloads). Only a partial header (at most 14
 * bytes) or a payload split across chunks is copied, so the decoder never
 * holds on to the caller's chunks after `push` returns.
 *
 * Frames are delivered one by one, fragments included; joining fragments
 * into messages is `MessageAssembler`'s job, so a capture inspector can show
 * both the frame view (what x/net/websocket, the Kubernetes server, acts on)
 * and the message view.
 */
import { KubewireError } from '../common/errors.js';
import type { Direction, ErrorMode, ErrorScope } from '../common/errors.js';
import { parseClosePayload } from './close.js';
import {
  FIN_BIT,
  LENGTH16_MARKER,
  LENGTH64_MARKER,
  MASK_BIT,
  MAX_CONTROL_PAYLOAD,
  frameKindOf,
} from './constants.js';
import { maskInPlace, maskRange, readKey } from './mask.js';
import type { WebSocketCloseFrame, WebSocketFrame, WebSocketFrameEvent } from './types.js';

export interface WebSocketDecoderOptions {
  /** strict (default): throw the first wire error. inspect: report it as a diagnostic and carry on. */
  mode?: ErrorMode;
  /**
   * Which way the bytes travel; stamped on errors. When set, the masking rule
   * of RFC 6455 §5.1 is checked (client frames masked, server frames not)
   * unless `enforceMasking` is false.
   */
  direction?: Direction;
  enforceMasking?: boolean;
  /** RSV bits an extension gave meaning to (RSV1 = 4, RSV2 = 2, RSV3 = 1); default none. */
  allowedRsv?: number;
  /** Largest frame payload accepted, checked on the header before anything is buffered. Default 64 MiB. */
  maxPayload?: number;
  /**
   * Where a masked payload that lies inside one chunk is unmasked: `copy`
   * (default) into a fresh buffer, leaving the input untouched; `in-place` in
   * the caller's chunk (no allocation, but the chunk no longer holds the
   * wire bytes).
   */
  unmask?: 'copy' | 'in-place';
  /**
   * Take the first payload byte of every frame apart (`frame.prefix`) and
   * leave the rest as `payload`, without a second view: a one-byte channel
   * prefix (Kubernetes channel protocols) demultiplexes for free. Per frame,
   * so use it where frames are messages (x/net peers never fragment).
   * With `unmask: 'in-place'` the split-off byte is unmasked in `prefix`
   * only; the chunk keeps it masked.
   */
  splitFirstByte?: boolean;
  /** Absolute offset of the first byte pushed (default 0). */
  baseOffset?: number;
  /** Connection number stamped on errors. */
  connection?: number;
}

export const DEFAULT_MAX_PAYLOAD = 64 * 1024 * 1024;

const enum State {
  HEADER,
  PAYLOAD,
  SKIP,
  RESYNC,
  FAILED,
}

const MAX_HEADER = 14;
/** Payloads up to this size are copied and masked in one byte loop: no word view to allocate. */
const SHORT_MASK = 128;
/** Above this size a payload split across chunks is buffered in growing steps, not allocated up front. */
const EAGER_ALLOCATION = 1 << 20;
/** Fresh buffers for small unmasked payloads are cut from slabs of this size. */
const SLAB_SIZE = 64 * 1024;
const SLAB_MAX_PIECE = 4096;
/** Whole frames that must follow each other before a header found after a gap is believed. */
const RESYNC_CHAIN = 4;
/** Frames (empty ones included) a chain may take to reach RESYNC_CHAIN non-empty ones. */
const RESYNC_CHAIN_MAX_FRAMES = 32;
/** Frames after a resynchronisation during which a bad header means it was false. */
const RESYNC_PROBATION = 16;
/** Frames longer than this are not used to resynchronise (Kubernetes peers write at most 32 KiB + 1 per frame). */
const RESYNC_MAX_FRAME = 1 << 20;
/** Bytes after a candidate header beyond which it is given up as unconfirmable. */
const RESYNC_WINDOW = (RESYNC_CHAIN + 1) * RESYNC_MAX_FRAME;
const CHAIN_NO = 0;
const CHAIN_MORE = 1;
const CHAIN_YES = 2;
const CLOSE_OPCODE = 0x8;

export class WebSocketFrameDecoder {
  private readonly strict: boolean;
  private readonly direction: Direction | undefined;
  private readonly connection: number | undefined;
  private readonly requireMask: number; // -1 = any, 0 = must not be masked, 1 = must be masked
  private readonly allowedRsv: number;
  private readonly maxPayload: number;
  private readonly inPlace: boolean;
  private readonly split: number;

  private state = State.HEADER;
  private failure: KubewireError | null = null;
  /** Absolute offset of the next byte to be pushed. */
  private streamOffset: number;

  // Partial header bytes carried across chunks.
  private readonly stash = new Uint8Array(MAX_HEADER);
  private stashLength = 0;

  // The header being decoded (fields, not an object, to keep the hot loop allocation-free).
  private hB0 = 0;
  private hB1 = 0;
  private hLength = 0;
  private hHeaderLength = 0;
  private hKey = 0;
  private hOffset = 0;

  // A payload split across chunks.
  private dest: Uint8Array = EMPTY;
  private filled = 0;
  private skipRemaining = 0;

  private slab: Uint8Array = EMPTY;
  private slabPos = 0;

  // Bytes held while looking for a frame header after a gap.
  private resyncBuf: Uint8Array = EMPTY;
  private resyncLength = 0;
  private resyncScan = 0;
  /** Absolute offset of resyncBuf[0]. */
  private resyncBase = 0;
  /** Absolute offset where skipping began (-1: nothing skipped yet). */
  private resyncSkipFrom = -1;
  private resyncFoundAt = 0;
  /** Frames left during which a bad header sends us back to resynchronising. */
  private probation = 0;

  constructor(opts: WebSocketDecoderOptions = {}) {
    this.strict = (opts.mode ?? 'strict') === 'strict';
    this.direction = opts.direction;
    this.connection = opts.connection;
    const enforce = opts.enforceMasking ?? opts.direction !== undefined;
    this.requireMask = !enforce || opts.direction === undefined ? -1 : opts.direction === 'clientToServer' ? 1 : 0;
    this.allowedRsv = (opts.allowedRsv ?? 0) & 7;
    this.maxPayload = Math.min(opts.maxPayload ?? DEFAULT_MAX_PAYLOAD, Number.MAX_SAFE_INTEGER);
    this.inPlace = opts.unmask === 'in-place';
    this.split = opts.splitFirstByte ? 1 : 0;
    this.streamOffset = opts.baseOffset ?? 0;
  }

  /** Absolute offset of the next byte expected. */
  get offset(): number {
    return this.streamOffset;
  }

  /** True when no partial frame is buffered. */
  get idle(): boolean {
    return this.state === State.HEADER && this.stashLength === 0;
  }

  /**
   * The incomplete frame held at this point, if any: where it starts, its
   * first byte (FIN, RSV, opcode) and what else of its header arrived (a
   * copy), how many of its bytes arrived and how many it needs (null while
   * its length is not known). Null when nothing is held, or while looking
   * for a frame header after a gap. Lets a caller tell what an end of input
   * cut (a closing close frame, say) before calling `end()`.
   */
  pendingFrame(): { offset: number; header: Uint8Array; have: number; need: number | null } | null {
    if (this.failure) return null;
    if (this.state === State.HEADER && this.stashLength > 0) {
      return { offset: this.streamOffset - this.stashLength, header: this.stash.slice(0, this.stashLength), have: this.stashLength, need: null };
    }
    if (this.state === State.PAYLOAD) {
      return {
        offset: this.hOffset,
        header: Uint8Array.of(this.hB0, this.hB1),
        have: this.hHeaderLength + this.filled,
        need: this.hHeaderLength + this.hLength,
      };
    }
    return null;
  }

  /** Every frame completed by this chunk, in order; `[]` means "need more". */
  push(chunk: Uint8Array): WebSocketFrameEvent[] {
    if (this.failure) {
      if (this.strict) throw this.failure;
      this.streamOffset += chunk.length;
      return [];
    }
    const out: WebSocketFrameEvent[] = [];
    const base = this.streamOffset;
    this.streamOffset += chunk.length;
    this.decodeChunk(chunk, base, out);
    return out;
  }

  private decodeChunk(chunk: Uint8Array, base: number, out: WebSocketFrameEvent[]): void {
    let len = chunk.length;
    let pos = 0;

    // Finish whatever the previous chunk left open.
    switch (this.state) {
      case State.HEADER:
        if (this.stashLength > 0) {
          pos = this.resumeHeader(chunk, base, out);
          if (pos < 0) return;
        }
        break;
      case State.PAYLOAD:
        pos = this.resumePayload(chunk, out);
        break;
      case State.SKIP: {
        const n = Math.min(this.skipRemaining, len);
        this.skipRemaining -= n;
        pos = n;
        if (this.skipRemaining === 0) this.state = State.HEADER;
        break;
      }
      case State.RESYNC:
        break;
      case State.FAILED:
        return;
      default: {
        const never: never = this.state;
        throw new Error(`bad state ${String(never)}`);
      }
    }

    for (;;) {
      while (pos < len && this.state === State.HEADER) {
        const h = this.parseHeader(chunk, pos, len - pos);
        if (h === 0) {
          this.stash.set(chunk.subarray(pos, len));
          this.stashLength = len - pos;
          return;
        }
        pos = this.afterHeader(chunk, pos + h, base + pos, out);
      }
      if (pos < len && this.state === State.RESYNC) {
        // A loop, not recursion: one chunk may need many resynchronisations.
        const found = this.resync(chunk.subarray(pos), base + pos, out, false);
        if (found === null) return;
        chunk = found;
        base = this.resyncFoundAt;
        len = chunk.length;
        pos = 0;
        continue;
      }
      return;
    }
  }

  /**
   * `size` bytes of the stream were lost (capture gap). A gap inside a
   * payload of known length drops that frame and keeps the framing; a gap
   * anywhere else loses the framing, and the decoder looks for a plausible
   * frame header in the bytes that follow.
   */
  gap(size: number): WebSocketFrameEvent[] {
    const out: WebSocketFrameEvent[] = [];
    if (size <= 0 || this.state === State.FAILED || this.failure) {
      this.streamOffset += Math.max(0, size);
      return out;
    }
    const at = this.streamOffset;
    this.streamOffset += size;
    let remaining: number;
    if (this.state === State.PAYLOAD) remaining = this.hLength - this.filled;
    else if (this.state === State.SKIP) remaining = this.skipRemaining;
    else remaining = -1;
    this.dest = EMPTY;
    this.stashLength = 0;
    if (remaining >= 0 && size <= remaining) {
      this.diagnose(out, 'WEBSOCKET_GAP', 'message', `${size} bytes lost inside a frame payload; frame dropped`, at);
      this.skipRemaining = remaining - size;
      this.state = this.skipRemaining > 0 ? State.SKIP : State.HEADER;
      return out;
    }
    this.diagnose(out, 'WEBSOCKET_GAP', 'connection', `${size} bytes lost; looking for the next frame header`, at);
    // Bytes held while looking for a header end where the new loss begins.
    this.resyncBuf = EMPTY;
    this.resyncLength = 0;
    this.resyncScan = 0;
    this.probation = 0;
    this.state = State.RESYNC;
    return out;
  }

  /** End of input: reports a frame cut short. */
  end(): WebSocketFrameEvent[] {
    const out: WebSocketFrameEvent[] = [];
    if (this.state === State.RESYNC && !this.failure) {
      // At the end a chain of whole frames that reaches the last byte is proof enough.
      const found = this.resync(EMPTY, this.streamOffset, out, true);
      if (found !== null) this.decodeChunk(found, this.resyncFoundAt, out);
    }
    const partial =
      (this.state === State.HEADER && this.stashLength > 0) || this.state === State.PAYLOAD || this.state === State.SKIP;
    if (partial && !this.failure) {
      const at = this.state === State.HEADER ? this.streamOffset - this.stashLength : this.hOffset;
      this.fail(out, 'WEBSOCKET_TRUNCATED_FRAME', 'connection', 'input ended inside a frame', at, false);
    }
    this.stashLength = 0;
    this.dest = EMPTY;
    if (this.state !== State.FAILED) this.state = State.HEADER;
    return out;
  }

  // --- header -------------------------------------------------------------

  /** Decode the header at `pos` into the h* fields; 0 when incomplete, else its length. */
  private parseHeader(buf: Uint8Array, pos: number, avail: number): number {
    if (avail < 2) return 0;
    const b1 = buf[pos + 1]!;
    let length = b1 & 0x7f;
    let h = 2;
    if (length === LENGTH16_MARKER) {
      if (avail < 4) return 0;
      length = (buf[pos + 2]! << 8) | buf[pos + 3]!;
      h = 4;
    } else if (length === LENGTH64_MARKER) {
      if (avail < 10) return 0;
      const hi = readKey(buf, pos + 2);
      const lo = readKey(buf, pos + 6);
      // Lengths beyond 2^53 lose precision; they fail the limit check anyway.
      length = hi * 0x100000000 + lo;
      h = 10;
    }
    if ((b1 & MASK_BIT) !== 0) {
      if (avail < h + 4) return 0;
      this.hKey = readKey(buf, pos + h);
      h += 4;
    } else {
      this.hKey = 0;
    }
    this.hB0 = buf[pos]!;
    this.hB1 = b1;
    this.hLength = length;
    this.hHeaderLength = h;
    return h;
  }

  private resumeHeader(chunk: Uint8Array, base: number, out: WebSocketFrameEvent[]): number {
    const have = this.stashLength;
    const take = Math.min(MAX_HEADER - have, chunk.length);
    this.stash.set(chunk.subarray(0, take), have);
    const h = this.parseHeader(this.stash, 0, have + take);
    if (h === 0) {
      this.stashLength = have + take;
      return -1;
    }
    this.stashLength = 0;
    return this.afterHeader(chunk, h - have, base - have, out);
  }

  /**
   * The header (in h*) is complete and the payload starts at `p0` in
   * `chunk`. Validate, then deliver the frame or start buffering it.
   * Returns the position after what was consumed.
   */
  private afterHeader(chunk: Uint8Array, p0: number, frameOffset: number, out: WebSocketFrameEvent[]): number {
    this.hOffset = frameOffset;
    const b0 = this.hB0;
    const opcode = b0 & 0x0f;
    const length = this.hLength;
    // Common case first: a known opcode, no stray RSV bits, a legal length
    // in its minimal encoding, the masking the direction requires.
    const len7 = this.hB1 & 0x7f;
    const ok =
      ((b0 >> 4) & 7 & ~this.allowedRsv) === 0 &&
      (opcode <= 2 || (opcode >= 8 && opcode <= 10 && (b0 & FIN_BIT) !== 0 && length <= MAX_CONTROL_PAYLOAD)) &&
      (len7 < LENGTH16_MARKER || (len7 === LENGTH16_MARKER ? length >= 126 : length >= 0x10000)) &&
      length <= this.maxPayload &&
      (this.requireMask < 0 || (this.hB1 >> 7) === this.requireMask);
    if (this.probation > 0) {
      if (!ok) {
        // Right after a resynchronisation a bad header means the header we
        // settled on was payload after all: look again rather than follow it.
        this.probation = 0;
        this.diagnose(out, 'WEBSOCKET_RESYNC', 'connection', 'the frame found after the gap was not one; looking again', frameOffset);
        this.state = State.RESYNC;
        return p0;
      }
      this.probation--;
    }
    if (!ok && !this.validateSlow(out)) {
      if (this.state === State.RESYNC) return p0;
      // Payload too large: skip it without buffering.
      const avail = chunk.length - p0;
      if (avail >= length) return p0 + length;
      this.skipRemaining = length - avail;
      this.state = State.SKIP;
      return chunk.length;
    }
    const avail = chunk.length - p0;
    if (avail >= length) {
      const key = this.hKey;
      let prefix = -1;
      let start = p0;
      if (this.split !== 0 && length > 0) {
        prefix = chunk[p0]! ^ (key >>> 24);
        start = p0 + 1;
      }
      const end = p0 + length;
      let payload: Uint8Array;
      if (key === 0) {
        payload = chunk.subarray(start, end);
      } else if (this.inPlace) {
        maskRange(chunk, start, end, key, start - p0);
        payload = chunk.subarray(start, end);
      } else {
        payload = this.allocate(end - start);
        // Copy and unmask in one pass for short payloads; memcpy then words for long ones.
        if (end - start <= SHORT_MASK) {
          copyUnmaskShort(chunk, start, end, payload, key, start - p0);
        } else {
          payload.set(chunk.subarray(start, end));
          maskRange(payload, 0, end - start, key, start - p0);
        }
      }
      this.emit(out, payload, prefix);
      return end;
    }
    this.dest = new Uint8Array(length <= EAGER_ALLOCATION ? length : Math.min(length, Math.max(EAGER_ALLOCATION, avail * 2)));
    this.dest.set(chunk.subarray(p0));
    this.filled = avail;
    this.state = State.PAYLOAD;
    return chunk.length;
  }

  /**
   * The full set of header checks, with the spec rule each enforces.
   * Returns true when the frame should be delivered, false when it is to be
   * skipped (payload too large) or the decoder failed.
   */
  private validateSlow(out: WebSocketFrameEvent[]): boolean {
    const at = this.hOffset;
    const b0 = this.hB0;
    const opcode = b0 & 0x0f;
    const length = this.hLength;
    const len7 = this.hB1 & 0x7f;
    // §5.2: "MUST be 0 unless an extension is negotiated that defines meanings for non-zero values".
    const rsv = (b0 >> 4) & 7;
    if ((rsv & ~this.allowedRsv) !== 0) {
      if (!this.fail(out, 'WEBSOCKET_RSV_BITS', 'connection', `reserved bits 0x${(rsv << 4).toString(16)} set without an extension`, at, true)) return false;
    }
    // §5.2: "If an unknown opcode is received, the receiving endpoint MUST _Fail the WebSocket Connection_".
    if ((opcode > 2 && opcode < 8) || opcode > 10) {
      if (!this.fail(out, 'WEBSOCKET_RESERVED_OPCODE', 'connection', `reserved opcode 0x${opcode.toString(16)}`, at, true)) return false;
    }
    if (opcode >= 8) {
      // §5.5: "All control frames MUST have a payload length of 125 bytes or less and MUST NOT be fragmented."
      if ((b0 & FIN_BIT) === 0) {
        if (!this.fail(out, 'WEBSOCKET_FRAGMENTED_CONTROL_FRAME', 'connection', 'control frame without FIN', at, true)) return false;
      }
      if (length > MAX_CONTROL_PAYLOAD) {
        if (!this.fail(out, 'WEBSOCKET_CONTROL_FRAME_TOO_LARGE', 'connection', `control frame payload of ${length} bytes (max 125)`, at, true)) return false;
      }
    }
    // §5.2: "the most significant bit MUST be 0" for the 64-bit length.
    if (len7 === LENGTH64_MARKER && length >= 2 ** 63) {
      this.fail(out, 'WEBSOCKET_LENGTH_OVERFLOW', 'connection', '64-bit payload length with its top bit set', at, false);
      this.state = State.RESYNC;
      return false;
    }
    // §5.2: "the minimal number of bytes MUST be used to encode the length".
    if ((len7 === LENGTH16_MARKER && length < 126) || (len7 === LENGTH64_MARKER && length < 0x10000)) {
      if (!this.fail(out, 'WEBSOCKET_NON_MINIMAL_LENGTH', 'connection', `length ${length} not in its minimal encoding`, at, true)) return false;
    }
    if (length > this.maxPayload) {
      if (length > Number.MAX_SAFE_INTEGER) {
        this.fail(out, 'WEBSOCKET_PAYLOAD_TOO_LARGE', 'connection', `payload length ${length} cannot be skipped`, at, false);
        this.state = State.RESYNC;
        return false;
      }
      this.fail(out, 'WEBSOCKET_PAYLOAD_TOO_LARGE', 'connection', `payload of ${length} bytes exceeds the limit of ${this.maxPayload}`, at, true);
      return false;
    }
    // §5.1: clients mask every frame, servers never do.
    if (this.requireMask >= 0 && this.hB1 >> 7 !== this.requireMask) {
      const code = this.requireMask === 1 ? 'WEBSOCKET_UNMASKED_CLIENT_FRAME' : 'WEBSOCKET_MASKED_SERVER_FRAME';
      const text = this.requireMask === 1 ? 'client frame not masked' : 'server frame masked';
      if (!this.fail(out, code, 'connection', text, at, true)) return false;
    }
    return true;
  }

  // --- payload ------------------------------------------------------------

  private resumePayload(chunk: Uint8Array, out: WebSocketFrameEvent[]): number {
    const need = this.hLength - this.filled;
    const n = Math.min(need, chunk.length);
    if (this.filled + n > this.dest.length) {
      const grown = new Uint8Array(Math.min(this.hLength, Math.max(this.dest.length * 2, this.filled + n)));
      grown.set(this.dest.subarray(0, this.filled));
      this.dest = grown;
    }
    this.dest.set(n === chunk.length ? chunk : chunk.subarray(0, n), this.filled);
    this.filled += n;
    if (this.filled < this.hLength) return chunk.length;
    let payload = this.dest.length === this.hLength ? this.dest : this.dest.subarray(0, this.hLength);
    this.dest = EMPTY;
    this.state = State.HEADER;
    // A fresh buffer: always safe to unmask where it lies.
    if (this.hKey !== 0) maskInPlace(payload, this.hKey);
    let prefix = -1;
    if (this.split !== 0 && payload.length > 0) {
      prefix = payload[0]!;
      payload = payload.subarray(1);
    }
    this.emit(out, payload, prefix);
    return n;
  }

  private emit(out: WebSocketFrameEvent[], payload: Uint8Array, prefix: number): void {
    const b0 = this.hB0;
    const opcode = b0 & 0x0f;
    const kind = frameKindOf(opcode);
    if (kind === 'close') {
      // Control frames are never split: their payload has its own format.
      if (prefix >= 0) payload = new Uint8Array([prefix, ...payload]);
      out.push(this.closeFrame(out, payload));
      return;
    }
    if (prefix >= 0 && kind !== 'text' && kind !== 'binary' && kind !== 'continuation') {
      const whole = new Uint8Array(payload.length + 1);
      whole[0] = prefix;
      whole.set(payload, 1);
      payload = whole;
      prefix = -1;
    }
    out.push({
      kind,
      opcode,
      fin: (b0 & FIN_BIT) !== 0,
      rsv: (b0 >> 4) & 7,
      masked: (this.hB1 & MASK_BIT) !== 0,
      maskKey: this.hKey,
      payload,
      prefix,
      offset: this.hOffset,
      headerLength: this.hHeaderLength,
    } as WebSocketFrame);
  }

  private closeFrame(out: WebSocketFrameEvent[], payload: Uint8Array): WebSocketCloseFrame {
    const parsed = parseClosePayload(payload);
    const at = this.hOffset;
    switch (parsed.problem) {
      case null:
        break;
      case 'short':
        // §5.5.1: a body, if present, starts with a 2-byte status code.
        this.fail(out, 'WEBSOCKET_CLOSE_PAYLOAD_SHORT', 'connection', 'close payload of 1 byte', at, true);
        break;
      case 'invalid-code':
        // §7.4: 1004–1006, 1015 and unregistered codes below 3000 never appear on the wire.
        this.fail(out, 'WEBSOCKET_CLOSE_CODE_INVALID', 'connection', `close code ${parsed.code} may not be sent`, at, true);
        break;
      case 'invalid-utf8':
        this.fail(out, 'WEBSOCKET_INVALID_UTF8', 'connection', 'close reason is not valid UTF-8', at, true);
        break;
      default: {
        const never: never = parsed.problem;
        throw new Error(`bad close problem ${String(never)}`);
      }
    }
    return {
      kind: 'close',
      opcode: this.hB0 & 0x0f,
      fin: (this.hB0 & FIN_BIT) !== 0,
      rsv: (this.hB0 >> 4) & 7,
      masked: (this.hB1 & MASK_BIT) !== 0,
      maskKey: this.hKey,
      payload,
      prefix: -1,
      offset: at,
      headerLength: this.hHeaderLength,
      code: parsed.code,
      reason: parsed.reason,
    };
  }

  /** A fresh buffer for an unmasked copy; small ones share a slab (which stays alive while any of them does). */
  private allocate(n: number): Uint8Array {
    // Not zero-filled: every byte is written right away (copy, then unmask).
    if (n > SLAB_MAX_PIECE) return new Uint8Array(Buffer.allocUnsafeSlow(n).buffer, 0, n);
    if (this.slabPos + n > this.slab.length) {
      this.slab = new Uint8Array(SLAB_SIZE);
      this.slabPos = 0;
    }
    const piece = this.slab.subarray(this.slabPos, this.slabPos + n);
    // Keep every piece 8-byte aligned so word-wise unmasking needs no head loop.
    this.slabPos = (this.slabPos + n + 7) & ~7;
    return piece;
  }

  // --- resynchronisation after a gap ---------------------------------------

  /**
   * After a gap the framing is lost, and a random payload byte looks like a
   * frame header about once in forty. So a candidate header counts only when
   * RESYNC_CHAIN whole frames follow each other from it, each header valid
   * for this direction (or, at the end of input, when whole frames reach the
   * last byte). Until then the bytes are held (a copy: rare, and bounded by
   * RESYNC_WINDOW). Returns the bytes from the frame found, whose absolute
   * offset is left in `resyncFoundAt`, or null when more input is needed.
   */
  private resync(bytes: Uint8Array, at: number, out: WebSocketFrameEvent[], atEnd: boolean): Uint8Array | null {
    if (this.resyncLength === 0) {
      this.resyncBase = at;
      this.resyncScan = 0;
    }
    this.holdForResync(bytes);
    const buf = this.resyncBuf;
    const len = this.resyncLength;
    let i = this.resyncScan;
    for (; i + 2 <= len; i++) {
      const v = this.chainAt(buf, i, len, atEnd);
      if (v === CHAIN_NO) continue;
      if (v === CHAIN_MORE) {
        if (len - i >= RESYNC_WINDOW) continue; // cannot be confirmed within the window
        break;
      }
      const skipped = this.resyncBase + i - this.resyncSkipFrom;
      if (skipped > 0) this.diagnose(out, 'WEBSOCKET_RESYNC', 'connection', `skipped ${skipped} bytes to the next frame header`, this.resyncSkipFrom);
      this.resyncFoundAt = this.resyncBase + i;
      const found = buf.subarray(i, len);
      this.resyncBuf = EMPTY;
      this.resyncLength = 0;
      this.resyncScan = 0;
      this.resyncSkipFrom = -1;
      this.state = State.HEADER;
      this.probation = RESYNC_PROBATION;
      return found;
    }
    if (this.resyncSkipFrom < 0) this.resyncSkipFrom = this.resyncBase;
    if (atEnd) {
      const skipped = this.resyncBase + len - this.resyncSkipFrom;
      if (skipped > 0) this.diagnose(out, 'WEBSOCKET_RESYNC', 'connection', `input ended after ${skipped} bytes with no frame header found`, this.resyncSkipFrom);
      this.resyncBuf = EMPTY;
      this.resyncLength = 0;
      this.resyncSkipFrom = -1;
      return null;
    }
    // Forget what has been ruled out, so the held bytes stay bounded.
    const scanFrom = Math.min(i, Math.max(0, len - 1));
    if (scanFrom > 0) {
      buf.copyWithin(0, scanFrom, len);
      this.resyncLength = len - scanFrom;
      this.resyncBase += scanFrom;
    }
    this.resyncScan = 0;
    return null;
  }

  private holdForResync(bytes: Uint8Array): void {
    const need = this.resyncLength + bytes.length;
    if (need > this.resyncBuf.length) {
      const grown = new Uint8Array(Math.max(need, this.resyncBuf.length * 2, 4096));
      grown.set(this.resyncBuf.subarray(0, this.resyncLength));
      this.resyncBuf = grown;
    }
    this.resyncBuf.set(bytes, this.resyncLength);
    this.resyncLength = need;
  }

  /** Is there a chain of valid whole frames at `i`? CHAIN_NO, CHAIN_MORE (undecided yet) or CHAIN_YES. */
  private chainAt(buf: Uint8Array, i: number, len: number, atEnd: boolean): number {
    const saved = [this.hB0, this.hB1, this.hLength, this.hHeaderLength, this.hKey] as const;
    try {
      let p = i;
      // Empty frames are two bytes any payload can hold, and runs of small
      // non-final frames are what zero-rich payloads look like: such frames
      // may sit in a chain but do not count towards it, and cannot start one.
      let counted = 0;
      for (let k = 0; counted < RESYNC_CHAIN; k++) {
        if (atEnd && p === len && counted > 0) return CHAIN_YES;
        if (k >= RESYNC_CHAIN_MAX_FRAMES) return CHAIN_NO;
        const h = this.parseHeader(buf, p, len - p);
        if (h === 0) return atEnd ? CHAIN_NO : CHAIN_MORE;
        if (!this.headerLooksValid() || this.hLength > RESYNC_MAX_FRAME) return CHAIN_NO;
        // A continuation cannot start what we deliver: its message began before the loss.
        const strong = this.hLength > 0 && (this.hB0 & FIN_BIT) !== 0;
        if (k === 0 && ((this.hB0 & 0x0f) === 0 || !strong)) return CHAIN_NO;
        if (strong) counted++;
        p += h + this.hLength;
        if (p > len) return atEnd ? CHAIN_NO : CHAIN_MORE;
        // Nothing follows a Close in its direction: only the end of input may.
        if ((this.hB0 & 0x0f) === CLOSE_OPCODE) return p === len ? (atEnd ? CHAIN_YES : CHAIN_MORE) : CHAIN_NO;
      }
      return CHAIN_YES;
    } finally {
      [this.hB0, this.hB1, this.hLength, this.hHeaderLength, this.hKey] = saved;
    }
  }

  private headerLooksValid(): boolean {
    const b0 = this.hB0;
    const opcode = b0 & 0x0f;
    const len7 = this.hB1 & 0x7f;
    const length = this.hLength;
    if (((b0 >> 4) & 7 & ~this.allowedRsv) !== 0) return false;
    if (!(opcode <= 2 || (opcode >= 8 && opcode <= 10))) return false;
    if (opcode >= 8 && ((b0 & FIN_BIT) === 0 || length > MAX_CONTROL_PAYLOAD)) return false;
    if ((len7 === LENGTH16_MARKER && length < 126) || (len7 === LENGTH64_MARKER && length < 0x10000)) return false;
    if (length > this.maxPayload) return false;
    if (this.direction !== undefined && this.hB1 >> 7 !== (this.direction === 'clientToServer' ? 1 : 0)) return false;
    return true;
  }

  // --- errors -------------------------------------------------------------

  /**
   * Report a wire error. Strict mode throws (and the decoder stays failed);
   * inspect mode records a diagnostic. Returns true when decoding of this
   * frame may go on (`recoverable` and inspect mode).
   */
  private fail(
    out: WebSocketFrameEvent[],
    code: string,
    scope: ErrorScope,
    message: string,
    offset: number,
    recoverable: boolean,
  ): boolean {
    const error = this.error(code, scope, message, offset);
    if (this.strict) {
      this.failure = error;
      this.state = State.FAILED;
      throw error;
    }
    out.push({ kind: 'diagnostic', error });
    return recoverable;
  }

  /** A diagnostic that is not a protocol violation (gaps); never throws. */
  private diagnose(out: WebSocketFrameEvent[], code: string, scope: ErrorScope, message: string, offset: number): void {
    out.push({ kind: 'diagnostic', error: this.error(code, scope, message, offset) });
  }

  private error(code: string, scope: ErrorScope, message: string, offset: number): KubewireError {
    return new KubewireError('websocket', code, scope, message, {
      offset,
      direction: this.direction,
      connection: this.connection,
    });
  }
}

const EMPTY = new Uint8Array(0);

/** `dst[0…] = src[start, end) ^ key`, with src[start] at key phase `phase`; for short payloads. */
function copyUnmaskShort(src: Uint8Array, start: number, end: number, dst: Uint8Array, key: number, phase: number): void {
  const rot = ((phase & 3) * 8) | 0;
  // Rotate the key so its top byte applies to src[start].
  const k = rot === 0 ? key : ((key << rot) | (key >>> (32 - rot))) >>> 0;
  const k0 = k >>> 24;
  const k1 = (k >>> 16) & 0xff;
  const k2 = (k >>> 8) & 0xff;
  const k3 = k & 0xff;
  const n = end - start;
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    dst[i] = src[start + i]! ^ k0;
    dst[i + 1] = src[start + i + 1]! ^ k1;
    dst[i + 2] = src[start + i + 2]! ^ k2;
    dst[i + 3] = src[start + i + 3]! ^ k3;
  }
  for (; i < n; i++) dst[i] = src[start + i]! ^ (k >>> (24 - 8 * (i & 3)));
}
