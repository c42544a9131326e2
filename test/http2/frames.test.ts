/**
 * The HTTP/2 frame decoder: golden frames, header blocks across
 * CONTINUATIONs, any chunking, and garbage (typed errors only, never a hang).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { KubewireError } from '../../src/common/errors.js';
import { CLIENT_PREFACE_BYTES, FLAG, FRAME_TYPE, Http2FrameDecoder, type Http2DecodeEvent } from '../../src/http2/index.js';

function frame(type: number, flags: number, streamId: number, payload: Uint8Array | number[] = []): Uint8Array {
  const p = Uint8Array.from(payload);
  const out = new Uint8Array(9 + p.length);
  out[0] = p.length >> 16;
  out[1] = (p.length >> 8) & 0xff;
  out[2] = p.length & 0xff;
  out[3] = type;
  out[4] = flags;
  new DataView(out.buffer).setUint32(5, streamId);
  out.set(p, 9);
  return out;
}

const cat = (...parts: Uint8Array[]) => Uint8Array.from(Buffer.concat(parts));

/** A client's opening: preface, SETTINGS, a request whose header block spans HEADERS + CONTINUATION, padded DATA. */
function clientBytes(): Uint8Array {
  return cat(
    CLIENT_PREFACE_BYTES,
    frame(FRAME_TYPE.SETTINGS, 0, 0, [0, 1, 0, 0, 0x10, 0, 0, 4, 0, 0x60, 0, 0]),
    frame(FRAME_TYPE.WINDOW_UPDATE, 0, 0, [0, 0x0f, 0, 1]),
    // HEADERS with PRIORITY and padding: pad length 2, 5 priority bytes, fragment 82 86, 2 bytes padding
    frame(FRAME_TYPE.HEADERS, FLAG.PADDED | FLAG.PRIORITY, 1, [2, 0, 0, 0, 0, 15, 0x82, 0x86, 0, 0]),
    frame(FRAME_TYPE.CONTINUATION, FLAG.END_HEADERS, 1, [0x84]),
    frame(FRAME_TYPE.DATA, FLAG.PADDED | FLAG.END_STREAM, 1, [3, 104, 105, 0, 0, 0]),
    frame(FRAME_TYPE.PING, 0, 0, [1, 2, 3, 4, 5, 6, 7, 8]),
    frame(0xbb, 0x5, 3, [9, 9]),
    frame(FRAME_TYPE.RST_STREAM, 0, 1, [0, 0, 0, 8]),
    frame(FRAME_TYPE.GOAWAY, 0, 0, [0, 0, 0, 1, 0, 0, 0, 0, 0x6f, 0x6b]),
  );
}

/** Events as plain values (payload views become arrays). */
function plain(events: Http2DecodeEvent[]): unknown[] {
  return events.map((e) => {
    if (e.kind === 'diagnostic') return { kind: 'diagnostic', code: e.error.code, offset: e.error.offset };
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(e)) o[k] = v instanceof Uint8Array ? [...v] : v;
    return o;
  });
}

function decodeChunks(chunks: Uint8Array[], mode: 'strict' | 'inspect' = 'inspect'): Http2DecodeEvent[] {
  const d = new Http2FrameDecoder({ mode, expectPreface: true });
  const out: Http2DecodeEvent[] = [];
  for (const c of chunks) out.push(...d.push(c));
  out.push(...d.end());
  return out;
}

describe('golden frames', () => {
  it('decodes a client opening: preface, settings, a header block across CONTINUATION, padded DATA, unknown types', () => {
    expect(plain(decodeChunks([clientBytes()]))).toEqual([
      { kind: 'preface', offset: 0 },
      { kind: 'settings', streamId: 0, flags: 0, length: 12, offset: 24, ack: false, entries: [{ id: 1, value: 4096 }, { id: 4, value: 6291456 }] },
      { kind: 'window_update', streamId: 0, flags: 0, length: 4, offset: 45, increment: 983041 },
      { kind: 'headers', streamId: 1, flags: 0x28, length: 10, offset: 58, endStream: false, headerBlock: [0x82, 0x86, 0x84], continuations: 1 },
      { kind: 'data', streamId: 1, flags: 0x9, length: 6, offset: 87, endStream: true, data: [104, 105] },
      { kind: 'ping', streamId: 0, flags: 0, length: 8, offset: 102, ack: false, opaque: [1, 2, 3, 4, 5, 6, 7, 8] },
      { kind: 'unknown', streamId: 3, flags: 5, length: 2, offset: 119, type: 0xbb, payload: [9, 9] },
      { kind: 'rst_stream', streamId: 1, flags: 0, length: 4, offset: 130, errorCode: 8 },
      { kind: 'goaway', streamId: 0, flags: 0, length: 10, offset: 143, lastStreamId: 1, errorCode: 0, debug: [0x6f, 0x6b] },
    ]);
  });

  it('reports malformed frames and goes on; a lost boundary stops the direction', () => {
    const bytes = cat(
      CLIENT_PREFACE_BYTES,
      frame(FRAME_TYPE.PING, 0, 0, [1, 2, 3]), // wrong size: skipped
      frame(FRAME_TYPE.DATA, 0, 0, [1]), // stream 0: skipped
      frame(FRAME_TYPE.SETTINGS, FLAG.ACK, 0),
      frame(FRAME_TYPE.HEADERS, 0, 1, [0x82]), // no END_HEADERS
      frame(FRAME_TYPE.DATA, 0, 1, [1]), // not a CONTINUATION: fatal
      frame(FRAME_TYPE.PING, 0, 0, [1, 2, 3, 4, 5, 6, 7, 8]),
    );
    expect(plain(decodeChunks([bytes])).map((e) => (e as { kind: string; code?: string }).code ?? (e as { kind: string }).kind)).toEqual([
      'preface',
      'HTTP2_FRAME_SIZE',
      'HTTP2_STREAM_ID',
      'settings',
      'HTTP2_EXPECTED_CONTINUATION',
    ]);
    expect(() => decodeChunks([bytes], 'strict')).toThrow(KubewireError);
  });

  it('a bad preface, an oversized frame, a gap and a cut frame are errors with their offsets', () => {
    expect(plain(decodeChunks([Uint8Array.from(Buffer.from('GET / HTTP/1.1\r\n'))]))).toEqual([{ kind: 'diagnostic', code: 'HTTP2_BAD_PREFACE', offset: 0 }]);
    const big = new Http2FrameDecoder({ mode: 'inspect', maxFrameSize: 16384, baseOffset: 100 });
    expect(plain(big.push(frame(0, 0, 1, new Uint8Array(16385))))).toEqual([{ kind: 'diagnostic', code: 'HTTP2_FRAME_TOO_LARGE', offset: 100 }]);
    const gap = new Http2FrameDecoder({ mode: 'inspect' });
    expect(plain(gap.gap(10))).toEqual([{ kind: 'diagnostic', code: 'HTTP2_GAP', offset: 0 }]);
    expect(gap.push(frame(FRAME_TYPE.PING, 0, 0, new Uint8Array(8)))).toEqual([]);
    const cut = new Http2FrameDecoder({ mode: 'inspect' });
    cut.push(frame(FRAME_TYPE.PING, 0, 0, new Uint8Array(8)).subarray(0, 12));
    expect(plain(cut.end())).toEqual([{ kind: 'diagnostic', code: 'HTTP2_TRUNCATED', offset: 0 }]);
  });
});

describe('properties', () => {
  it('any chunking gives the same events', () => {
    const bytes = clientBytes();
    const whole = plain(decodeChunks([bytes]));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 12 }), (cuts) => {
        const at = [...new Set(cuts)].sort((a, b) => a - b);
        const chunks: Uint8Array[] = [];
        let prev = 0;
        for (const c of [...at, bytes.length]) {
          chunks.push(bytes.slice(prev, c));
          prev = c;
        }
        expect(plain(decodeChunks(chunks))).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });

  it('garbage: inspect mode never throws, strict mode throws only KubewireError, and both end', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 8 }), fc.boolean(), (chunks, preface) => {
        const withPreface = preface ? [CLIENT_PREFACE_BYTES, ...chunks] : chunks;
        const events = decodeChunks(withPreface, 'inspect');
        for (const e of events) if (e.kind === 'diagnostic') expect(e.error.code).toMatch(/^HTTP2_/);
        try {
          decodeChunks(withPreface, 'strict');
        } catch (e) {
          expect(e).toBeInstanceOf(KubewireError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
