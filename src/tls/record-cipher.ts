/**
 * Opening one protected record.
 *
 * TLS 1.3 (RFC 8446 §5.2, §5.3): nonce = iv XOR the 64-bit sequence number
 * (left-padded to 12 bytes); additional data = the 5-byte record header; the
 * plaintext is content ‖ content type ‖ zero padding.
 *
 * TLS 1.2 AES-GCM (RFC 5288 §3): nonce = 4-byte salt from the key block ‖
 * 8-byte explicit nonce that starts the record. ChaCha20-Poly1305 (RFC 7905
 * §2): nonce = 12-byte IV XOR sequence number, no explicit part. Additional
 * data (RFC 5246 §6.2.3.3) = seq_num ‖ type ‖ version ‖ plaintext length.
 */
import { createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import type { AeadSuite } from './suites.js';
import type { TrafficKeys } from './key-schedule.js';

const TAG = 16;

export interface OpenedRecord {
  /** Content type (TLS 1.3: the inner one). */
  type: number;
  plaintext: Uint8Array;
}

export class RecordCipher {
  /** Sequence number of the next record. */
  seq = 0;

  constructor(
    readonly suite: AeadSuite,
    private readonly keys: TrafficKeys,
    readonly tls13: boolean,
  ) {}

  /**
   * Open a record protected with sequence number `seq`; null when it fails
   * authentication. `header` is the record's 5 bytes, `body` its fragment.
   */
  open(header: Uint8Array, body: Uint8Array, seq: number): OpenedRecord | null {
    if (this.tls13) return this.open13(header, body, seq);
    return this.open12(header, body, seq);
  }

  private open13(header: Uint8Array, body: Uint8Array, seq: number): OpenedRecord | null {
    if (body.length < TAG + 1) return null;
    const pt = this.aead(seqNonce(this.keys.iv, seq), header, body.subarray(0, body.length - TAG), body.subarray(body.length - TAG));
    if (!pt) return null;
    let end = pt.length;
    while (end > 0 && pt[end - 1] === 0) end--;
    if (end === 0) return null; // all padding: no content type (a protocol violation)
    return { type: pt[end - 1]!, plaintext: pt.subarray(0, end - 1) };
  }

  private open12(header: Uint8Array, body: Uint8Array, seq: number): OpenedRecord | null {
    if (this.suite.mac) return this.openCbc(header, body, seq);
    const gcm = this.suite.aead !== 'chacha20-poly1305';
    const explicit = gcm ? 8 : 0;
    if (body.length < explicit + TAG) return null;
    let nonce: Uint8Array;
    if (gcm) {
      nonce = new Uint8Array(12);
      nonce.set(this.keys.iv, 0);
      nonce.set(body.subarray(0, 8), 4);
    } else nonce = seqNonce(this.keys.iv, seq);
    const ct = body.subarray(explicit, body.length - TAG);
    const pt = this.aead(nonce, additionalData(seq, header, ct.length), ct, body.subarray(body.length - TAG));
    return pt ? { type: header[0]!, plaintext: pt } : null;
  }

  /**
   * TLS 1.2 CBC (RFC 5246 §6.2.3.2): IV ‖ CBC(content ‖ MAC ‖ padding ‖ padding length);
   * MAC = HMAC(seq_num ‖ type ‖ version ‖ length ‖ content). A bad padding and a bad MAC fail alike.
   */
  private openCbc(header: Uint8Array, body: Uint8Array, seq: number): OpenedRecord | null {
    const macLength = this.suite.macLength;
    if (body.length < 32 || body.length % 16 !== 0) return null;
    const d = createDecipheriv(this.suite.aead, this.keys.key, body.subarray(0, 16));
    d.setAutoPadding(false);
    const pt = Buffer.concat([d.update(body.subarray(16)), d.final()]);
    const pad = pt[pt.length - 1]!;
    const contentLength = pt.length - 1 - pad - macLength;
    if (contentLength < 0) return null;
    let ok = 1;
    for (let i = pt.length - 1 - pad; i < pt.length - 1; i++) ok &= pt[i] === pad ? 1 : 0;
    const content = pt.subarray(0, contentLength);
    const mac = createHmac(this.suite.mac!, this.keys.macKey!).update(additionalData(seq, header, contentLength)).update(content).digest();
    if (!ok || !timingSafeEqual(mac, pt.subarray(contentLength, contentLength + macLength))) return null;
    return { type: header[0]!, plaintext: new Uint8Array(content.buffer, content.byteOffset, content.length) };
  }

  private aead(nonce: Uint8Array, aad: Uint8Array, ct: Uint8Array, tag: Uint8Array): Uint8Array | null {
    // createDecipheriv's overloads do not cover a union of algorithm names
    const d = createDecipheriv(this.suite.aead as 'aes-128-gcm', this.keys.key, nonce, { authTagLength: TAG });
    d.setAAD(aad);
    d.setAuthTag(tag);
    const out = d.update(ct);
    try {
      d.final();
    } catch {
      return null;
    }
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  }
}

/**
 * TLS 1.2's seq_num ‖ type ‖ version ‖ length (RFC 5246 §6.2.3.1, §6.2.3.3):
 * what an AEAD authenticates beside the ciphertext, and what the CBC MAC
 * covers before the content. `length` is the plaintext's.
 */
function additionalData(seq: number, header: Uint8Array, length: number): Uint8Array {
  const aad = new Uint8Array(13);
  writeSeq(aad, 0, seq);
  aad[8] = header[0]!;
  aad[9] = header[1]!;
  aad[10] = header[2]!;
  aad[11] = length >>> 8;
  aad[12] = length & 0xff;
  return aad;
}

function writeSeq(b: Uint8Array, at: number, seq: number): void {
  const hi = Math.floor(seq / 0x100000000);
  const lo = seq >>> 0;
  b[at] = hi >>> 24;
  b[at + 1] = (hi >>> 16) & 0xff;
  b[at + 2] = (hi >>> 8) & 0xff;
  b[at + 3] = hi & 0xff;
  b[at + 4] = lo >>> 24;
  b[at + 5] = (lo >>> 16) & 0xff;
  b[at + 6] = (lo >>> 8) & 0xff;
  b[at + 7] = lo & 0xff;
}

/** One scratch nonce: createDecipheriv copies its IV, so the next record may overwrite it. */
const NONCE = new Uint8Array(12);

function seqNonce(iv: Uint8Array, seq: number): Uint8Array {
  NONCE.set(iv);
  const hi = Math.floor(seq / 0x100000000);
  const lo = seq >>> 0;
  NONCE[4]! ^= hi >>> 24;
  NONCE[5]! ^= (hi >>> 16) & 0xff;
  NONCE[6]! ^= (hi >>> 8) & 0xff;
  NONCE[7]! ^= hi & 0xff;
  NONCE[8]! ^= lo >>> 24;
  NONCE[9]! ^= (lo >>> 16) & 0xff;
  NONCE[10]! ^= (lo >>> 8) & 0xff;
  NONCE[11]! ^= lo & 0xff;
  return NONCE;
}
