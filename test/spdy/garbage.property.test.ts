/**
 * Bad input: random bytes, mutated valid sessions and lost bytes. Strict mode
 * may throw, but only our typed error; inspect mode never throws on wire
 * input. Every run is bounded (a hang fails the test by its timeout).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KubewireError } from '../../src/common/errors.js';
import { SpdyFrameDecoder, type SpdyDecodeEvent, type SpdyFrameDecoderOptions } from '../../src/spdy/index.js';
import { chunkings, splitAt } from '../../src/testing/chunking.js';
import { spdyFrames } from '../../src/testing/spdy-arbitraries.js';
import { encodeAll } from './helpers.js';

const limitsArb = fc.oneof(
  fc.constant({}),
  fc.record({
    maxFrameLength: fc.integer({ min: 0, max: 300 }),
    maxHeaderBlockInflated: fc.integer({ min: 0, max: 200 }),
    maxInflatedTotal: fc.integer({ min: 0, max: 2000 }),
    maxHeaderCount: fc.integer({ min: 0, max: 4 }),
  }),
);

function runStrict(chunks: readonly Uint8Array[], opts: SpdyFrameDecoderOptions): void {
  const dec = new SpdyFrameDecoder({ ...opts, mode: 'strict' });
  try {
    for (const c of chunks) dec.push(c);
    dec.end();
  } catch (e) {
    if (!(e instanceof KubewireError)) throw e;
    expect(e.layer).toBe('spdy');
    expect(e.code).toMatch(/^SPDY_[A-Z_]+$/);
    expect(typeof e.offset).toBe('number');
  }
}

function runInspect(chunks: readonly Uint8Array[], opts: SpdyFrameDecoderOptions): SpdyDecodeEvent[] {
  const dec = new SpdyFrameDecoder({ ...opts, mode: 'inspect' });
  const events: SpdyDecodeEvent[] = [];
  for (const c of chunks) events.push(...dec.push(c));
  events.push(...dec.end());
  return events;
}

/** Offsets never go backwards, and stay inside the input. */
function checkOffsets(events: readonly SpdyDecodeEvent[], total: number): void {
  let last = -1;
  for (const e of events) {
    const off = e.kind === 'diagnostic' ? e.error.offset! : e.offset!;
    expect(off).toBeGreaterThanOrEqual(0);
    expect(off).toBeLessThanOrEqual(total);
    if (e.kind !== 'diagnostic') {
      expect(off).toBeGreaterThan(last);
      last = off;
    }
  }
}

const mutation = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(bytes: Uint8Array, muts: readonly Mutation[]): Uint8Array {
  let b = Uint8Array.from(bytes);
  for (const m of muts) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    if (m.op === 'flip') b[at] = m.value;
    else if (m.op === 'insert') b = Uint8Array.from([...b.subarray(0, at), ...m.bytes, ...b.subarray(at)]);
    else if (m.op === 'delete') b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + m.n)]);
    else b = b.subarray(0, at);
  }
  return b;
}

describe('bad input never throws anything but KubewireError', () => {
  it('random bytes, any chunking, any limits', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 600 }).chain((b) => fc.tuple(fc.constant(b), chunkings(b, 16))),
        limitsArb,
        fc.constantFrom<'fresh' | 'unknown'>('fresh', 'unknown'),
        ([bytes, chunks], limits, headerContext) => {
          runStrict(chunks, { limits, headerContext });
          checkOffsets(runInspect(chunks, { limits, headerContext }), bytes.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('random bytes behind a valid control-frame header (bodies of every type)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 64 }), (type, flags, body) => {
        const bytes = Uint8Array.from([0x80, 3, 0, type, flags, 0, body.length >> 8, body.length & 0xff, ...body]);
        runStrict([bytes], {});
        checkOffsets(runInspect([bytes], {}), bytes.length);
      }),
      { numRuns: 400 },
    );
  });

  it('mutated valid sessions', () => {
    fc.assert(
      fc.property(spdyFrames({ maxFrames: 8, maxPayload: 64 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), limitsArb, (frames, muts, limits) => {
        const bytes = mutate(encodeAll(frames), muts);
        runStrict([bytes], { limits });
        const events = runInspect(splitAt(bytes, [3, 17, 40]), { limits });
        checkOffsets(events, bytes.length);
      }),
      { numRuns: 300 },
    );
  });

  it('lost bytes anywhere: inspect mode resynchronises without throwing', () => {
    fc.assert(
      fc.property(
        spdyFrames({ maxFrames: 12, maxPayload: 200 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 64 })), { minLength: 1, maxLength: 3 }),
        (frames, holes) => {
          const bytes = encodeAll(frames);
          if (bytes.length === 0) return;
          const dec = new SpdyFrameDecoder({ mode: 'inspect' });
          const events: SpdyDecodeEvent[] = [];
          let p = 0;
          for (const [at, n] of holes.map(([a, n]) => [a % bytes.length, n] as const).sort((x, y) => x[0] - y[0])) {
            if (at < p) continue;
            events.push(...dec.push(bytes.subarray(p, at)));
            const lost = Math.min(n, bytes.length - at);
            events.push(...dec.gap(lost));
            p = at + lost;
          }
          events.push(...dec.push(bytes.subarray(p)));
          events.push(...dec.end());
          expect(dec.offset).toBe(bytes.length);
          checkOffsets(events, bytes.length);
          expect(events.some((e) => e.kind === 'diagnostic' && e.error.code === 'SPDY_GAP')).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('bounded work on long bad input', () => {
  it('megabytes of noise after a gap, in small reads, then a real frame is found again', () => {
    const dec = new SpdyFrameDecoder({ mode: 'inspect' });
    dec.gap(1);
    // Deterministic noise with many DATA-looking headers (high bit clear).
    let x = 12345;
    const noise = new Uint8Array(2 * 1024 * 1024);
    for (let i = 0; i < noise.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      noise[i] = (x >>> 16) & 0x7f;
    }
    const events: SpdyDecodeEvent[] = [];
    for (let p = 0; p < noise.length; p += 1000) events.push(...dec.push(noise.subarray(p, p + 1000)));
    events.push(...dec.push(encodeAll([{ kind: 'goaway', lastGoodStreamId: 3, status: 0 }])));
    events.push(...dec.end());
    expect(dec.offset).toBe(noise.length + 1 + 16);
    checkOffsets(events, dec.offset);
    expect(events.some((e) => e.kind === 'diagnostic' && e.error.code === 'SPDY_RESYNC_SKIPPED')).toBe(true);
    expect(events.at(-1)).toMatchObject({ kind: 'goaway', lastGoodStreamId: 3, offset: noise.length + 1 });
  });
});
