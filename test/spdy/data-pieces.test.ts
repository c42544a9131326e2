/**
 * The decoder's `dataPieces` option: DATA frames that straddle chunks come
 * out in pieces (views into the chunks), every other frame as before.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SpdyFrameDecoder, type DataFrame, type SpdyDecodeEvent } from '../../src/spdy/index.js';
import { chunkings, concatBytes, splitAt } from '../../src/testing/chunking.js';
import { spdyFrames } from '../../src/testing/spdy-arbitraries.js';
import { comparable, decodeChunks, encodeAll, toHex } from './helpers.js';

/** Join the pieces of each DATA frame back into one frame, as the default decoder gives it. */
function joinPieces(events: readonly SpdyDecodeEvent[]): SpdyDecodeEvent[] {
  const out: SpdyDecodeEvent[] = [];
  let parts: DataFrame[] = [];
  for (const ev of events) {
    if (ev.kind !== 'data' || ev.more === undefined) {
      // a frame in pieces is never interrupted by another frame
      expect(parts).toHaveLength(0);
      out.push(ev);
      continue;
    }
    for (const p of parts) {
      expect(p.offset).toBe(ev.offset);
      expect(p.streamId).toBe(ev.streamId);
      expect(p.flags).toBe(ev.flags);
      expect(p.fin).toBe(false);
      expect(p.data.length).toBeGreaterThan(0);
    }
    parts.push(ev);
    if (ev.more) continue;
    const { more: _more, ...last } = ev;
    out.push({ ...last, data: concatBytes(parts.map((p) => p.data)) });
    parts = [];
  }
  expect(parts).toHaveLength(0);
  return out;
}

describe('SpdyFrameDecoder dataPieces', () => {
  it('hands a DATA frame split over three chunks on as three views, FIN on the last only', () => {
    const wire = encodeAll([{ kind: 'data', streamId: 3, fin: true, data: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) }]);
    // header + 2 body bytes | 5 body bytes | 3 body bytes
    const chunks = splitAt(wire, [10, 15]);
    const dec = new SpdyFrameDecoder({ dataPieces: true });
    const a = dec.push(chunks[0]!) as DataFrame[];
    const b = dec.push(chunks[1]!) as DataFrame[];
    const c = dec.push(chunks[2]!) as DataFrame[];
    expect(dec.end()).toEqual([]);
    expect([a, b, c].map((x) => x.map((f) => [toHex(f.data), f.more, f.fin, f.offset]))).toEqual([
      [['0102', true, false, 0]],
      [['0304050607', true, false, 0]],
      [['08090a', false, true, 0]],
    ]);
    // views, not copies
    expect(a[0]!.data.buffer).toBe(chunks[0]!.buffer);
    expect(c[0]!.data.buffer).toBe(chunks[2]!.buffer);
  });

  it('leaves whole frames and control frames as they are, and asks the function per stream', () => {
    const wire = encodeAll([
      { kind: 'data', streamId: 1, fin: false, data: new Uint8Array(20).fill(1) },
      { kind: 'data', streamId: 3, fin: false, data: new Uint8Array(20).fill(3) },
      { kind: 'ping', id: 7 },
    ]);
    const asked: number[] = [];
    const dec = new SpdyFrameDecoder({ dataPieces: (id) => (asked.push(id), id === 3) });
    // both DATA frames straddle the cut; the ping is whole
    const events = [...dec.push(wire.subarray(0, 18)), ...dec.push(wire.subarray(18, 46)), ...dec.push(wire.subarray(46))];
    expect(asked).toEqual([1, 3]);
    expect(events.map((e) => [e.kind, e.kind === 'data' ? [e.streamId, e.data.length, e.more] : null])).toEqual([
      ['data', [1, 20, undefined]],
      ['data', [3, 10, true]],
      ['data', [3, 10, false]],
      ['ping', null],
    ]);
  });

  it('says in the diagnostic how much of a frame cut by a gap or the end went out already', () => {
    const wire = encodeAll([{ kind: 'data', streamId: 1, fin: false, data: new Uint8Array(100) }]);
    const gapDec = new SpdyFrameDecoder({ mode: 'inspect', dataPieces: true });
    expect(gapDec.push(wire.subarray(0, 30))).toHaveLength(1);
    const g = gapDec.gap(10);
    expect(g.map((e) => (e.kind === 'diagnostic' ? e.error.message : e.kind))).toEqual([
      '10 bytes lost inside a DATA frame, which is dropped (22 bytes of it delivered in pieces already) (stream 1, offset 0)',
    ]);
    // the rest of the cut frame is skipped, the framing stays in step
    expect(gapDec.push(wire.subarray(40))).toEqual([]);

    const endDec = new SpdyFrameDecoder({ mode: 'inspect', dataPieces: true });
    endDec.push(wire.subarray(0, 50));
    expect(endDec.pendingFrame()).toMatchObject({ offset: 0, have: 50, need: 108 });
    const e = endDec.end();
    expect(e.map((x) => (x.kind === 'diagnostic' ? x.error.message : x.kind))).toEqual([
      'input ended inside a frame (42 of 100 body bytes, delivered in pieces already) (offset 0)',
    ]);

    // only the header arrived: nothing went out, and the message does not say it did
    const headerOnly = new SpdyFrameDecoder({ mode: 'inspect', dataPieces: true });
    headerOnly.push(wire.subarray(0, 8));
    expect(headerOnly.end().map((x) => (x.kind === 'diagnostic' ? x.error.message : x.kind))).toEqual(['input ended inside a frame (0 of 100 body bytes) (offset 0)']);
    const headerThenGap = new SpdyFrameDecoder({ mode: 'inspect', dataPieces: true });
    headerThenGap.push(wire.subarray(0, 8));
    expect(headerThenGap.gap(10).map((x) => (x.kind === 'diagnostic' ? x.error.message : x.kind))).toEqual([
      '10 bytes lost inside a DATA frame, which is dropped (stream 1, offset 0)',
    ]);
  });

  it('any chunking gives the frames of the default decoder, once the pieces are joined', () => {
    fc.assert(
      fc.property(
        spdyFrames({ maxFrames: 12, maxPayload: 200 }).chain((frames) => {
          const wire = encodeAll(frames);
          return fc.tuple(fc.constant(wire), chunkings(wire, 24));
        }),
        ([wire, chunks]) => {
          const whole = decodeChunks([wire]);
          const pieces = decodeChunks(chunks, { dataPieces: true });
          expect(joinPieces(pieces).map(comparable)).toEqual(whole.map(comparable));
          // the same bytes per stream, piece by piece
          const bytesOf = (evs: SpdyDecodeEvent[]) => {
            const m = new Map<number, Uint8Array[]>();
            for (const ev of evs) if (ev.kind === 'data') (m.get(ev.streamId) ?? m.set(ev.streamId, []).get(ev.streamId)!).push(ev.data);
            return [...m].map(([id, parts]) => [id, toHex(concatBytes(parts))]);
          };
          expect(bytesOf(pieces)).toEqual(bytesOf(whole));
        },
      ),
      { numRuns: 300 },
    );
  });
});
