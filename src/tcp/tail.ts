/**
 * The last bytes delivered on a half-stream, kept (copied) so that a
 * retransmission of them can be compared with what was delivered: a ring, so
 * that many small segments do not shift older bytes around.
 */
import type { HalfStream } from './connection.js';

/** Record `bytes`, just delivered and ending at `h.offset`, in a ring of `size` bytes. */
export function appendTail(h: HalfStream, bytes: Uint8Array, size: number): void {
  const n = bytes.length;
  let t = h.tail;
  if (t === null) t = h.tail = new Uint8Array(size);
  if (n >= size) {
    t.set(n === size ? bytes : bytes.subarray(n - size));
    h.tailPos = 0;
    h.tailLen = size;
    return;
  }
  const pos = h.tailPos;
  const first = size - pos;
  if (n <= first) t.set(bytes, pos);
  else {
    t.set(bytes.subarray(0, first), pos);
    t.set(bytes.subarray(first), 0);
  }
  h.tailPos = (pos + n) % size;
  h.tailLen = Math.min(size, h.tailLen + n);
}

/**
 * Stream offset of the first byte of `bytes` (which start at stream offset
 * `start`) that differs from the delivered byte at that offset, looking only
 * where the ring still holds delivered bytes; −1 when none differs.
 */
export function tailMismatch(h: HalfStream, start: number, bytes: Uint8Array): number {
  const t = h.tail;
  if (t === null || h.tailLen === 0) return -1;
  const size = t.length;
  const from = Math.max(start, h.offset - h.tailLen);
  const to = Math.min(start + bytes.length, h.offset);
  for (let x = from; x < to; x++) {
    if (t[(h.tailPos - (h.offset - x) + size) % size] !== bytes[x - start]) return x;
  }
  return -1;
}
