import { describe, expect, it } from 'vitest';
import { KubewireError } from '../../src/common/errors.js';
import { SPDY3_DICTIONARY, SpdyFrameDecoder, SpdyFrameEncoder, type SpdyDecodeEvent, type SpdyFrame } from '../../src/spdy/index.js';
import { SyncDeflater } from '../../src/spdy/zlib-sync.js';
import { concatBytes } from '../../src/testing/chunking.js';
import { diagnostics, encodeAll, framesOnly, hex } from './helpers.js';

function thrown(fn: () => unknown): KubewireError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KubewireError);
    return e as KubewireError;
  }
  throw new Error('expected a KubewireError');
}

/** A SYN_STREAM whose header block (first of its context) is `raw` compressed with the SPDY dictionary. */
function synStreamWithRawBlock(raw: Uint8Array, streamId = 1): Uint8Array {
  const { frame, length } = new SyncDeflater(SPDY3_DICTIONARY, 9).compress(raw, raw.length, 18);
  frame.set(hex('80030001'), 0);
  frame.set([0, (length + 10) >>> 16, ((length + 10) >>> 8) & 0xff, (length + 10) & 0xff], 4);
  frame.set([0, 0, 0, streamId, 0, 0, 0, 0, 0, 0], 8);
  return frame;
}

describe('limits', () => {
  it('rejects a frame longer than maxFrameLength before buffering its body', () => {
    const header = hex('00000001 00100000'); // DATA, 1 MiB announced
    const e = thrown(() => new SpdyFrameDecoder({ limits: { maxFrameLength: 65536 }, direction: 'serverToClient' }).push(header));
    expect(e).toMatchObject({ code: 'SPDY_FRAME_TOO_LARGE', scope: 'session', offset: 0, direction: 'serverToClient', streamId: 1 });
  });

  it('inspect mode skips the oversized frame by its length and decodes what follows', () => {
    const big = concatBytes([hex('00000001 00000100'), new Uint8Array(256)]);
    const bytes = concatBytes([big, encodeAll([{ kind: 'ping', id: 7 }])]);
    for (const chunks of [[bytes], Array.from(bytes, (_, i) => bytes.subarray(i, i + 1))]) {
      const dec = new SpdyFrameDecoder({ mode: 'inspect', limits: { maxFrameLength: 100 } });
      const events = chunks.flatMap((c) => dec.push(c));
      expect(diagnostics(events)).toEqual(['SPDY_FRAME_TOO_LARGE']);
      expect(framesOnly(events)).toMatchObject([{ kind: 'ping', id: 7, offset: 264 }]);
    }
  });

  it('a decompression bomb gives a typed error, not memory exhaustion', () => {
    // 64 MiB of zeros as one header block: a few dozen KiB compressed.
    const bomb = synStreamWithRawBlock(new Uint8Array(64 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(200_000);
    const before = process.memoryUsage().arrayBuffers;
    const e = thrown(() => new SpdyFrameDecoder().push(bomb));
    expect(e.code).toBe('SPDY_HEADER_BLOCK_TOO_LARGE');
    expect(e.scope).toBe('stream');
    // Far less than the 64 MiB the block expands to was held at once.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
  });

  it('inspect mode: a bomb over the total budget loses the context, the session continues', () => {
    const bomb = synStreamWithRawBlock(new Uint8Array(8 * 1024 * 1024));
    const dec = new SpdyFrameDecoder({ mode: 'inspect', limits: { maxHeaderBlockInflated: 4096, maxInflatedTotal: 1024 * 1024 } });
    const events = dec.push(concatBytes([bomb, hex('00000003 00000002 6869')]));
    expect(diagnostics(events)).toEqual(['SPDY_HEADER_INFLATE_LIMIT']);
    expect(framesOnly(events)).toMatchObject([
      { kind: 'syn_stream', streamId: 1, headers: null },
      { kind: 'data', streamId: 3 },
    ]);
  });

  it('an over-long block within the total budget is a stream error; the next block still inflates', () => {
    const enc = new SpdyFrameEncoder();
    const bytes = concatBytes([
      enc.encode({ kind: 'syn_stream', streamId: 1, headers: [['big', 'x'.repeat(5000)]] }),
      enc.encode({ kind: 'syn_stream', streamId: 3, headers: [['streamtype', 'stdout']] }),
    ]);
    const events = new SpdyFrameDecoder({ mode: 'inspect', limits: { maxHeaderBlockInflated: 1000 } }).push(bytes);
    expect(events.map((e) => (e.kind === 'diagnostic' ? [e.error.code, e.error.scope, e.error.streamId] : [e.kind, (e as { headers?: unknown }).headers]))).toEqual([
      ['SPDY_HEADER_BLOCK_TOO_LARGE', 'stream', 1],
      ['syn_stream', null],
      ['syn_stream', [['streamtype', 'stdout']]],
    ]);
  });

  it('an absurd header count is rejected before allocating for it', () => {
    const raw = hex('7fffffff 00000001 61 00000001 62');
    const e = thrown(() => new SpdyFrameDecoder().push(synStreamWithRawBlock(raw)));
    expect(e).toMatchObject({ code: 'SPDY_TOO_MANY_HEADERS', scope: 'stream', streamId: 1 });
    const e2 = thrown(() => new SpdyFrameDecoder({ limits: { maxHeaderCount: 0x7fffffff } }).push(synStreamWithRawBlock(raw)));
    expect(e2.code).toBe('SPDY_HEADER_BLOCK_MALFORMED');
  });

  it('maxHeaderCount is per block', () => {
    const enc = new SpdyFrameEncoder();
    const headers: Array<[string, string]> = Array.from({ length: 5 }, (_, i) => [`h${i}`, 'v']);
    const bytes = enc.encode({ kind: 'headers', streamId: 1, headers });
    expect(() => new SpdyFrameDecoder({ limits: { maxHeaderCount: 4 } }).push(bytes)).toThrow(/5 pairs/);
    expect(framesOnly(new SpdyFrameDecoder({ limits: { maxHeaderCount: 5 } }).push(bytes))).toHaveLength(1);
  });
});

describe('malformed frames', () => {
  const cases: Array<[string, string, string]> = [
    ['RST_STREAM of length 4', '80030003 00000004 00000001', 'SPDY_INVALID_FRAME_LENGTH'],
    ['PING of length 8', '80030006 00000008 00000001 00000002', 'SPDY_INVALID_FRAME_LENGTH'],
    ['GOAWAY of length 4 (SPDY/2 layout)', '80030007 00000004 00000001', 'SPDY_INVALID_FRAME_LENGTH'],
    ['WINDOW_UPDATE of length 4', '80030009 00000004 00000001', 'SPDY_INVALID_FRAME_LENGTH'],
    ['SETTINGS whose count does not match its length', '80030004 0000000c 00000002 01000004 00000064', 'SPDY_INVALID_FRAME_LENGTH'],
    ['SETTINGS without a count', '80030004 00000000', 'SPDY_INVALID_FRAME_LENGTH'],
    ['SYN_STREAM shorter than its fixed fields', '80030001 00000004 00000001', 'SPDY_INVALID_FRAME_LENGTH'],
    ['SYN_REPLY shorter than its fixed fields', '80030002 00000002 0000', 'SPDY_INVALID_FRAME_LENGTH'],
  ];
  for (const [name, bytes, code] of cases) {
    it(`${name}: strict throws ${code}; inspect reports and goes on`, () => {
      expect(thrown(() => new SpdyFrameDecoder().push(hex(bytes))).code).toBe(code);
      const events = new SpdyFrameDecoder({ mode: 'inspect' }).push(concatBytes([hex(bytes), hex('80030006 00000004 00000009')]));
      expect(diagnostics(events)).toEqual([code]);
      expect(framesOnly(events)).toMatchObject([{ kind: 'ping', id: 9 }]);
    });
  }

  it('stream id 0 where a stream is required is reported, the frame kept in inspect mode', () => {
    const events = new SpdyFrameDecoder({ mode: 'inspect' }).push(hex('00000000 00000001 ff 80030003 00000008 00000000 00000005'));
    expect(diagnostics(events)).toEqual(['SPDY_INVALID_STREAM_ID', 'SPDY_INVALID_STREAM_ID']);
    expect(framesOnly(events).map((f) => f.kind)).toEqual(['data', 'rst_stream']);
  });

  it('RST_STREAM status 0 and WINDOW_UPDATE delta 0 are reported', () => {
    expect(thrown(() => new SpdyFrameDecoder().push(hex('80030003 00000008 00000001 00000000'))).code).toBe('SPDY_INVALID_RST_STATUS');
    const e = thrown(() => new SpdyFrameDecoder().push(hex('80030009 00000008 00000003 00000000')));
    expect(e).toMatchObject({ code: 'SPDY_INVALID_WINDOW_DELTA', scope: 'stream', streamId: 3 });
  });

  it('unknown control types (NOOP 5, CREDENTIAL 10, 0xf000) decode as unknown frames, no error', () => {
    const events = new SpdyFrameDecoder().push(hex('80030005 00000000 8003000a 00000002 0001 8003f000 01000001 ff'));
    expect(events).toMatchObject([
      { kind: 'unknown', type: 5, version: 3 },
      { kind: 'unknown', type: 10 },
      { kind: 'unknown', type: 0xf000, flags: 1 },
    ]);
  });

  it('an empty header name is a stream error', () => {
    const raw = hex('00000001 00000000 00000001 62');
    const events = new SpdyFrameDecoder({ mode: 'inspect' }).push(synStreamWithRawBlock(raw));
    expect(diagnostics(events)).toEqual(['SPDY_EMPTY_HEADER_NAME']);
    expect(framesOnly(events)).toMatchObject([{ kind: 'syn_stream', headers: [['', 'b']] }]);
  });

  it('a corrupt header block loses the context once; other frames keep decoding', () => {
    const enc = new SpdyFrameEncoder();
    const good = enc.encode({ kind: 'syn_stream', streamId: 1, headers: [['streamtype', 'error']] });
    const bad = hex('80030002 00000008 00000001 ffffffff');
    const later = enc.encode({ kind: 'syn_stream', streamId: 3, headers: [['streamtype', 'stdin']] });
    const events = new SpdyFrameDecoder({ mode: 'inspect' }).push(concatBytes([good, bad, later, hex('00000001 00000001 61')]));
    expect(diagnostics(events)).toEqual(['SPDY_HEADER_INFLATE_FAILED']);
    expect(framesOnly(events).map((f) => [f.kind, 'headers' in f ? f.headers : 'n/a'])).toEqual([
      ['syn_stream', [['streamtype', 'error']]],
      ['syn_reply', null],
      ['syn_stream', null],
      ['data', 'n/a'],
    ]);
  });

  it('strict mode stays failed after the first error', () => {
    const dec = new SpdyFrameDecoder();
    const e = thrown(() => dec.push(hex('80030006 00000008 00000001 00000002')));
    expect(thrown(() => dec.push(hex('80030006 00000004 00000001')))).toBe(e);
  });

  it('end() inside a frame is reported with the offset of that frame', () => {
    const dec = new SpdyFrameDecoder({ mode: 'inspect' });
    expect(dec.push(hex('80030006 00000004 00000001 000000'))).toHaveLength(1);
    const events = dec.end();
    expect(events).toMatchObject([{ kind: 'diagnostic', error: { code: 'SPDY_TRUNCATED_FRAME', offset: 12 } }]);
    const strict = new SpdyFrameDecoder();
    expect(strict.push(hex('0000'))).toEqual([]);
    expect(thrown(() => strict.end()).code).toBe('SPDY_TRUNCATED_FRAME');
  });
});

describe('mid-session joins and lost bytes', () => {
  function session(): Uint8Array {
    const enc = new SpdyFrameEncoder();
    return concatBytes([
      enc.encode({ kind: 'syn_stream', streamId: 1, headers: [['streamtype', 'error']] }),
      enc.encode({ kind: 'syn_stream', streamId: 3, headers: [['streamtype', 'stdout']] }),
      enc.encode({ kind: 'data', streamId: 3, data: new Uint8Array(300).fill(7) }),
      enc.encode({ kind: 'syn_stream', streamId: 5, headers: [['streamtype', 'stderr']] }),
      enc.encode({ kind: 'headers', streamId: 5, headers: [['x', 'y']] }),
      enc.encode({ kind: 'data', streamId: 5, fin: true, data: new Uint8Array(10) }),
      enc.encode({ kind: 'ping', id: 1 }),
    ]);
  }

  it("headerContext 'unknown': DATA decodes, header blocks give null and ONE diagnostic for the direction", () => {
    const events = new SpdyFrameDecoder({ mode: 'inspect', headerContext: 'unknown', direction: 'clientToServer' }).push(session());
    expect(diagnostics(events)).toEqual(['SPDY_HEADER_CONTEXT_UNKNOWN']);
    expect(events[0]).toMatchObject({ kind: 'diagnostic', error: { direction: 'clientToServer', scope: 'session' } });
    const frames = framesOnly(events);
    expect(frames.map((f) => f.kind)).toEqual(['syn_stream', 'syn_stream', 'data', 'syn_stream', 'headers', 'data', 'ping']);
    for (const f of frames) if ('headers' in f) expect(f.headers).toBeNull();
    expect(frames.filter((f) => f.kind === 'data').map((f) => (f as { data: Uint8Array }).data.length)).toEqual([300, 10]);
  });

  it("headerContext 'unknown' in strict mode throws on the first header block", () => {
    expect(thrown(() => new SpdyFrameDecoder({ headerContext: 'unknown' }).push(session())).code).toBe('SPDY_HEADER_CONTEXT_UNKNOWN');
  });

  it('a gap inside a DATA frame drops that frame and keeps framing and the header context', () => {
    const bytes = session();
    const all = framesOnly(new SpdyFrameDecoder().push(bytes));
    const data = all.find((f) => f.kind === 'data')!;
    const cut = data.offset! + 100;
    const dec = new SpdyFrameDecoder({ mode: 'inspect' });
    const events = [...dec.push(bytes.subarray(0, cut)), ...dec.gap(50), ...dec.push(bytes.subarray(cut + 50))];
    expect(diagnostics(events)).toEqual(['SPDY_GAP']);
    const frames = framesOnly(events);
    expect(frames.map((f) => f.kind)).toEqual(['syn_stream', 'syn_stream', 'syn_stream', 'headers', 'data', 'ping']);
    expect(frames[2]).toMatchObject({ headers: [['streamtype', 'stderr']] });
    expect(frames.map((f) => f.offset)).toEqual(all.filter((f) => f !== data).map((f) => f.offset));
    expect(dec.offset).toBe(bytes.length);
  });

  it('a gap across frame boundaries resynchronises on the next plausible header; headers unknown from then on', () => {
    const bytes = session();
    const all = framesOnly(new SpdyFrameDecoder().push(bytes));
    const third = all[3]!; // SYN_STREAM 5
    const from = all[1]!.offset! + 4;
    const to = third.offset! - 3; // lose the end of SYN_STREAM 3 and the DATA header
    for (const step of [1, 7, bytes.length]) {
      const dec = new SpdyFrameDecoder({ mode: 'inspect' });
      const events: SpdyDecodeEvent[] = [...dec.push(bytes.subarray(0, from)), ...dec.gap(to - from)];
      for (let p = to; p < bytes.length; p += step) events.push(...dec.push(bytes.subarray(p, Math.min(bytes.length, p + step))));
      events.push(...dec.end());
      const codes = diagnostics(events);
      expect(codes[0]).toBe('SPDY_GAP');
      expect(codes).toContain('SPDY_HEADER_CONTEXT_UNKNOWN');
      const frames = framesOnly(events);
      expect(frames[0]).toMatchObject({ kind: 'syn_stream', streamId: 1, headers: [['streamtype', 'error']] });
      // After resync: the later frames, at their true offsets, header blocks not inflated.
      const later = frames.slice(1);
      expect(later.map((f) => [f.kind, f.offset])).toEqual(all.slice(3).map((f) => [f.kind, f.offset]));
      expect(later[0]).toMatchObject({ headers: null });
    }
  });

  it('strict mode cannot lose bytes', () => {
    expect(thrown(() => new SpdyFrameDecoder().gap(10)).code).toBe('SPDY_GAP');
  });

  it('a gap inside an oversized frame being skipped keeps framing', () => {
    const dec = new SpdyFrameDecoder({ mode: 'inspect', limits: { maxFrameLength: 10 } });
    const events = [
      ...dec.push(hex('00000001 00000040')),
      ...dec.push(new Uint8Array(20)),
      ...dec.gap(30),
      ...dec.push(new Uint8Array(14)),
      ...dec.push(hex('80030006 00000004 00000003')),
    ];
    expect(diagnostics(events)).toEqual(['SPDY_FRAME_TOO_LARGE', 'SPDY_GAP']);
    expect(framesOnly(events)).toMatchObject([{ kind: 'ping', id: 3, offset: 72 }]);
  });
});

it('frames carry views; a frame split over chunks is copied once and complete', () => {
  const bytes = encodeAll([{ kind: 'data', streamId: 9, data: new Uint8Array([1, 2, 3, 4, 5]) }]);
  const dec = new SpdyFrameDecoder();
  expect(dec.push(bytes.subarray(0, 10))).toEqual([]);
  const [f] = dec.push(bytes.subarray(10)) as SpdyFrame[];
  expect(f).toMatchObject({ kind: 'data', streamId: 9, offset: 0 });
  expect([...(f as { data: Uint8Array }).data]).toEqual([1, 2, 3, 4, 5]);
});
