/**
 * Frame encoder. Clients mask every frame with a fresh key (RFC 6455 §5.3);
 * the key source is injectable so that tests and golden vectors are
 * deterministic. Never fragments on its own: Kubernetes servers treat every
 * frame as a message (see websocket spec notes), so one call = one frame.
 */
import { randomFillSync } from 'node:crypto';
import { encodeClosePayload } from './close.js';
import { FIN_BIT, MASK_BIT, MAX_CONTROL_PAYLOAD, OPCODE, isControlOpcode } from './constants.js';
import { maskInto, maskRange } from './mask.js';

/** Returns a masking key: an unsigned 32-bit number, first wire byte most significant. */
export type MaskSource = () => number;

export interface WebSocketEncoderOptions {
  /** `client` masks every frame, `server` (default) never does. */
  role?: 'client' | 'server';
  /** Where client masking keys come from; default: the platform's CSPRNG. */
  maskSource?: MaskSource;
}

export interface FrameInput {
  opcode: number;
  /** Payload, or several pieces sent as one payload (e.g. a channel byte and data). */
  payload?: Uint8Array | readonly Uint8Array[];
  /** Default true. */
  fin?: boolean;
  /** RSV bits (RSV1 = 4). Default 0. */
  rsv?: number;
}

const SLAB_SIZE = 64 * 1024;
/** Payloads up to this size are copied and masked in one byte loop: no word view to allocate. */
const SHORT_MASK = 128;
const SLAB_MAX_PIECE = 4096;
const MASKED_SLAB_SIZE = 256 * 1024;
const MASKED_SLAB_MAX_PIECE = 64 * 1024;

export class WebSocketFrameEncoder {
  readonly masking: boolean;
  private readonly maskSource: MaskSource;
  private slabBuffer = new ArrayBuffer(0);
  private slab: Uint8Array = new Uint8Array(0);
  private slabWords: Uint32Array = new Uint32Array(0);
  private slabPos = 0;
  private maskedSlab: Buffer = Buffer.alloc(0);
  private maskedSlabPos = 0;

  constructor(opts: WebSocketEncoderOptions = {}) {
    this.masking = opts.role === 'client';
    this.maskSource = opts.maskSource ?? randomMaskSource();
  }

  /** One frame as one buffer (header and payload, masked if this side masks). */
  encode(frame: FrameInput): Uint8Array {
    return this.frame(frame.opcode, frame.payload, frame.fin ?? true, frame.rsv ?? 0);
  }

  /** `encode` without the input object: the hot path for senders. */
  frame(opcode: number, payload: FrameInput['payload'], fin = true, rsv = 0): Uint8Array {
    if (this.masking && payload instanceof Uint8Array && payload.length < 126 && opcode < 8 && (rsv >>> 0) <= 7) {
      return this.shortMasked(opcode, payload, fin, rsv);
    }
    let length: number;
    if (payload === undefined) length = 0;
    else if (payload instanceof Uint8Array) length = payload.length;
    else {
      length = 0;
      for (let i = 0; i < payload.length; i++) length += payload[i]!.length;
    }
    checkFrame(opcode, fin, rsv, length);
    const key = this.masking ? this.maskSource() >>> 0 : 0;
    const h = headerLength(length, this.masking);
    // A long masked payload goes into a Buffer the native helper writes
    // straight into (one pass, no wrappers).
    const out = key !== 0 && length > SHORT_MASK ? this.allocateMasked(h + length) : this.allocate(h + length);
    writeHeader(out, opcode, length, fin, rsv, this.masking, key);
    if (payload instanceof Uint8Array) {
      if (key !== 0 && length <= SHORT_MASK) {
        // Copy and mask in one pass; cheaper than memcpy + a second pass for short payloads.
        const k0 = key >>> 24;
        const k1 = (key >>> 16) & 0xff;
        const k2 = (key >>> 8) & 0xff;
        const k3 = key & 0xff;
        const end4 = length & ~3;
        let i = 0;
        for (; i < end4; i += 4) {
          out[h + i] = payload[i]! ^ k0;
          out[h + i + 1] = payload[i + 1]! ^ k1;
          out[h + i + 2] = payload[i + 2]! ^ k2;
          out[h + i + 3] = payload[i + 3]! ^ k3;
        }
        for (; i < length; i++) out[h + i] = payload[i]! ^ (key >>> (24 - 8 * (i & 3)));
        return out;
      }
      if (key !== 0) {
        maskInto(payload, out, h, key);
        return out;
      }
      out.set(payload, h);
    } else if (payload !== undefined) {
      let o = h;
      for (let i = 0; i < payload.length; i++) {
        out.set(payload[i]!, o);
        o += payload[i]!.length;
      }
    }
    if (key !== 0) maskRange(out, h, h + length, key);
    return out;
  }

  /**
   * The commonest client frame: a data frame under 126 bytes, header and
   * masked payload written in one pass. The piece is placed in the slab so
   * that its payload (after the 6 header bytes) is word aligned: the payload
   * is copied in, then XORed a 32-bit word at a time where it lies.
   */
  private shortMasked(opcode: number, payload: Uint8Array, fin: boolean, rsv: number): Uint8Array {
    const length = payload.length;
    const key = this.maskSource() >>> 0;
    const n = 6 + length;
    let pos = ((this.slabPos + 5) & ~3) - 2; // pos + 6 is a multiple of 4
    if (pos + n > this.slab.length) {
      this.slabBuffer = new ArrayBuffer(SLAB_SIZE);
      this.slab = new Uint8Array(this.slabBuffer);
      this.slabWords = new Uint32Array(this.slabBuffer);
      pos = 2;
    }
    this.slabPos = pos + n;
    const out = this.slab;
    out[pos] = (fin ? FIN_BIT : 0) | (rsv << 4) | opcode;
    out[pos + 1] = MASK_BIT | length;
    const k0 = key >>> 24;
    const k1 = (key >>> 16) & 0xff;
    const k2 = (key >>> 8) & 0xff;
    const k3 = key & 0xff;
    out[pos + 2] = k0;
    out[pos + 3] = k1;
    out[pos + 4] = k2;
    out[pos + 5] = k3;
    // memcpy, then XOR whole words in place: cheaper than assembling each
    // word from four byte loads.
    out.set(payload, pos + 6);
    let i = 0;
    if (LITTLE_ENDIAN) {
      const w = this.slabWords;
      const kw = k0 | (k1 << 8) | (k2 << 16) | (k3 << 24);
      const start = (pos + 6) >>> 2;
      const end = start + (length >>> 2);
      for (let wi = start; wi < end; wi++) w[wi]! ^= kw;
      i = length & ~3;
    }
    for (; i < length; i++) out[pos + 6 + i]! ^= (key >>> (24 - 8 * (i & 3))) & 0xff;
    // A constructed view: `subarray` looks up the species constructor first.
    return new Uint8Array(this.slabBuffer, pos, n);
  }

  /**
   * The frame as `[header, payload…]` for a gathered write. Unmasked
   * payloads are passed through without a copy (they must stay unchanged
   * until written); masked ones are copied, as masking must not touch the
   * caller's bytes. The header of a short unmasked frame is a shared
   * constant: write it, never modify it.
   */
  encodeParts(frame: FrameInput): Uint8Array[] {
    const opcode = frame.opcode;
    const payload = frame.payload;
    const fin = frame.fin ?? true;
    const rsv = frame.rsv ?? 0;
    if (this.masking) return [this.frame(opcode, payload, fin, rsv)];
    if (payload === undefined || payload instanceof Uint8Array) {
      const length = payload === undefined ? 0 : payload.length;
      checkFrame(opcode, fin, rsv, length);
      if (length < 126) {
        const header = shortHeader((fin ? FIN_BIT : 0) | (rsv << 4) | opcode, length);
        return length === 0 ? [header] : [header, payload as Uint8Array];
      }
      const header = this.allocate(headerLength(length, false));
      writeHeader(header, opcode, length, fin, rsv, false, 0);
      return length === 0 ? [header] : [header, payload as Uint8Array];
    }
    let length = 0;
    for (const p of payload) length += p.length;
    checkFrame(opcode, fin, rsv, length);
    const header = this.allocate(headerLength(length, false));
    writeHeader(header, opcode, length, fin, rsv, false, 0);
    const out = [header];
    for (const p of payload) if (p.length > 0) out.push(p);
    return out;
  }

  /** Just the header of a frame with this payload length (unmasked, or masked with `maskKey`). */
  encodeHeader(opcode: number, length: number, fin = true, maskKey?: number, rsv = 0): Uint8Array {
    checkFrame(opcode, fin, rsv, length);
    const masked = maskKey !== undefined;
    const out = new Uint8Array(headerLength(length, masked));
    writeHeader(out, opcode, length, fin, rsv, masked, masked ? maskKey >>> 0 : 0);
    return out;
  }

  binary(payload: Uint8Array | readonly Uint8Array[]): Uint8Array {
    return this.frame(OPCODE.BINARY, payload);
  }

  text(text: string | Uint8Array): Uint8Array {
    return this.frame(OPCODE.TEXT, typeof text === 'string' ? ENCODER.encode(text) : text);
  }

  /** A close frame; no code gives an empty payload. */
  close(code?: number, reason = ''): Uint8Array {
    return this.frame(OPCODE.CLOSE, encodeClosePayload(code, reason));
  }

  ping(payload: Uint8Array = EMPTY): Uint8Array {
    return this.frame(OPCODE.PING, payload);
  }

  pong(payload: Uint8Array = EMPTY): Uint8Array {
    return this.frame(OPCODE.PONG, payload);
  }

  /**
   * A Buffer for a long masked frame. Up to `MASKED_SLAB_MAX_PIECE` bytes it
   * is cut from a shared slab: one allocation per slab instead of one per
   * frame halves the cost of a 16 KiB frame. A frame kept alive keeps its
   * slab (at most `MASKED_SLAB_SIZE` bytes) alive with it.
   */
  private allocateMasked(n: number): Buffer {
    if (n > MASKED_SLAB_MAX_PIECE) return Buffer.allocUnsafe(n);
    if (this.maskedSlabPos + n > this.maskedSlab.length) {
      this.maskedSlab = Buffer.allocUnsafeSlow(MASKED_SLAB_SIZE);
      this.maskedSlabPos = 0;
    }
    const start = this.maskedSlabPos;
    this.maskedSlabPos = (start + n + 7) & ~7;
    return this.maskedSlab.subarray(start, start + n);
  }

  private allocate(n: number): Uint8Array {
    // Not zero-filled: callers write every byte (header, then payload).
    if (n > SLAB_MAX_PIECE) return new Uint8Array(Buffer.allocUnsafeSlow(n).buffer, 0, n);
    if (this.slabPos + n > this.slab.length) {
      this.slabBuffer = new ArrayBuffer(SLAB_SIZE);
      this.slab = new Uint8Array(this.slabBuffer);
      this.slabWords = new Uint32Array(this.slabBuffer);
      this.slabPos = 0;
    }
    const piece = this.slab.subarray(this.slabPos, this.slabPos + n);
    this.slabPos = (this.slabPos + n + 7) & ~7;
    return piece;
  }
}

const ENCODER = new TextEncoder();
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([0x01020304]).buffer)[0] === 0x04;

/**
 * Unmasked headers of frames under 126 bytes depend only on the first byte
 * and the length, so they are built once and shared: `encodeParts` returns
 * them as read-only constants (a gathered write only reads them).
 */
const SHORT_HEADERS: Array<Uint8Array | undefined> = new Array(256 * 126);

function shortHeader(b0: number, length: number): Uint8Array {
  const i = b0 * 126 + length;
  let h = SHORT_HEADERS[i];
  if (h === undefined) {
    h = new Uint8Array([b0, length]);
    SHORT_HEADERS[i] = h;
  }
  return h;
}
const EMPTY = new Uint8Array(0);

/** API misuse (not wire errors): throw plain RangeErrors. */
function checkFrame(opcode: number, fin: boolean, rsv: number, length: number): void {
  // One cheap test for the common case, the precise message when it fails.
  if ((opcode >>> 0) <= 15 && (rsv >>> 0) <= 7 && (opcode < 8 || (fin && length <= MAX_CONTROL_PAYLOAD)) && length <= Number.MAX_SAFE_INTEGER) {
    return;
  }
  if (!Number.isInteger(opcode) || opcode < 0 || opcode > 15) throw new RangeError(`opcode ${opcode} out of range`);
  if (isControlOpcode(opcode)) {
    if (length > MAX_CONTROL_PAYLOAD) throw new RangeError('control frame payload over 125 bytes');
    if (!fin) throw new RangeError('control frames cannot be fragmented');
  }
  if (!Number.isInteger(rsv) || rsv < 0 || rsv > 7) throw new RangeError(`rsv ${rsv} out of range`);
  throw new RangeError(`payload length ${length} out of range`);
}

export function headerLength(length: number, masked: boolean): number {
  return (length < 126 ? 2 : length < 0x10000 ? 4 : 10) + (masked ? 4 : 0);
}

function writeHeader(
  out: Uint8Array,
  opcode: number,
  length: number,
  fin: boolean,
  rsv: number,
  masked: boolean,
  key: number,
): number {
  out[0] = (fin ? FIN_BIT : 0) | (rsv << 4) | opcode;
  const m = masked ? MASK_BIT : 0;
  let o: number;
  if (length < 126) {
    out[1] = m | length;
    o = 2;
  } else if (length < 0x10000) {
    out[1] = m | 126;
    out[2] = length >>> 8;
    out[3] = length & 0xff;
    o = 4;
  } else {
    out[1] = m | 127;
    const hi = Math.floor(length / 0x100000000);
    const lo = length >>> 0;
    out[2] = hi >>> 24;
    out[3] = (hi >>> 16) & 0xff;
    out[4] = (hi >>> 8) & 0xff;
    out[5] = hi & 0xff;
    out[6] = lo >>> 24;
    out[7] = (lo >>> 16) & 0xff;
    out[8] = (lo >>> 8) & 0xff;
    out[9] = lo & 0xff;
    o = 10;
  }
  if (masked) {
    out[o] = key >>> 24;
    out[o + 1] = (key >>> 16) & 0xff;
    out[o + 2] = (key >>> 8) & 0xff;
    out[o + 3] = key & 0xff;
    o += 4;
  }
  return o;
}

/** Keys from the platform CSPRNG, drawn 1024 at a time. */
export function randomMaskSource(): MaskSource {
  const pool = new Uint32Array(1024);
  let next = pool.length;
  return () => {
    if (next === pool.length) {
      randomFillSync(pool);
      next = 0;
    }
    return pool[next++]!;
  };
}

/** A fixed key (tests, golden vectors). */
export function fixedMaskSource(key: number): MaskSource {
  return () => key >>> 0;
}
