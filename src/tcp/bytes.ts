/**
 * A real copy of a byte range. `Buffer#slice` returns a view (unlike
 * `Uint8Array#slice`), and capture input often arrives as Buffers, so
 * retained bytes are copied through this helper.
 */
export function copyBytes(b: Uint8Array, start = 0, end = b.length): Uint8Array {
  const out = new Uint8Array(end - start);
  out.set(b.subarray(start, end));
  return out;
}
