import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SpdyFrameDecoder, SpdyFrameEncoder, type SpdyFrame } from '../../src/spdy/index.js';
import { chunkings } from '../../src/testing/chunking.js';
import {
  spdyDataFrame,
  spdyFrame,
  spdyFrames,
  spdyGoawayFrame,
  spdyHeaders,
  spdyHeadersFrame,
  spdyPingFrame,
  spdyRstStreamFrame,
  spdySettingsFrame,
  spdySynReplyFrame,
  spdySynStreamFrame,
  spdyUnknownFrame,
  spdyWindowUpdateFrame,
} from '../../src/testing/spdy-arbitraries.js';
import { comparable, decodeChunks, encodeAll } from './helpers.js';

const KINDS = {
  data: spdyDataFrame(),
  syn_stream: spdySynStreamFrame(),
  syn_reply: spdySynReplyFrame(),
  headers: spdyHeadersFrame(),
  rst_stream: spdyRstStreamFrame(),
  settings: spdySettingsFrame(),
  ping: spdyPingFrame(),
  goaway: spdyGoawayFrame(),
  window_update: spdyWindowUpdateFrame(),
  unknown: spdyUnknownFrame(),
};

describe('round trip of every frame type over full ranges', () => {
  for (const [kind, arb] of Object.entries(KINDS)) {
    it(kind, () => {
      // One encoder/decoder pair per run: header frames continue one context.
      const enc = new SpdyFrameEncoder();
      const dec = new SpdyFrameDecoder();
      let offset = 0;
      fc.assert(
        fc.property(arb, (frame) => {
          const bytes = enc.encode(frame);
          const events = dec.push(bytes);
          expect(events).toHaveLength(1);
          const got = events[0] as SpdyFrame;
          expect(got.kind).toBe(kind);
          expect(got.offset).toBe(offset);
          expect(comparable(got)).toEqual(comparable(frame));
          offset += bytes.length;
        }),
        { numRuns: 200 },
      );
    });
  }

  it('DATA at the 24-bit maximum length, and every length class', () => {
    const enc = new SpdyFrameEncoder();
    const dec = new SpdyFrameDecoder();
    for (const n of [0, 1, 8191, 65536, 0xffffff]) {
      const data = new Uint8Array(n).fill(0xa5);
      const events = dec.push(enc.encode({ kind: 'data', streamId: 0x7fffffff, fin: true, data }));
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ kind: 'data', streamId: 0x7fffffff, fin: true });
      expect((events[0] as Extract<SpdyFrame, { kind: 'data' }>).data.length).toBe(n);
    }
  });

  it('DATA payloads of a frame inside one chunk are views into it, not copies', () => {
    const bytes = encodeAll([{ kind: 'data', streamId: 1, data: new Uint8Array([1, 2, 3]) }]);
    const [f] = new SpdyFrameDecoder().push(bytes) as Array<Extract<SpdyFrame, { kind: 'data' }>>;
    expect(f!.data.buffer).toBe(bytes.buffer);
    expect(f!.data.byteOffset).toBe(bytes.byteOffset + 8);
    // Also from a Buffer living in Node's shared pool.
    const pooled = Buffer.from(bytes);
    const [g] = new SpdyFrameDecoder().push(pooled) as Array<Extract<SpdyFrame, { kind: 'data' }>>;
    expect(g!.data.buffer).toBe(pooled.buffer);
    expect(g!.data.byteOffset).toBe(pooled.byteOffset + 8);
    expect([...g!.data]).toEqual([1, 2, 3]);
  });
});

describe('chunking invariance', () => {
  it('every way of cutting the byte stream gives the same frames', () => {
    fc.assert(
      fc.property(
        spdyFrames({ maxFrames: 10, maxPayload: 100 }).chain((frames) => {
          const bytes = encodeAll(frames);
          return fc.tuple(fc.constant(frames), fc.constant(bytes), chunkings(bytes));
        }),
        ([frames, bytes, chunks]) => {
          const whole = decodeChunks([bytes]).map(comparable);
          expect(whole).toEqual(frames.map(comparable));
          const cut = decodeChunks(chunks);
          expect(cut.map(comparable)).toEqual(whole);
          // Offsets too.
          const offsets = decodeChunks([bytes]).map((f) => (f as SpdyFrame).offset);
          expect(cut.map((f) => (f as SpdyFrame).offset)).toEqual(offsets);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('offsets start at baseOffset', () => {
    const bytes = encodeAll([{ kind: 'ping', id: 1 }, { kind: 'ping', id: 3 }]);
    const dec = new SpdyFrameDecoder({ baseOffset: 1000 });
    expect(dec.push(bytes).map((f) => (f as SpdyFrame).offset)).toEqual([1000, 1012]);
    expect(dec.offset).toBe(1024);
  });
});

describe('header compression context', () => {
  it('round-trips 1,000+ header blocks through one shared context each way', () => {
    fc.assert(
      fc.property(fc.array(spdyHeaders({ maxHeaders: 6 }), { minLength: 1000, maxLength: 1100 }), fc.integer({ min: 0, max: 9 }), (blocks, level) => {
        const enc = new SpdyFrameEncoder({ compressionLevel: level });
        const dec = new SpdyFrameDecoder();
        let id = 1;
        for (const headers of blocks) {
          const kind = id % 3 === 0 ? 'headers' : id % 3 === 1 ? 'syn_stream' : 'syn_reply';
          const [f] = dec.push(enc.encode({ kind, streamId: id, headers }));
          expect(f).toMatchObject({ kind, streamId: id });
          expect((f as Extract<SpdyFrame, { kind: 'headers' }>).headers).toEqual(headers);
          id += 2;
        }
      }),
      { numRuns: 3 },
    );
  });

  it('later blocks refer back into earlier ones (the context is really shared)', () => {
    const enc = new SpdyFrameEncoder();
    const headers: Array<[string, string]> = [['x-long-name', 'a value that is long enough to be worth a back reference']];
    const first = enc.encode({ kind: 'headers', streamId: 1, headers });
    const second = enc.encode({ kind: 'headers', streamId: 1, headers });
    expect(second.length).toBeLessThan(first.length - 20);
    // A decoder that never saw the first block cannot read the second.
    const fresh = new SpdyFrameDecoder({ mode: 'inspect' });
    const events = fresh.push(second);
    expect(events.some((e) => e.kind === 'diagnostic')).toBe(true);
  });

  it('any frame mix encodes and decodes with every compression level', () => {
    fc.assert(
      fc.property(spdyFrames({ maxFrames: 8 }), fc.integer({ min: 0, max: 9 }), (frames, level) => {
        expect(decodeChunks([encodeAll(frames, level)]).map(comparable)).toEqual(frames.map(comparable));
      }),
      { numRuns: 60 },
    );
  });
});

it('spdyFrame arbitrary covers every kind', () => {
  const seen = new Set(fc.sample(spdyFrame(), 400).map((f) => f.kind));
  expect([...seen].sort()).toEqual(Object.keys(KINDS).sort());
});
