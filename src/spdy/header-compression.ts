/**
 * Header compression contexts: one per direction for the whole session
 * (SPDY/3 §2.6.10.1). All header blocks a side sends, on every stream, go
 * through one deflate stream with a SYNC_FLUSH after each block; the peer
 * inflates them through one inflate stream. A block cannot be inflated unless
 * every earlier block of that direction was, so any failure loses the
 * context for good.
 */
import { SPDY3_DICTIONARY } from './dictionary.js';
import { SPDY_ERROR, type SpdyErrorCode } from './errors.js';
import { HeaderBlockWriter, parseHeaderBlock } from './header-block.js';
import type { SpdyLimits } from './limits.js';
import type { SpdyHeaders } from './types.js';
import { SyncDeflater, SyncInflater, ZlibFailure } from './zlib-sync.js';

export type HeaderDecodeResult =
  | { ok: true; headers: SpdyHeaders; emptyName: boolean }
  | { ok: false; code: SpdyErrorCode; scope: 'session' | 'stream'; message: string };

const CONTEXT_UNKNOWN: HeaderDecodeResult = {
  ok: false,
  code: SPDY_ERROR.HEADER_CONTEXT_UNKNOWN,
  scope: 'session',
  message: 'header block not inflated: the compression context of this direction is unknown',
};

/** The receiving side of one direction's header compression. */
export class HeaderInflateContext {
  private inflater: SyncInflater | null = null;
  private inflatedTotal = 0;
  private lost: boolean;

  constructor(known: boolean) {
    this.lost = !known;
  }

  /** False once the context is unknown (joined mid-session, gap, or a failure). */
  get known(): boolean {
    return !this.lost;
  }

  /** Forget the context (after lost bytes); later blocks cannot be inflated. */
  markUnknown(): void {
    this.lost = true;
    if (this.inflater) {
      this.inflater.close();
      this.inflater = null;
    }
  }

  decode(block: Uint8Array, limits: SpdyLimits): HeaderDecodeResult {
    if (this.lost) return CONTEXT_UNKNOWN;
    // Created on first use: a direction that never sends headers costs no zlib memory.
    const inflater = (this.inflater ??= new SyncInflater(SPDY3_DICTIONARY));
    let r;
    try {
      r = inflater.inflate(block, limits.maxHeaderBlockInflated, limits.maxInflatedTotal - this.inflatedTotal);
    } catch (e) {
      this.markUnknown();
      const why = e instanceof ZlibFailure ? `${e.message}${e.zlibCode ? ` (${e.zlibCode})` : ''}` : String(e);
      return { ok: false, code: SPDY_ERROR.HEADER_INFLATE_FAILED, scope: 'session', message: `header block inflate failed: ${why}` };
    }
    this.inflatedTotal += r.inflated;
    if (r.overBudget) {
      this.markUnknown();
      return {
        ok: false,
        code: SPDY_ERROR.HEADER_INFLATE_LIMIT,
        scope: 'session',
        message: `header blocks of this direction inflated past ${limits.maxInflatedTotal} bytes`,
      };
    }
    if (r.inputLeft > 0) {
      this.markUnknown();
      return {
        ok: false,
        code: SPDY_ERROR.HEADER_BLOCK_TRAILING_BYTES,
        scope: 'session',
        message: `zlib stream ended with ${r.inputLeft} bytes of the header block left`,
      };
    }
    if (r.overLimit) {
      return {
        ok: false,
        code: SPDY_ERROR.HEADER_BLOCK_TOO_LARGE,
        scope: 'stream',
        message: `header block inflated to ${r.inflated} bytes (limit ${limits.maxHeaderBlockInflated})`,
      };
    }
    const parsed = parseHeaderBlock(inflater.output, r.length, limits.maxHeaderCount);
    if (!parsed.ok) return { ok: false, code: parsed.code, scope: 'stream', message: parsed.message };
    return parsed;
  }

  close(): void {
    this.inflater?.close();
    this.inflater = null;
  }
}

/** The sending side: one deflate context for every header block this side sends. */
export class HeaderDeflateContext {
  private readonly writer = new HeaderBlockWriter();
  private deflater: SyncDeflater | null = null;

  constructor(private readonly level: number | undefined) {}

  /**
   * Serialise and compress one block. Returns a fresh array with `prefix`
   * bytes reserved in front (for the frame's fixed fields) and the block's
   * compressed length.
   */
  compress(headers: SpdyHeaders, prefix: number): { frame: Uint8Array; length: number } {
    const n = this.writer.write(headers);
    const deflater = (this.deflater ??= new SyncDeflater(SPDY3_DICTIONARY, this.level));
    return deflater.compress(this.writer.buffer, n, prefix);
  }

  close(): void {
    this.deflater?.close();
    this.deflater = null;
  }
}
