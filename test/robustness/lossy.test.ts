/**
 * Variants that lose bytes: segments dropped (capture loss), packets cut by
 * a snaplen. Nothing throws, the loss is reported with its place, other
 * connections in the same capture stay exact, and DATA after a gap is still
 * decoded where the framing allows it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBytes, endsWith, fixtures, sessionsAt, smallFixtures, streamKey, truthProblems } from './harness.js';
import { render, type Seg } from './model.js';
import { drop, duplicate, interleave, renet, reorder, rng } from './transforms.js';

const all = fixtures();

/** Indexes of payload segments sent by the server of the upgraded connection (the last connection that carries a 101). */
function sessionPayloadIndexes(segs: Seg[]): number[] {
  const i101 = segs.findIndex((s) => Buffer.from(s.payload.subarray(0, 12)).toString('latin1') === 'HTTP/1.1 101');
  if (i101 < 0) return [];
  const key = `${segs[i101]!.src}:${segs[i101]!.sport}>${segs[i101]!.dst}:${segs[i101]!.dport}`;
  const out: number[] = [];
  segs.forEach((s, i) => {
    if (i > i101 && s.payload.length > 0 && `${s.src}:${s.sport}>${s.dst}:${s.dport}` === key) out.push(i);
  });
  return out;
}

describe.skipIf(all.length === 0)('lossy variants: reported, contained, resynchronised', () => {
  it('a lost server segment inside the session: diagnostics, no throw; the clean capture beside it stays exact', () => {
    const small = smallFixtures().filter((f) => !f.truth.midSession);
    const clean = small.find((f) => f.name === 'k127-exec')!;
    for (const f of small) {
      const idx = sessionPayloadIndexes(f.model.segments);
      if (idx.length === 0) continue;
      for (const at of new Set([idx[0]!, idx[Math.floor(idx.length / 2)]!])) {
        const lossy = drop(f.model.segments, [at]);
        const mixed = interleave([renet(lossy, 1), renet(clean.model.segments, 2)]);
        const d = decodeBytes(render(mixed, { format: 'pcap' }), { keepBytes: false });
        const where = `${f.name} without packet ${at + 1}`;
        expect(d.threw, where).toBe(null);
        expect(d.diagnostics.length, where).toBeGreaterThan(0);
        // the loss is named: a gap with its connection and offset
        expect(d.diagnostics.some((x) => /GAP/.test(x.code) && /offset \d+/.test(x.message) && x.connection >= 1), where).toBe(true);
        expect(truthProblems(sessionsAt(d.summary, '10.2.0.1'), clean.truth, `${where}: the clean neighbour`)).toEqual([]);
      }
    }
  });

  it('a loss in a capture joined midway is a diagnostic too (before the protocol is recognised)', () => {
    for (const f of all.filter((x) => x.truth.midSession)) {
      const segs = f.model.segments;
      const dir = (i: number) => `${segs[i]!.src}:${segs[i]!.sport}>${segs[i]!.dst}:${segs[i]!.dport}`;
      // the second payload segment of the direction that sends at least three
      const at = segs.findIndex((s, i) => s.payload.length > 0 && segs.slice(0, i).some((p, j) => p.payload.length > 0 && dir(j) === dir(i)) && segs.slice(i + 1).some((n, j) => n.payload.length > 0 && dir(i + 1 + j) === dir(i)));
      expect(at, f.name).toBeGreaterThan(0);
      const d = decodeBytes(render(drop(segs, [at]), { format: 'pcap' }), { keepBytes: false });
      expect(d.threw, f.name).toBe(null);
      expect(d.diagnostics.some((x) => /GAP/.test(x.code) && /offset \d+/.test(x.message)), `${f.name}: ${JSON.stringify(d.diagnostics)}`).toBe(true);
    }
  });

  it('2 MiB transfer with stdout segments lost: the output after each gap is still decoded, and is the true tail', () => {
    const f = all.find((x) => x.name === 'k127-transfer-2mib');
    if (!f) return void console.warn('k127-transfer-2mib fixture missing');
    const full = decodeBytes(render(f.model.segments, { format: 'pcap' }));
    const idx = sessionPayloadIndexes(f.model.segments);
    const lost = [idx[Math.floor(idx.length / 3)]!, idx[Math.floor((2 * idx.length) / 3)]!];
    const d = decodeBytes(render(drop(f.model.segments, lost), { format: 'pcap' }));
    expect(d.threw).toBe(null);
    expect(d.capture.gaps).toBeGreaterThanOrEqual(2);
    const s = d.summary.sessions[0]!;
    const stdout = s.streams.find((x) => x.role === 'stdout')!;
    const truthStdout = f.truth.sessions[0]!.streams.find((x) => x.role === 'stdout')!.serverToClient.bytes;
    // most of it survives (two segments of a few hundred in all were lost)
    expect(stdout.serverToClient.bytes).toBeGreaterThan(truthStdout * 0.8);
    expect(stdout.serverToClient.bytes).toBeLessThan(truthStdout);
    // what came after the last gap is the true end of the stream
    const got = d.streams.get(streamKey(s.session, stdout.id, 'serverToClient'))!;
    const want = full.streams.get(streamKey(full.summary.sessions[0]!.session, stdout.id, 'serverToClient'))!;
    expect(endsWith(want, got.subarray(got.length - 200_000))).toBe(true);
    // stdin was not touched
    const stdin = s.streams.find((x) => x.role === 'stdin')!;
    expect(stdin.clientToServer).toEqual(f.truth.sessions[0]!.streams.find((x) => x.role === 'stdin')!.clientToServer);
  });

  it('2 MiB transfer with stdin segments lost: stdout, the error stream and the exit status stay exact', () => {
    const f = all.find((x) => x.name === 'k127-transfer-2mib');
    if (!f) return void console.warn('k127-transfer-2mib fixture missing');
    const segs = f.model.segments;
    const i101 = segs.findIndex((s) => Buffer.from(s.payload.subarray(0, 12)).toString('latin1') === 'HTTP/1.1 101');
    const server = `${segs[i101]!.src}:${segs[i101]!.sport}`;
    // the client's payload segments after the upgrade: stdin (the server got them all: it echoed them)
    const stdinSegs = segs.map((s, i) => [s, i] as const).filter(([s, i]) => i > i101 && s.payload.length > 1000 && `${s.dst}:${s.dport}` === server);
    const lost = [stdinSegs[Math.floor(stdinSegs.length / 4)]![1], stdinSegs[Math.floor(stdinSegs.length / 2)]![1]];
    const d = decodeBytes(render(drop(segs, lost), { format: 'pcapng' }), { keepBytes: false });
    expect(d.threw).toBe(null);
    expect(d.capture.gaps).toBeGreaterThanOrEqual(2);
    const s = d.summary.sessions[0]!;
    const t = f.truth.sessions[0]!;
    for (const role of ['stdout', 'error', 'stderr']) {
      const ours = s.streams.find((x) => x.role === role)!;
      const truth = t.streams.find((x) => x.role === role)!;
      expect(ours.serverToClient, role).toEqual(truth.serverToClient);
    }
    expect({ status: s.exit?.status, code: s.exit?.code }).toEqual({ status: t.exit!.status, code: t.exit!.code });
    const stdin = s.streams.find((x) => x.role === 'stdin')!;
    expect(stdin.clientToServer.bytes).toBeLessThan(t.streams.find((x) => x.role === 'stdin')!.clientToServer.bytes);
  });

  it('random loss patterns: no throw, loss reported, the clean capture beside it exact', () => {
    const small = smallFixtures();
    const clean = small.find((f) => f.name === 'k133-exec-ws')!;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: small.length - 1 }), fc.integer(), fc.double({ min: 0.02, max: 0.4, noNaN: true }), (fi, seed, p) => {
        const f = small[fi]!;
        const r = rng(seed);
        const lost = f.model.segments.map((_, i) => i).filter(() => r() < p);
        const lossy = drop(f.model.segments, lost);
        const d = decodeBytes(render(interleave([renet(lossy, 1), renet(clean.model.segments, 2)]), { format: 'pcapng' }), { keepBytes: false });
        const where = `${f.name} seed ${seed} p ${p}`;
        expect(d.threw, where).toBe(null);
        // a loss between bytes kept in the same direction cannot go unnoticed
        const segs = f.model.segments;
        const gone = new Set(lost);
        const dir = (i: number) => `${segs[i]!.src}:${segs[i]!.sport}>${segs[i]!.dst}:${segs[i]!.dport}`;
        const kept = (i: number, step: number) => {
          for (let j = i + step; j >= 0 && j < segs.length; j += step) if (!gone.has(j) && segs[j]!.payload.length > 0 && dir(j) === dir(i)) return true;
          return false;
        };
        if (lost.some((i) => segs[i]!.payload.length > 0 && kept(i, -1) && kept(i, 1))) expect(d.diagnostics.length, where).toBeGreaterThan(0);
        expect(truthProblems(sessionsAt(d.summary, '10.2.0.1'), clean.truth, `${where}: the clean neighbour`)).toEqual([]);
      }),
      { numRuns: 30, seed: 99 },
    );
  });

  it('loss, reordering and duplicates together: no throw; a reordered clean capture beside it stays exact', () => {
    const small = smallFixtures();
    const clean = small.find((f) => f.name === 'k127-exec')!;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: small.length - 1 }), fc.integer(), (fi, seed) => {
        const f = small[fi]!;
        const r = rng(seed);
        const segs = duplicate(reorder(drop(f.model.segments, f.model.segments.map((_, i) => i).filter(() => r() < 0.1)), seed, 8), seed, 0.3);
        const d = decodeBytes(render(interleave([renet(segs, 1), renet(reorder(clean.model.segments, seed, 8, true), 2)]), { format: 'pcapng' }), { keepBytes: false });
        expect(d.threw, `${f.name} seed ${seed}`).toBe(null);
        expect(truthProblems(sessionsAt(d.summary, '10.2.0.1'), clean.truth, `${f.name} seed ${seed}: the clean neighbour`)).toEqual([]);
      }),
      { numRuns: 20, seed: 5150 },
    );
  });

  it('snaplen-cut packets: no throw, gaps reported, sessions still found', () => {
    for (const f of all) {
      for (const snaplen of [96, 300]) {
        const d = decodeBytes(render(f.model.segments, { format: 'pcapng', link: 'sll2', snaplen }), { keepBytes: false });
        expect(d.threw, `${f.name} snaplen ${snaplen}`).toBe(null);
        // Ethernet-less SLL2 framing: 20 link + 20 IP + 20 TCP bytes before the payload
        if (f.model.segments.some((s) => 60 + s.payload.length > snaplen)) {
          expect(d.capture.gaps, `${f.name} snaplen ${snaplen}`).toBeGreaterThan(0);
          expect(d.diagnostics.length).toBeGreaterThan(0);
        }
      }
    }
  });

  it('every other packet lost: no throw, and every decoded byte count within the truth', () => {
    for (const f of smallFixtures()) {
      const d = decodeBytes(render(drop(f.model.segments, f.model.segments.map((_, i) => i).filter((i) => i % 2 === 1)), { format: 'pcap' }), {
        keepBytes: false,
      });
      expect(d.threw, f.name).toBe(null);
      const truthMax = Math.max(...f.truth.sessions.flatMap((s) => s.streams.flatMap((x) => [x.clientToServer.bytes, x.serverToClient.bytes])));
      for (const s of d.summary.sessions) for (const x of s.streams) expect(Math.max(x.clientToServer.bytes, x.serverToClient.bytes)).toBeLessThanOrEqual(truthMax);
    }
  });
});
