/**
 * Synchronous zlib streams that keep one compression context across calls,
 * which SPDY needs: every header block of a direction continues one deflate
 * stream, sync-flushed per block.
 *
 * Why not the public API: Node 20 has none that is both synchronous and
 * persistent. `zlib.inflateSync` starts afresh each call, and
 * `Inflate#_processChunk(buf, flag)` without a callback closes its native
 * handle when it returns (measured: the second call fails with "Cannot read
 * properties of null"). The async stream API costs an event-loop turn per
 * block. So we drive the native handle that `zlib.createInflate` /
 * `zlib.createDeflate` create, exactly as Node's own sync path does
 * (`handle.writeSync(flush, in, inOff, inLen, out, outOff, outLen)`, results in
 * the stream's `_writeState` = [availOutAfter, availInAfter]), but without
 * closing it. These internals have been stable since Node 10; the unit tests
 * pin the behaviour so a Node upgrade that changes them fails loudly.
 *
 * Errors: Node reports a zlib error by calling `handle.onerror` during
 * `writeSync`; we capture it instead of letting the stream object destroy
 * itself. After an error the context is unusable (zlib cannot recover), and
 * the caller must treat the direction's header context as lost.
 */
import { Buffer } from 'node:buffer';
import zlib from 'node:zlib';

interface NativeZlibHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inOff: number,
    inLen: number,
    out: Uint8Array,
    outOff: number,
    outLen: number,
  ): void;
  close(): void;
  onerror: (message: string, errno: number, code?: string) => void;
}

interface NodeZlibInternals {
  _handle: NativeZlibHandle | null;
  _writeState: Uint32Array;
}

export const Z_SYNC_FLUSH = zlib.constants.Z_SYNC_FLUSH;

/** A zlib failure reported by the native handle. */
export class ZlibFailure extends Error {
  constructor(
    message: string,
    readonly zlibCode: string | undefined,
  ) {
    super(message);
  }
}

abstract class SyncZlibStream {
  protected handle: NativeZlibHandle | null;
  protected readonly state: Uint32Array;
  /** Keeps the owning stream object (and so the native context) alive. */
  private readonly owner: unknown;
  private failure: ZlibFailure | null = null;

  protected constructor(stream: zlib.Inflate | zlib.Deflate) {
    const internals = stream as unknown as NodeZlibInternals;
    const handle = internals._handle;
    if (!handle || typeof handle.writeSync !== 'function' || !(internals._writeState instanceof Uint32Array)) {
      throw new Error('kubewire: this Node.js version does not expose the zlib handle kubewire needs');
    }
    this.owner = stream;
    this.handle = handle;
    this.state = internals._writeState;
    handle.onerror = (message: string, _errno: number, code?: string) => {
      this.failure = new ZlibFailure(message, code);
    };
  }

  /** True once zlib reported an error or the stream was closed. */
  get broken(): boolean {
    return this.handle === null || this.failure !== null;
  }

  close(): void {
    if (this.handle) {
      this.handle.close();
      this.handle = null;
    }
    void this.owner;
  }

  /**
   * One native call: returns [bytes written to out, input bytes left].
   * Throws ZlibFailure when zlib reports an error.
   */
  protected step(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): number {
    const h = this.handle;
    if (!h || this.failure) throw this.failure ?? new ZlibFailure('zlib stream closed', undefined);
    h.writeSync(flush, input, inOff, inLen, out, outOff, outLen);
    if (this.failure) throw this.failure;
    return outLen - this.state[0]!;
  }

  protected get inputLeft(): number {
    return this.state[1]!;
  }
}

export interface InflateResult {
  /** Bytes of output kept in `SyncInflater.output` (at most the collect limit). */
  length: number;
  /** Bytes the block inflated to, kept or not. */
  inflated: number;
  /** Compressed bytes zlib did not consume (non-zero: the zlib stream ended inside the block). */
  inputLeft: number;
  /** The block inflated to more than the collect limit (output not kept). */
  overLimit: boolean;
  /** Inflation stopped at `budget` output bytes; the context is now unusable. */
  overBudget: boolean;
}

/** One persistent inflate context; zlib presets the dictionary when the stream asks for it. */
export class SyncInflater extends SyncZlibStream {
  /** Output of the last `inflate`; valid only until the next call. */
  output: Buffer;

  constructor(dictionary: Uint8Array, initialOutput = 4096) {
    super(zlib.createInflate({ dictionary }));
    this.output = Buffer.allocUnsafe(initialOutput);
  }

  /**
   * Inflate one sync-flushed block into `output`. Keeps at most `limit`
   * bytes; past that the rest of the block is still inflated (so that the
   * context stays in step with the peer's) into a fixed scratch area and only
   * counted, until `budget` bytes in all. Memory stays bounded by `limit`
   * whatever the block claims to expand to.
   */
  inflate(block: Uint8Array, limit: number, budget: number): InflateResult {
    let out = this.output;
    let inOff = 0;
    let inLen = block.length;
    let produced = 0;
    let inflated = 0;
    let keeping = true;
    for (;;) {
      const outOff = keeping ? produced : 0;
      const room = out.length - outOff;
      const n = this.step(Z_SYNC_FLUSH, block, inOff, inLen, out, outOff, room);
      const left = this.inputLeft;
      inOff += inLen - left;
      inLen = left;
      inflated += n;
      if (keeping) produced += n;
      // zlib returns with output space to spare only once the flushed block is done.
      if (n < room) {
        const over = !keeping || produced > limit;
        return { length: over ? 0 : produced, inflated, inputLeft: inLen, overLimit: over, overBudget: inflated > budget };
      }
      if (inflated > budget) {
        return { length: 0, inflated, inputLeft: inLen, overLimit: !keeping, overBudget: true };
      }
      if (keeping) {
        if (produced > limit) {
          keeping = false;
        } else {
          // Grow, but never past what the limit allows us to keep.
          const size = Math.min(out.length * 2, limit + 1);
          if (size <= out.length) {
            keeping = false;
          } else {
            const bigger = Buffer.allocUnsafe(size);
            out.copy(bigger, 0, 0, produced);
            out = bigger;
            this.output = bigger;
          }
        }
      }
    }
  }
}

/** One persistent deflate context, sync-flushed per block. */
export class SyncDeflater extends SyncZlibStream {
  private out: Buffer;

  constructor(dictionary: Uint8Array, level: number = zlib.constants.Z_DEFAULT_COMPRESSION, outChunk = 4096) {
    super(zlib.createDeflate({ dictionary, level }));
    this.out = Buffer.allocUnsafe(outChunk);
  }

  /**
   * Compress `input[0, inLen)` and sync-flush. Returns a fresh array holding
   * `prefix` bytes (left for the caller's frame header) and then the
   * compressed block, and the block's length.
   */
  compress(input: Uint8Array, inLen: number, prefix: number): { frame: Uint8Array; length: number } {
    let out = this.out;
    let produced = 0;
    let inOff = 0;
    let left = inLen;
    for (;;) {
      const room = out.length - produced;
      const n = this.step(Z_SYNC_FLUSH, input, inOff, left, out, produced, room);
      produced += n;
      const nowLeft = this.inputLeft;
      inOff += left - nowLeft;
      left = nowLeft;
      // Deflate with a flush is done once it returns with output space to spare.
      if (n < room) break;
      const bigger = Buffer.allocUnsafe(out.length * 2);
      out.copy(bigger, 0, 0, produced);
      out = bigger;
      this.out = bigger;
    }
    const frame = new Uint8Array(prefix + produced);
    frame.set(out.subarray(0, produced), prefix);
    return { frame, length: produced };
  }
}
