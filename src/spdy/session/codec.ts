/**
 * What the session needs from the SPDY codec. The session frames DATA itself
 * (so payload pieces are delivered as views the moment they arrive, without
 * waiting for or copying the whole frame) and hands only complete control
 * frames to the codec's decoder, which owns header decompression.
 */
import type { SpdyFrame, SpdyHeaders } from '../types.js';
import type { KubewireError } from '../../common/errors.js';
import { SpdyFrameDecoder } from '../decoder.js';
import { SpdyFrameEncoder } from '../encoder.js';

export type ControlDecodeEvent = SpdyFrame | { kind: 'diagnostic'; error: KubewireError };

export interface ControlFrameDecoder {
  /** Complete control frames in, frames out (strict mode: throws KubewireError on bad input). */
  push(chunk: Uint8Array): ControlDecodeEvent[];
}

/** A frame to encode: a frame without `offset`/`headerBlock`, `flags` optional, header frames carry headers. */
export type FrameInput = DistributiveOmit<SpdyFrame, 'offset' | 'headerBlock' | 'flags'> & { flags?: number };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface ControlFrameEncoder {
  encode(frame: FrameInput): Uint8Array;
}

export interface SessionCodec {
  decoder: ControlFrameDecoder;
  encoder: ControlFrameEncoder;
}

export interface CodecLimits {
  /** Bytes one header block may inflate to. */
  maxHeaderBlockInflated?: number;
  /** Name/value pairs per header block. */
  maxHeaderCount?: number;
}

/** The project's SPDY codec: one inflate context for the peer's header blocks, one deflate context for ours. */
export function defaultCodec(limits: CodecLimits = {}): SessionCodec {
  const decoder = new SpdyFrameDecoder({ mode: 'strict', limits });
  const encoder = new SpdyFrameEncoder();
  return {
    decoder,
    encoder: encoder as unknown as ControlFrameEncoder,
  };
}

export type { SpdyHeaders };
