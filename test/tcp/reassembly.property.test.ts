import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { reassembleTcp, type TcpSegment } from '../../src/tcp/index.js';
import { holesOf, initialSequenceNumbers, segmentations } from '../../src/testing/index.js';
import { ACK, collect, FIN, seg, SYN } from './helpers.js';

const stream = fc.uint8Array({ minLength: 1, maxLength: 600 });

function build(isn: number, pieces: { offset: number; bytes: Uint8Array }[], total: number, withSyn: boolean) {
  const segs: TcpSegment[] = [];
  if (withSyn) segs.push(seg('c', isn - 1, SYN));
  for (const p of pieces) segs.push(seg('c', isn + p.offset, ACK, p.bytes, 1));
  segs.push(seg('c', isn + total, FIN | ACK, undefined, 1));
  return segs;
}

describe('TCP reassembly properties', () => {
  it('cut, reordered, duplicated and overlapped segments reassemble to the original bytes', () => {
    fc.assert(
      fc.property(
        stream.chain((bytes) => fc.tuple(fc.constant(bytes), segmentations(bytes), initialSequenceNumbers(), fc.boolean())),
        ([bytes, plan, isn, withSyn]) => {
          // Without a SYN the first segment seen sets the stream start: put the first piece first.
          const pieces = withSyn
            ? plan.pieces
            : [{ offset: 0, bytes: bytes.subarray(0, 1) }, ...plan.pieces];
          const events = reassembleTcp(build(isn, pieces, bytes.length, withSyn));
          const got = collect(events);
          expect(got.gaps.c2s).toEqual([]);
          expect(Buffer.from(got.c2s).equals(Buffer.from(bytes))).toBe(true);
          expect(got.diagnostics).toEqual([]);
          expect(got.close?.kind === 'close' && got.close.reason).toBe('end-of-input');
        },
      ),
      { numRuns: 300 },
    );
  });

  it('dropped segments give exactly the expected gaps, everything else intact', () => {
    fc.assert(
      fc.property(
        stream.chain((bytes) =>
          fc.tuple(fc.constant(bytes), segmentations(bytes, { drop: true }), initialSequenceNumbers()),
        ),
        ([bytes, plan, isn]) => {
          const events = reassembleTcp(build(isn, plan.pieces, bytes.length, true));
          const got = collect(events);
          expect(got.gaps.c2s).toEqual(plan.holes);
          const expected = Buffer.from(bytes);
          for (const [a, b] of plan.holes) expected.fill(0, a, b);
          expect(Buffer.from(got.c2s).equals(expected)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('peer ACKs declare holes early; merged, the gaps are still exactly the lost ranges', () => {
    fc.assert(
      fc.property(
        stream.chain((bytes) =>
          fc.tuple(fc.constant(bytes), segmentations(bytes, { drop: true }), initialSequenceNumbers(), fc.nat({ max: 4 })),
        ),
        ([bytes, plan, isn, every]) => {
          // The receiver got every byte sent (only the capture lost some): after each piece it may
          // acknowledge the longest prefix made of bytes seen so far and bytes the capture lost.
          const seen: { offset: number; bytes: Uint8Array }[] = plan.holes.map(([a, b]) => ({ offset: a, bytes: new Uint8Array(b - a) }));
          const segs: TcpSegment[] = [seg('c', isn - 1, SYN), seg('s', 7, SYN, '', isn)];
          let acksSent = 0;
          let maxAck = 0;
          plan.pieces.forEach((p, i) => {
            segs.push(seg('c', isn + p.offset, ACK, p.bytes, 8));
            seen.push(p);
            if (i % (every + 1) === 0) {
              const prefix = holesOf(seen, bytes.length)[0]?.[0] ?? bytes.length;
              segs.push(seg('s', 8, ACK, '', isn + prefix));
              acksSent++;
              maxAck = Math.max(maxAck, prefix);
            }
          });
          const fin = seg('c', isn + bytes.length, FIN | ACK, undefined, 8);
          segs.push(fin);
          const events = reassembleTcp(segs);
          // A hole below an ACK came out as a gap before the input ended.
          if (plan.holes.length > 0 && maxAck > plan.holes[0]![0]) {
            expect(events.some((e) => e.kind === 'gap' && e.packet !== undefined && e.packet < fin.packet)).toBe(true);
          }
          const got = collect(events);
          const merged: [number, number][] = [];
          for (const [a, b] of got.gaps.c2s) {
            const last = merged[merged.length - 1];
            if (last && last[1] === a) last[1] = b;
            else merged.push([a, b]);
          }
          expect(merged).toEqual(plan.holes);
          const expected = Buffer.from(bytes);
          for (const [a, b] of plan.holes) expected.fill(0, a, b);
          expect(Buffer.from(got.c2s).equals(expected)).toBe(true);
          if (plan.pieces.length > 0) expect(acksSent).toBeGreaterThan(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('any segments at all never throw and keep offsets contiguous', () => {
    const anySeg = fc.record({
      from: fc.constantFrom<'c' | 's'>('c', 's'),
      seq: fc.integer({ min: 0, max: 0xffffffff }),
      flags: fc.integer({ min: 0, max: 255 }),
      len: fc.nat({ max: 40 }),
      ack: fc.integer({ min: 0, max: 0xffffffff }),
    });
    fc.assert(
      fc.property(fc.array(anySeg, { maxLength: 40 }), (list) => {
        const events = reassembleTcp(list.map((x) => seg(x.from, x.seq, x.flags, new Uint8Array(x.len), x.ack)));
        collect(events, 1, false); // throws on non-contiguous offsets or empty gaps
        const closes = events.filter((e) => e.kind === 'close').length;
        const opens = events.filter((e) => e.kind === 'open').length;
        expect(closes).toBe(opens);
      }),
      { numRuns: 300 },
    );
  });
});
