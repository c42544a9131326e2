/**
 * A FIFO of byte chunks for streaming decoders. Reads that fall inside one
 * chunk return views (no copy); only reads that straddle chunks copy. The
 * queue tracks the absolute offset of its first byte so that errors can name
 * where in the stream they happened.
 *
 * Lifetime: a view returned by `take` aliases the pushed chunk, so it stays
 * valid as long as the caller does not mutate or reuse that chunk.
 */
export class ByteQueue {
  private chunks: Uint8Array[] = [];
  private head = 0; // index of first live chunk in `chunks`
  private headOffset = 0; // bytes already consumed from chunks[head]
  private total = 0;
  /** Absolute stream offset of the next unread byte. */
  offset = 0;

  get length(): number {
    return this.total;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  /** Byte at position i from the read position (i < length). */
  byteAt(i: number): number {
    let idx = this.head;
    let pos = i + this.headOffset;
    for (;;) {
      const c = this.chunks[idx]!;
      if (pos < c.length) return c[pos]!;
      pos -= c.length;
      idx++;
    }
  }

  uint16At(i: number): number {
    const c = this.chunks[this.head]!;
    const p = this.headOffset + i;
    if (p + 2 <= c.length) return (c[p]! << 8) | c[p + 1]!;
    return (this.byteAt(i) << 8) | this.byteAt(i + 1);
  }

  /** Big-endian unsigned 32-bit at position i. */
  uint32At(i: number): number {
    const c = this.chunks[this.head]!;
    const p = this.headOffset + i;
    if (p + 4 <= c.length) {
      return ((c[p]! << 24) | (c[p + 1]! << 16) | (c[p + 2]! << 8) | c[p + 3]!) >>> 0;
    }
    return (
      ((this.byteAt(i) << 24) | (this.byteAt(i + 1) << 16) | (this.byteAt(i + 2) << 8) | this.byteAt(i + 3)) >>> 0
    );
  }

  /**
   * Remove and return the next n bytes (n <= length). A view when they lie in
   * one chunk, else a fresh copy.
   */
  take(n: number): Uint8Array {
    if (n === 0) return EMPTY;
    const c = this.chunks[this.head]!;
    const start = this.headOffset;
    if (start + n <= c.length) {
      const view = c.subarray(start, start + n);
      this.advance(n);
      return view;
    }
    const out = new Uint8Array(n);
    let written = 0;
    while (written < n) {
      const cur = this.chunks[this.head]!;
      const avail = cur.length - this.headOffset;
      const want = Math.min(avail, n - written);
      out.set(cur.subarray(this.headOffset, this.headOffset + want), written);
      written += want;
      this.advance(want);
    }
    return out;
  }

  /** Copy n bytes starting at position i without consuming them. */
  peek(i: number, n: number): Uint8Array {
    const c = this.chunks[this.head]!;
    const p = this.headOffset + i;
    if (c && p + n <= c.length) return c.subarray(p, p + n);
    const out = new Uint8Array(n);
    for (let k = 0; k < n; k++) out[k] = this.byteAt(i + k);
    return out;
  }

  skip(n: number): void {
    while (n > 0) {
      const cur = this.chunks[this.head]!;
      const avail = cur.length - this.headOffset;
      const step = Math.min(avail, n);
      this.advance(step);
      n -= step;
    }
  }

  clear(): void {
    this.offset += this.total;
    this.chunks = [];
    this.head = 0;
    this.headOffset = 0;
    this.total = 0;
  }

  private advance(n: number): void {
    this.headOffset += n;
    this.total -= n;
    this.offset += n;
    const cur = this.chunks[this.head]!;
    if (this.headOffset === cur.length) {
      this.chunks[this.head] = EMPTY; // let the chunk be collected
      this.head++;
      this.headOffset = 0;
      if (this.head > 64 && this.head * 2 > this.chunks.length) {
        this.chunks = this.chunks.slice(this.head);
        this.head = 0;
      }
    }
  }
}

const EMPTY = new Uint8Array(0);
