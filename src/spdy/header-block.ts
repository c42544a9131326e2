/**
 * The SPDY/3 name/value header block, before compression:
 *
 *   +------------------------------------+
 *   | Number of Name/Value pairs (int32) |
 *   +------------------------------------+
 *   |     Length of name (int32)         |
 *   +------------------------------------+
 *   |           Name (string)            |   repeated for each pair
 *   +------------------------------------+
 *   |     Length of value  (int32)       |
 *   +------------------------------------+
 *   |          Value   (string)          |
 *   +------------------------------------+
 *
 * Strings are UTF-8 here (names are ASCII on the wire in practice); several
 * values of one name are one value joined by NUL, kept as on the wire.
 */
import { Buffer } from 'node:buffer';
import type { SpdyHeaders } from './types.js';
import { SPDY_ERROR, type SpdyErrorCode } from './errors.js';

export type HeaderBlockParse =
  | { ok: true; headers: SpdyHeaders; emptyName: boolean }
  | { ok: false; code: SpdyErrorCode; message: string };

/** Short ASCII strings are cheaper to build in JS than through a native call. */
const SHORT_STRING = 16;

function readString(buf: Buffer, start: number, end: number): string {
  if (end - start <= SHORT_STRING) {
    let s = '';
    for (let i = start; i < end; i++) {
      const c = buf[i]!;
      if (c >= 0x80) return buf.toString('utf8', start, end);
      s += String.fromCharCode(c);
    }
    return s;
  }
  return buf.toString('utf8', start, end);
}

function u32(buf: Uint8Array, p: number): number {
  return ((buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!) >>> 0;
}

/** Parse an inflated block `buf[0, length)`. */
export function parseHeaderBlock(buf: Buffer, length: number, maxCount: number): HeaderBlockParse {
  if (length < 4) return malformed(`header block of ${length} bytes has no pair count`);
  const count = u32(buf, 0);
  if (count > maxCount) {
    return { ok: false, code: SPDY_ERROR.TOO_MANY_HEADERS, message: `header block declares ${count} pairs (limit ${maxCount})` };
  }
  // Each pair needs at least 8 bytes, so a count the block cannot hold is caught before allocating for it.
  if (count * 8 > length - 4) return malformed(`header block of ${length} bytes cannot hold ${count} pairs`);
  const headers: SpdyHeaders = new Array(count);
  let emptyName = false;
  let p = 4;
  for (let i = 0; i < count; i++) {
    if (p + 4 > length) return malformed(`header block ends inside pair ${i}`);
    const nameLen = u32(buf, p);
    p += 4;
    if (nameLen > length - p) return malformed(`name length ${nameLen} of pair ${i} runs past the block`);
    if (nameLen === 0) emptyName = true;
    const name = readString(buf, p, p + nameLen);
    p += nameLen;
    if (p + 4 > length) return malformed(`header block ends inside pair ${i}`);
    const valueLen = u32(buf, p);
    p += 4;
    if (valueLen > length - p) return malformed(`value length ${valueLen} of pair ${i} runs past the block`);
    const value = readString(buf, p, p + valueLen);
    p += valueLen;
    headers[i] = [name, value];
  }
  if (p !== length) return malformed(`${length - p} bytes after the last header pair`);
  return { ok: true, headers, emptyName };
}

function malformed(message: string): HeaderBlockParse {
  return { ok: false, code: SPDY_ERROR.HEADER_BLOCK_MALFORMED, message };
}

/** Serialises header blocks into one reused buffer. */
export class HeaderBlockWriter {
  buffer: Buffer = Buffer.allocUnsafe(1024);

  /** Write `headers` as a name/value block; returns its length in `buffer`. */
  write(headers: SpdyHeaders): number {
    // Worst case: 3 UTF-8 bytes per UTF-16 unit.
    let bound = 4;
    for (let i = 0; i < headers.length; i++) {
      const h = headers[i]!;
      bound += 8 + 3 * (h[0].length + h[1].length);
    }
    if (bound > this.buffer.length) this.buffer = Buffer.allocUnsafe(Math.max(bound, this.buffer.length * 2));
    const buf = this.buffer;
    buf.writeUInt32BE(headers.length, 0);
    let p = 4;
    for (let i = 0; i < headers.length; i++) {
      const h = headers[i]!;
      p = writeString(buf, p, h[0]);
      p = writeString(buf, p, h[1]);
    }
    return p;
  }
}

/** Write a 32-bit length and the string's UTF-8 bytes at `p`; returns the new position. */
function writeString(buf: Buffer, p: number, s: string): number {
  const start = p + 4;
  let n: number;
  if (s.length <= SHORT_STRING) {
    n = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        n = -1;
        break;
      }
      buf[start + i] = c;
      n++;
    }
    if (n < 0) n = buf.write(s, start, 'utf8');
  } else {
    n = buf.write(s, start, 'utf8');
  }
  buf[p] = n >>> 24;
  buf[p + 1] = (n >>> 16) & 0xff;
  buf[p + 2] = (n >>> 8) & 0xff;
  buf[p + 3] = n & 0xff;
  return start + n;
}
