/**
 * Reading plain TCP sockets into one reused buffer each (Node's `onread`).
 *
 * Node's stream path allocates a fresh 64 KiB buffer for every read and
 * hands it on; at loopback speed those allocations, their garbage and the
 * small reads cost the tap more CPU than the copying between the sockets.
 * With `onread` every read lands in the same large buffer, so a read takes
 * what the kernel has (up to `READ_BUFFER_BYTES`) and allocates nothing.
 *
 * The view a reader gets is valid only during its call: whatever must outlive
 * it (decoding, recording) copies it. A write made from the view keeps
 * pointing into the buffer until it completes, so the reader pauses the
 * socket while such a write is pending (see `TappedConnection`): the next
 * read cannot overwrite bytes still on their way out.
 *
 * Node takes `onread` only when it creates the socket object: `connect()`
 * for the upstream, and for an accepted connection a new `Socket` around the
 * accepted handle (the listener uses `pauseOnConnect`, so nothing was read
 * into the stream path before). When the handle is not where Node 20–24 keep
 * it, the accepted socket is used as it is, on the stream path.
 */
import { Socket, type SocketConstructorOpts } from 'node:net';

/**
 * Every read is also one write on the other socket, and beyond the copies
 * the pair costs about the same whatever its size: at 256 KiB nearly every
 * read at loopback speed came back full, and forwarding cost the tap a
 * median 0.55 CPU s per GiB in the tap bench; at 1 MiB 0.35, and no less at
 * 2 or 4 MiB. The memory is only touched as far as reads fill it, so a quiet
 * connection holds little of it.
 */
export const READ_BUFFER_BYTES = 1024 * 1024;

/** Gets each read; `view` is valid only during the call. Return false to pause the socket. */
export type Reader = (view: Buffer) => boolean;

export class ReusedReads {
  private readonly buffer = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
  private reader: Reader | undefined;
  /** Copies of reads that arrived before there was a reader (normally none: the socket starts paused). */
  private early: Buffer[] = [];

  /** For `new Socket({ onread })` or `connect({ onread })`. */
  readonly onread = {
    buffer: this.buffer,
    callback: (n: number, buf: Uint8Array): boolean => this.read((buf as Buffer).subarray(0, n)),
  };

  /**
   * Route reads to `reader`, after any that arrived early. Returns false when
   * the reader asked to pause while taking those.
   */
  setReader(reader: Reader): boolean {
    this.reader = reader;
    const early = this.early;
    this.early = [];
    let more = true;
    for (const chunk of early) more = reader(chunk) && more;
    return more;
  }

  private read(view: Buffer): boolean {
    if (this.reader) return this.reader(view);
    this.early.push(Buffer.from(view));
    return false;
  }
}

/**
 * A socket that reads the accepted connection `accepted` (from a listener
 * with `pauseOnConnect`) into `reads`, paused; undefined when the handle
 * cannot be taken over (then keep using `accepted`).
 */
export function adoptAccepted(accepted: Socket, reads: ReusedReads, allowHalfOpen: boolean): Socket | undefined {
  const holder = accepted as unknown as { _handle?: { readStart?: unknown } | null };
  const handle = holder._handle;
  if (accepted.destroyed || !handle || typeof handle.readStart !== 'function') return undefined;
  // Detach first: destroying the old wrapper then only settles the server's
  // connection count, and leaves the connection itself to the new socket.
  holder._handle = null;
  const socket = new Socket({ handle, onread: reads.onread, allowHalfOpen, readable: true, writable: true } as SocketConstructorOpts);
  socket.pause();
  accepted.destroy();
  return socket;
}
