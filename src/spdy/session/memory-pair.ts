/**
 * Two connected in-memory Duplex streams (what `stream.duplexPair` does in
 * Node 22), for running a session without sockets. Chunks are handed over
 * as-is (no copy); a reader that stops reading makes the writer's `write`
 * return false, as a socket would.
 */
import { Duplex } from 'node:stream';

class MemoryEnd extends Duplex {
  peer!: MemoryEnd;
  private pendingCb: ((err?: Error | null) => void) | null = null;

  constructor(highWaterMark: number) {
    super({ readableHighWaterMark: highWaterMark, writableHighWaterMark: highWaterMark, allowHalfOpen: true });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.peer.push(chunk)) cb();
    else this.peer.pendingCb = cb;
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    let ok = true;
    for (const c of chunks) ok = this.peer.push(c.chunk);
    if (ok) cb();
    else this.peer.pendingCb = cb;
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.peer.push(null);
    cb();
  }

  override _read(): void {
    const cb = this.pendingCb;
    if (cb) {
      this.pendingCb = null;
      cb();
    }
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.peer.destroyed) this.peer.destroy();
    cb(err);
  }
}

export function memoryPair(highWaterMark = 256 * 1024): [Duplex, Duplex] {
  const a = new MemoryEnd(highWaterMark);
  const b = new MemoryEnd(highWaterMark);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
