/**
 * Masking (RFC 6455 §5.3): `payload[i] ^= key[i mod 4]`, with `i` counted from
 * the first payload byte of each frame. The same operation masks and unmasks.
 *
 * The key is carried as an unsigned 32-bit number whose most significant byte
 * is the first key byte on the wire, so frames need no 4-byte array each.
 *
 * Speed: long payloads are XORed a 32-bit word at a time through a
 * `Uint32Array` over the aligned middle of the buffer (one view allocation per
 * call); short ones byte by byte, where the view would cost more than it saves.
 */

import { createRequire } from 'node:module';

/** Below this many bytes the byte loop beats building a word view. */
const WORD_THRESHOLD = 128;
/** From this many bytes a native masking routine (when installed) beats the word loop. */
const NATIVE_THRESHOLD = 512;

/**
 * `bufferutil`, the native masking helper that `ws` uses too, when it is
 * installed (an optional dependency): it XORs with SIMD, several times faster
 * than a JavaScript word loop on long payloads. Without it, the loops below.
 * `KUBEWIRE_NO_NATIVE_MASK=1` turns it off.
 */
type NativeUnmask = (buffer: Buffer, mask: Buffer) => void;
type NativeMask = (source: Buffer, mask: Buffer, output: Buffer, offset: number, length: number) => void;
// Loaded on the first long payload, not at start-up: a decode without
// WebSocket (or with short frames only) never pays for the native module.
let nativeUnmask: NativeUnmask | null = null;
let nativeMask: NativeMask | null = null;
let nativeLoaded = false;

function native(): boolean {
  if (!nativeLoaded) {
    nativeLoaded = true;
    const m = loadNative();
    nativeUnmask = m?.unmask ?? null;
    nativeMask = m?.mask ?? null;
  }
  return nativeMask !== null;
}

function loadNative(): { unmask: NativeUnmask; mask: NativeMask } | null {
  if (process.env.KUBEWIRE_NO_NATIVE_MASK) return null;
  try {
    const mod = createRequire(import.meta.url)('bufferutil') as { unmask?: NativeUnmask; mask?: NativeMask };
    return typeof mod.unmask === 'function' && typeof mod.mask === 'function' ? { unmask: mod.unmask, mask: mod.mask } : null;
  } catch {
    return null;
  }
}

/** True when long payloads are masked by the native helper. */
export function nativeMasking(): boolean {
  return native();
}

/**
 * Copy `src` into `dst` at `offset`, masked with `key` from key phase 0: one
 * native pass for long payloads when the helper is there, else copy then mask.
 */
export function maskInto(src: Uint8Array, dst: Uint8Array, offset: number, key: number): void {
  const n = src.length;
  if (n >= NATIVE_THRESHOLD && key !== 0 && native()) {
    for (let k = 0; k < 4; k++) nativeKey[k] = keyByte(key, k);
    nativeMask!(
      Buffer.isBuffer(src) ? src : Buffer.from(src.buffer, src.byteOffset, n),
      nativeKey,
      Buffer.isBuffer(dst) ? dst : Buffer.from(dst.buffer, dst.byteOffset, dst.length),
      offset,
      n,
    );
    return;
  }
  dst.set(src, offset);
  maskRange(dst, offset, offset + n, key);
}

const nativeKey = Buffer.alloc(4);

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([0x01020304]).buffer)[0] === 0x04;

/** Key byte `i` (0–3) of a big-endian key word. */
function keyByte(key: number, i: number): number {
  return (key >>> (24 - 8 * (i & 3))) & 0xff;
}

/**
 * XOR `buf` in place with the key, as if `buf[0]` were payload byte `phase`
 * of its frame (phase = bytes of this frame already masked, any value).
 */
export function maskInPlace(buf: Uint8Array, key: number, phase = 0): void {
  maskRange(buf, 0, buf.length, key, phase);
}

/** `maskInPlace` on `buf[start, end)` without creating a view; `buf[start]` is payload byte `phase`. */
export function maskRange(buf: Uint8Array, start: number, end: number, key: number, phase = 0): void {
  const n = end - start;
  if (key === 0 || n <= 0) return;
  let i = start;
  // Rotate the key so that byte `start` takes key byte `phase`.
  const shift = (phase - start) & 3;
  if (n >= NATIVE_THRESHOLD && native()) {
    for (let k = 0; k < 4; k++) nativeKey[k] = keyByte(key, start + k + shift);
    nativeUnmask!(Buffer.from(buf.buffer, buf.byteOffset + start, n), nativeKey);
    return;
  }
  if (n >= WORD_THRESHOLD && LITTLE_ENDIAN) {
    // Bytes before the first 4-byte aligned address go one by one.
    const misalign = (buf.byteOffset + start) & 3;
    const head = misalign === 0 ? 0 : 4 - misalign;
    for (; i < start + head; i++) buf[i] ^= keyByte(key, i + shift);
    const words = (n - head) >>> 2;
    // Little-endian word for the 4 bytes starting at index i.
    const word =
      keyByte(key, i + shift) |
      (keyByte(key, i + shift + 1) << 8) |
      (keyByte(key, i + shift + 2) << 16) |
      (keyByte(key, i + shift + 3) << 24);
    const w = new Uint32Array(buf.buffer, buf.byteOffset + i, words);
    for (let j = 0; j < words; j++) w[j] ^= word;
    i += words * 4;
  } else {
    const k0 = keyByte(key, i + shift);
    const k1 = keyByte(key, i + shift + 1);
    const k2 = keyByte(key, i + shift + 2);
    const k3 = keyByte(key, i + shift + 3);
    const end4 = end - (n & 3);
    for (; i < end4; i += 4) {
      buf[i] ^= k0;
      buf[i + 1] ^= k1;
      buf[i + 2] ^= k2;
      buf[i + 3] ^= k3;
    }
  }
  for (; i < end; i++) buf[i] ^= keyByte(key, i + shift);
}

/** XOR `src` into `dst` (same length, may alias) starting at key phase 0. */
export function maskCopy(src: Uint8Array, dst: Uint8Array, key: number, phase = 0): void {
  if (dst !== src) dst.set(src);
  maskInPlace(dst, key, phase);
}

/** Big-endian key word from 4 bytes at `pos`. */
export function readKey(buf: Uint8Array, pos: number): number {
  return ((buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!) >>> 0;
}
