import { concatBytes } from '../../src/testing/chunking.js';
import { SpdyFrameDecoder, SpdyFrameEncoder, type SpdyDecodeEvent, type SpdyFrame, type SpdyFrameDecoderOptions, type SpdyFrameInput } from '../../src/spdy/index.js';

export const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');

/** Encode a sequence of frames through one encoder (one header context). */
export function encodeAll(frames: readonly SpdyFrameInput[], level?: number): Uint8Array {
  const enc = new SpdyFrameEncoder(level === undefined ? {} : { compressionLevel: level });
  return concatBytes(frames.map((f) => enc.encode(f)));
}

/** Push every chunk, then end; all events in order. */
export function decodeChunks(chunks: readonly Uint8Array[], opts: SpdyFrameDecoderOptions = {}): SpdyDecodeEvent[] {
  const dec = new SpdyFrameDecoder(opts);
  const out: SpdyDecodeEvent[] = [];
  for (const c of chunks) out.push(...dec.push(c));
  out.push(...dec.end());
  return out;
}

/**
 * A frame as a plain comparable value: decoder-only fields dropped, byte
 * arrays as hex, flags-derived booleans kept.
 */
export function comparable(frame: SpdyDecodeEvent | SpdyFrameInput): Record<string, unknown> {
  if (frame.kind === 'diagnostic') return { kind: 'diagnostic', code: frame.error.code };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(frame)) {
    if (k === 'offset' || k === 'headerBlock') continue;
    out[k] = v instanceof Uint8Array ? toHex(v) : v;
  }
  // Encoder inputs may leave defaults out.
  if (frame.kind === 'syn_stream') {
    out.associatedStreamId ??= 0;
    out.priority ??= 0;
    out.slot ??= 0;
    out.unidirectional ??= false;
  }
  if (['data', 'syn_stream', 'syn_reply', 'headers'].includes(frame.kind)) out.fin ??= false;
  if (frame.kind === 'settings') out.clearSettings ??= false;
  out.flags ??= 0;
  return out;
}

export function framesOnly(events: readonly SpdyDecodeEvent[]): SpdyFrame[] {
  return events.filter((e): e is SpdyFrame => e.kind !== 'diagnostic');
}

export function diagnostics(events: readonly SpdyDecodeEvent[]): string[] {
  return events.flatMap((e) => (e.kind === 'diagnostic' ? [e.error.code] : []));
}
