/** One buffer from several; the chunk itself when there is only one (no copy). */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/**
 * A copy of `b[start, end)` in fresh memory. `b.slice()` is not that when `b`
 * is a Buffer: Buffer#slice is a view (as subarray), so bytes "kept" with it
 * change when the memory under them is reused.
 */
export function copyBytes(b: Uint8Array, start = 0, end = b.length): Uint8Array {
  return Uint8Array.prototype.slice.call(b, start, end);
}
