/**
 * The 8-byte frame header every SPDY frame starts with.
 *
 * Control frame:                       Data frame:
 *  +----------------------------------+ +----------------------------------+
 *  |C| Version(15bits) | Type(16bits) | |C|       Stream-ID (31bits)       |
 *  +----------------------------------+ +----------------------------------+
 *  | Flags (8)  |  Length (24 bits)   | | Flags (8)  |  Length (24 bits)   |
 *  +----------------------------------+ +----------------------------------+
 */
import { SPDY_VERSION } from '../types.js';

export const FRAME_HEADER_LENGTH = 8;
export const CONTROL_BIT = 0x80;
export const STREAM_ID_MASK = 0x7fffffff;
export const MAX_STREAM_ID = 0x7fffffff;
export const MAX_LENGTH = 0xffffff;

export function readU32(buf: Uint8Array, p: number): number {
  return ((buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!) >>> 0;
}

/** A 31-bit id after the reserved X bit, which is masked off as the spec asks. */
export function readId31(buf: Uint8Array, p: number): number {
  return ((buf[p]! & 0x7f) << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!;
}

export function writeU32(buf: Uint8Array, p: number, v: number): void {
  buf[p] = v >>> 24;
  buf[p + 1] = (v >>> 16) & 0xff;
  buf[p + 2] = (v >>> 8) & 0xff;
  buf[p + 3] = v & 0xff;
}

export function writeControlHeader(
  buf: Uint8Array,
  type: number,
  flags: number,
  length: number,
  version: number = SPDY_VERSION,
): void {
  buf[0] = CONTROL_BIT | ((version >>> 8) & 0x7f);
  buf[1] = version & 0xff;
  buf[2] = (type >>> 8) & 0xff;
  buf[3] = type & 0xff;
  buf[4] = flags & 0xff;
  buf[5] = (length >>> 16) & 0xff;
  buf[6] = (length >>> 8) & 0xff;
  buf[7] = length & 0xff;
}

/** Encoder-side argument checks: API misuse, not wire errors, so plain RangeErrors. */
export function checkUint(name: string, v: number, max: number): number {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`${name} must be an integer in 0…${max}, got ${v}`);
  return v;
}
