/**
 * Lossless hostile variants of every fixture: the bytes of every direction
 * are all still in the capture (reordered, duplicated, overlapped, cut into
 * tiny segments, framed by other link layers, over IPv6, in another file
 * format, with timestamps out of order, or mixed with other captures). The
 * decode must still equal the ground truth to the byte.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBytes, fixtures, sessionsAt, smallFixtures, truthProblems, type Fixture } from './harness.js';
import { render, type LinkKind, type RenderOptions, type Seg } from './model.js';
import { conflict, duplicate, interleave, jitterTimes, overlap, renet, renetWide, reorder, reorderEachDirection, resegment, toIpv6 } from './transforms.js';

const all = fixtures();
if (all.length === 0) console.warn('no fixtures with ground truth found; run `npm run fixtures`');

function exact(f: Fixture, segs: Seg[], o: RenderOptions = { format: 'pcapng' }, allowDiagnostics = false): string[] {
  const d = decodeBytes(render(segs, o), { keepBytes: false });
  const problems = truthProblems(d.summary.sessions, f.truth);
  if (d.threw) problems.push(`threw ${String(d.threw)}`);
  if (!allowDiagnostics && !f.truth.midSession && d.diagnostics.length > 0) {
    problems.push(`diagnostics: ${d.diagnostics.map((x) => `${x.code} ${x.message}`).slice(0, 3).join('; ')}`);
  }
  return problems;
}

describe.skipIf(all.length === 0)('lossless variants decode to the ground truth', () => {
  it('rewritten unchanged, as pcap and pcapng, both byte orders, µs and ns', () => {
    for (const f of all) {
      for (const o of [
        { format: 'pcap', link: 'ethernet' },
        { format: 'pcap', bigEndian: true, nanos: true, link: 'sll2' },
        { format: 'pcapng', link: 'ethernet' },
        { format: 'pcapng', bigEndian: true, nanos: true, link: 'raw' },
      ] as RenderOptions[]) {
        expect(exact(f, f.model.segments, o), `${f.name} ${JSON.stringify(o)}`).toEqual([]);
      }
    }
  });

  it('pcapng with two sections (the second big-endian, nanosecond stamps, SLL2)', () => {
    for (const f of all) {
      const half = Math.floor(f.model.segments.length / 2);
      const file = Buffer.concat([
        render(f.model.segments.slice(0, half), { format: 'pcapng', link: 'ethernet' }),
        render(f.model.segments.slice(half), { format: 'pcapng', bigEndian: true, nanos: true, link: 'sll2' }),
      ]);
      const d = decodeBytes(file, { keepBytes: false });
      expect(truthProblems(d.summary.sessions, f.truth), f.name).toEqual([]);
      if (!f.truth.midSession) expect(d.diagnostics, f.name).toEqual([]);
    }
  });

  it('every link layer, over IPv4 and IPv6', () => {
    const links: LinkKind[] = ['ethernet', 'ethernet-vlan', 'sll', 'sll2', 'null', 'loop', 'raw', 'ipv4-ipv6'];
    for (const f of smallFixtures()) {
      for (const v6 of [false, true]) {
        const segs = v6 ? toIpv6(f.model.segments) : f.model.segments;
        for (const link of links) expect(exact(f, segs, { format: 'pcap', link }), `${f.name} ${link} v6=${v6}`).toEqual([]);
      }
    }
  });

  it('IPv4 fragments (in order and last first)', () => {
    for (const f of all) {
      for (const fragmentsReversed of [false, true]) {
        expect(exact(f, f.model.segments, { format: 'pcap', fragment: 1480, fragmentsReversed }), `${f.name} reversed=${fragmentsReversed}`).toEqual([]);
      }
    }
  });

  it('pcapng with packets spread over interfaces of different link types', () => {
    for (const f of smallFixtures()) {
      expect(exact(f, f.model.segments, { format: 'pcapng', links: ['ethernet', 'sll2', 'null', 'raw'] }), f.name).toEqual([]);
    }
  });

  it('1-byte segments', () => {
    for (const f of smallFixtures()) expect(exact(f, resegment(f.model.segments, 1)), f.name).toEqual([]);
  });

  // Joined captures have no SYN: their stream starts are the earliest bytes
  // seen in the first 16 segments, so windows of up to 16 keep them exact.
  const ordered = all;

  it('random tiny segments (1–40 bytes) then reordered in windows, any seed', () => {
    const small = smallFixtures();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: small.length - 1 }), fc.integer(), fc.integer({ min: 2, max: 24 }), (fi, seed, window) => {
        const f = small[fi]!;
        // a joined capture's first bytes are recovered when they come within the first 16 segments
        const w = f.truth.midSession ? Math.min(window, 12) : window;
        const segs = reorder(resegment(f.model.segments, (r) => 1 + Math.floor(r() * 40), seed), seed, w, true);
        expect(exact(f, segs), `${f.name} seed ${seed} window ${window}`).toEqual([]);
      }),
      { numRuns: 20, seed: 4242 },
    );
  });

  it('reordered in windows (handshake first), duplicated and overlapped, any seed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: ordered.length - 1 }),
        fc.integer(),
        fc.integer({ min: 2, max: 16 }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        (fi, seed, window, pDup, pOverlap) => {
          const f = ordered[fi]!;
          const segs = overlap(duplicate(reorder(f.model.segments, seed, window, true), seed + 1, pDup), seed + 2, pOverlap);
          expect(exact(f, segs), `${f.name} seed ${seed} window ${window} dup ${pDup} overlap ${pOverlap}`).toEqual([]);
        },
      ),
      { numRuns: 24, seed: 777 },
    );
  });

  it("each direction reordered among its own packets (ACKs far ahead of the bytes they acknowledge), any seed", () => {
    for (const f of all) {
      if (f.truth.midSession) continue;
      for (const seed of [7, 8, 9]) {
        expect(exact(f, reorderEachDirection(f.model.segments, seed, 8)), `${f.name} seed ${seed}`).toEqual([]);
      }
    }
  });

  it('reordered with the handshake itself out of order, and joined captures reordered', () => {
    for (const f of smallFixtures()) {
      for (const seed of [1, 2, 3, 4]) expect(exact(f, reorder(f.model.segments, seed, 6)), `${f.name} seed ${seed}`).toEqual([]);
    }
  });

  it('every segment duplicated', () => {
    for (const f of all) expect(exact(f, duplicate(f.model.segments, 9, 1, 3)), f.name).toEqual([]);
  });

  it('retransmissions with different content: first copy kept, conflict reported', () => {
    for (const f of smallFixtures()) {
      if (f.truth.midSession) continue;
      const { segs, count } = conflict(f.model.segments, 5, 0.2);
      const d = decodeBytes(render(segs, { format: 'pcapng' }), { keepBytes: false });
      expect(truthProblems(d.summary.sessions, f.truth), f.name).toEqual([]);
      if (count > 0) expect(d.diagnostics.some((x) => x.code === 'TCP_OVERLAP_CONFLICT'), `${f.name}: conflict reported`).toBe(true);
    }
  });

  it('timestamps out of order (jitter of ±2 s, packet order kept)', () => {
    for (const f of smallFixtures()) {
      for (const seed of [11, 12]) expect(exact(f, jitterTimes(f.model.segments, seed, 2_000_000)), `${f.name} seed ${seed}`).toEqual([]);
    }
  });

  it('one packet stamped a day later, one at the epoch', () => {
    for (const f of smallFixtures()) {
      const segs = f.model.segments.map((s, i, a) =>
        i === Math.floor(a.length / 3) ? { ...s, time: s.time + 86_400e6 } : i === Math.floor((2 * a.length) / 3) ? { ...s, time: 0 } : s,
      );
      expect(exact(f, segs, { format: 'pcap' }), f.name).toEqual([]);
    }
  });

  it('all fixtures interleaved in one capture, each on its own addresses', () => {
    const lists = all.map((f, k) => renet(f.model.segments, k + 1));
    const d = decodeBytes(render(interleave(lists), { format: 'pcapng' }), { keepBytes: false });
    expect(d.threw).toBe(null);
    for (const [k, f] of all.entries()) {
      expect(truthProblems(sessionsAt(d.summary, `10.${k + 1}.0.1`), f.truth), f.name).toEqual([]);
    }
    expect(d.summary.sessions.length).toBe(all.reduce((n, f) => n + f.truth.sessions.length, 0));
  });

  it('many copies of the small fixtures interleaved and reordered, over IPv6 and SLL2', () => {
    const small = smallFixtures();
    const lists: Seg[][] = [];
    for (let copy = 0; copy < 4; copy++) small.forEach((f, k) => lists.push(renet(f.model.segments, 1 + copy * small.length + k)));
    const mixed = toIpv6(reorder(interleave(lists, 53), 99, 5, true));
    const d = decodeBytes(render(mixed, { format: 'pcap', link: 'sll2', nanos: true }), { keepBytes: false });
    expect(d.threw).toBe(null);
    for (let copy = 0; copy < 4; copy++) {
      small.forEach((f, k) => {
        const net = 1 + copy * small.length + k;
        const addr = `fd00::a${net.toString(16).padStart(2, '0')}:1`;
        expect(truthProblems(sessionsAt(d.summary, addr), f.truth, `${f.name} copy ${copy}`), addr).toEqual([]);
      });
    }
  });

  it('1,200 sessions at once (600 SPDY, 600 WebSocket), interleaved packet by packet', () => {
    const spdy = all.find((f) => f.name === 'k127-exec');
    const ws = all.find((f) => f.name === 'k133-exec-ws');
    if (!spdy || !ws) return void console.warn('k127-exec or k133-exec-ws fixture missing');
    const lists: Seg[][] = [];
    for (let n = 1; n <= 1200; n++) lists.push(renetWide((n % 2 ? spdy : ws).model.segments, n));
    const d = decodeBytes(render(interleave(lists, 3), { format: 'pcap' }), { keepBytes: false });
    expect(d.threw).toBe(null);
    expect(d.summary.sessions.length).toBe(1200);
    const bad: string[] = [];
    for (let n = 1; n <= 1200; n++) {
      bad.push(...truthProblems(sessionsAt(d.summary, `10.${n >> 8}.${n & 255}.1`), (n % 2 ? spdy : ws).truth, `copy ${n}`));
    }
    expect(bad.slice(0, 5)).toEqual([]);
    expect(d.diagnostics).toEqual([]);
  });

  it('port reuse: the same capture twice on the same 4-tuples and sequence numbers', () => {
    for (const f of smallFixtures().filter((x) => !x.truth.midSession)) {
      const later = f.model.segments.map((s) => ({ ...s, time: s.time + 10e6 }));
      const d = decodeBytes(render([...f.model.segments, ...later], { format: 'pcap' }), { keepBytes: false });
      expect(truthProblems(d.summary.sessions, { ...f.truth, sessions: [...f.truth.sessions, ...f.truth.sessions] }), f.name).toEqual([]);
    }
  });

  it('read in chunks of any size', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: all.length - 1 }), fc.integer({ min: 1, max: 5000 }), (fi, chunk) => {
        const f = all[fi]!;
        const d = decodeBytes(f.model.file, { chunk, keepBytes: false });
        expect(truthProblems(d.summary.sessions, f.truth), `${f.name} chunk ${chunk}`).toEqual([]);
      }),
      { numRuns: 12, seed: 31 },
    );
  });
});
