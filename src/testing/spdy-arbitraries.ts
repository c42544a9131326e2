/**
 * fast-check arbitraries for SPDY/3.1 frames, as encoder inputs
 * (`SpdyFrameInput`, with raw `flags` consistent with the booleans, so that a
 * decoded frame compares equal to the input). Every field ranges over what
 * the wire allows for a frame that decodes without a diagnostic: 31-bit
 * stream ids (1 … 2^31 − 1 where 0 is invalid), every flag bit, 24-bit SETTINGS
 * ids, 32-bit values. Payload sizes are capped by `maxPayload` to keep runs
 * quick; pass 0xffffff to reach the 24-bit maximum.
 */
import fc from 'fast-check';
import type { SpdyFrameInput, SpdyFrameInputOf, SpdyHeaders } from '../spdy/types.js';

export interface SpdyArbitraryOptions {
  /** Largest DATA / unknown payload generated (default 256). */
  maxPayload?: number;
  /** Most header pairs per block (default 8). */
  maxHeaders?: number;
}

const U31_NONZERO = fc.integer({ min: 1, max: 0x7fffffff });
const U31 = fc.integer({ min: 0, max: 0x7fffffff });
const U32 = fc.integer({ min: 0, max: 0xffffffff });
const FLAGS = fc.integer({ min: 0, max: 0xff });
const KNOWN_TYPES = new Set([1, 2, 3, 4, 6, 7, 8, 9]);

function payload(max: number): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 5, arbitrary: fc.uint8Array({ maxLength: Math.min(max, 64) }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: max }) },
  );
}

/** Header names: non-empty, lower-case ASCII letters, digits, '-', ':' and '.'. */
export function spdyHeaderName(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom('streamtype', 'port', 'requestid', ':method', ':path', 'content-type', 'user-agent'),
    fc.stringMatching(/^[a-z0-9:.-]{1,24}$/),
  );
}

/** Header values: any well-formed string (UTF-8 round-trips), NUL-joined multi-values included. */
export function spdyHeaderValue(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom('error', 'stdin', 'stdout', 'stderr', 'resize', 'data', '8080', '0', ''),
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.array(fc.string({ minLength: 1, maxLength: 8 }).filter((s) => !s.includes('\0')), { minLength: 2, maxLength: 3 }).map((v) => v.join('\0')),
  );
}

export function spdyHeaders(opts: SpdyArbitraryOptions = {}): fc.Arbitrary<SpdyHeaders> {
  return fc.array(fc.tuple(spdyHeaderName(), spdyHeaderValue()), { maxLength: opts.maxHeaders ?? 8 }) as fc.Arbitrary<SpdyHeaders>;
}

export function spdyDataFrame(opts: SpdyArbitraryOptions = {}): fc.Arbitrary<SpdyFrameInputOf<'data'>> {
  return fc.record({ streamId: U31_NONZERO, flags: FLAGS, data: payload(opts.maxPayload ?? 256) }).map((r) => ({
    kind: 'data' as const,
    streamId: r.streamId,
    flags: r.flags,
    fin: (r.flags & 1) !== 0,
    data: r.data,
  }));
}

export function spdySynStreamFrame(opts: SpdyArbitraryOptions = {}): fc.Arbitrary<SpdyFrameInputOf<'syn_stream'>> {
  return fc
    .record({
      streamId: U31_NONZERO,
      associatedStreamId: U31,
      priority: fc.integer({ min: 0, max: 7 }),
      slot: fc.integer({ min: 0, max: 0xff }),
      flags: FLAGS,
      headers: spdyHeaders(opts),
    })
    .map((r) => ({
      kind: 'syn_stream' as const,
      ...r,
      fin: (r.flags & 1) !== 0,
      unidirectional: (r.flags & 2) !== 0,
    }));
}

export function spdySynReplyFrame(opts: SpdyArbitraryOptions = {}): fc.Arbitrary<SpdyFrameInputOf<'syn_reply'>> {
  return fc
    .record({ streamId: U31_NONZERO, flags: FLAGS, headers: spdyHeaders(opts) })
    .map((r) => ({ kind: 'syn_reply' as const, ...r, fin: (r.flags & 1) !== 0 }));
}

export function spdyHeadersFrame(opts: SpdyArbitraryOptions = {}): fc.Arbitrary<SpdyFrameInputOf<'headers'>> {
  return fc
    .record({ streamId: U31_NONZERO, flags: FLAGS, headers: spdyHeaders(opts) })
    .map((r) => ({ kind: 'headers' as const, ...r, fin: (r.flags & 1) !== 0 }));
}

export function spdyRstStreamFrame(): fc.Arbitrary<SpdyFrameInputOf<'rst_stream'>> {
  return fc
    .record({ streamId: U31_NONZERO, flags: FLAGS, status: fc.oneof(fc.integer({ min: 1, max: 11 }), fc.integer({ min: 1, max: 0xffffffff })) })
    .map((r) => ({ kind: 'rst_stream' as const, ...r }));
}

export function spdySettingsFrame(): fc.Arbitrary<SpdyFrameInputOf<'settings'>> {
  return fc
    .record({
      flags: FLAGS,
      entries: fc.array(
        fc.record({
          id: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 0xffffff })),
          flags: FLAGS,
          value: U32,
        }),
        { maxLength: 10 },
      ),
    })
    .map((r) => ({ kind: 'settings' as const, ...r, clearSettings: (r.flags & 1) !== 0 }));
}

export function spdyPingFrame(): fc.Arbitrary<SpdyFrameInputOf<'ping'>> {
  return fc.record({ flags: FLAGS, id: U32 }).map((r) => ({ kind: 'ping' as const, ...r }));
}

export function spdyGoawayFrame(): fc.Arbitrary<SpdyFrameInputOf<'goaway'>> {
  return fc
    .record({ flags: FLAGS, lastGoodStreamId: U31, status: fc.oneof(fc.integer({ min: 0, max: 2 }), U32) })
    .map((r) => ({ kind: 'goaway' as const, ...r }));
}

export function spdyWindowUpdateFrame(): fc.Arbitrary<SpdyFrameInputOf<'window_update'>> {
  return fc
    .record({ flags: FLAGS, streamId: U31, delta: U31_NONZERO })
    .map((r) => ({ kind: 'window_update' as const, ...r }));
}

/** Control frames of types the codec does not interpret (CREDENTIAL = 10 included), version 3. */
export function spdyUnknownFrame(opts: SpdyArbitraryOptions = {}): fc.Arbitrary<SpdyFrameInputOf<'unknown'>> {
  return fc
    .record({
      flags: FLAGS,
      type: fc.oneof(fc.constantFrom(0, 5, 10, 11), fc.integer({ min: 0, max: 0xffff })).filter((t) => !KNOWN_TYPES.has(t)),
      payload: payload(opts.maxPayload ?? 256),
    })
    .map((r) => ({ kind: 'unknown' as const, version: 3, ...r }));
}

/** Any frame kind, equally likely. */
export function spdyFrame(opts: SpdyArbitraryOptions = {}): fc.Arbitrary<SpdyFrameInput> {
  return fc.oneof(
    spdyDataFrame(opts),
    spdySynStreamFrame(opts),
    spdySynReplyFrame(opts),
    spdyHeadersFrame(opts),
    spdyRstStreamFrame(),
    spdySettingsFrame(),
    spdyPingFrame(),
    spdyGoawayFrame(),
    spdyWindowUpdateFrame(),
    spdyUnknownFrame(opts),
  ) as fc.Arbitrary<SpdyFrameInput>;
}

/** A sequence of frames, as one side of a session would send them. */
export function spdyFrames(opts: SpdyArbitraryOptions & { maxFrames?: number } = {}): fc.Arbitrary<SpdyFrameInput[]> {
  return fc.array(spdyFrame(opts), { maxLength: opts.maxFrames ?? 12 });
}
