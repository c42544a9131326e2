/**
 * Paths on synthetic three-hop captures (test/helpers/exec-paths.ts): every
 * exec one path, hops in order, byte-exact; split into two files with a
 * second between their clocks, the same paths and the offset within a
 * millisecond; concurrent execs into one pod with one command not crossed,
 * or said to be undecidable when their bytes are the same; a cut capture
 * gives partial links; linking does not depend on input order.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { linkPaths, type PathSessionInput, type PathsResult } from '../../src/paths/index.js';
import { execBytes, execPathCapture, manyExecs, type SyntheticExec } from '../helpers/exec-paths.js';
import { decodeForPaths } from './helpers.js';

const HOPS = ['client-apiserver', 'apiserver-kubelet', 'kubelet-runtime'];

/** Client port of each hop, per path: which exec each hop belongs to. */
const portsOf = (r: PathsResult) => r.paths.map((p) => p.hops.map((h) => Number(h.client.split(':')[1])));

describe('paths on synthetic three-hop captures', () => {
  it('one path per exec, hops in order, byte-exact at every hop, with the exit status travel', () => {
    const execs = manyExecs(5, { spacingUs: 400 });
    const d = decodeForPaths(execPathCapture(execs, { hopDelayUs: 150 }), { file: 'all.pcapng' });
    expect(d.summary.diagnostics).toBe(0);
    const r = linkPaths(d.inputs);
    expect(r.unlinked).toEqual([]);
    expect(r.clockOffsets).toEqual([]);
    expect(portsOf(r)).toEqual(execs.map((e) => e.ports));
    for (const [n, p] of r.paths.entries()) {
      expect(p.hops.map((h) => h.hop)).toEqual(HOPS);
      expect(p.command).toEqual(['cat']);
      for (const l of p.links) {
        expect(l.ambiguous).toBe(false);
        expect(l.partial).toBe(false);
        expect(l.confidence).toBe('high');
        expect(l.streams).toEqual([
          { stream: 'stdin', direction: 'clientToServer', outerBytes: 4096, innerBytes: 4096, result: 'equal', verifiedBytes: 4096 },
          { stream: 'stdout', direction: 'serverToClient', outerBytes: 4096, innerBytes: 4096, result: 'equal', verifiedBytes: 4096 },
        ]);
        // each hop adds 150 µs and up to 40 µs of jitter, each way
        for (const dl of l.delays) {
          expect(dl.p50Us).toBeGreaterThanOrEqual(110);
          expect(dl.maxUs).toBeLessThanOrEqual(231);
          expect(dl.samples).toBe(64);
        }
        expect(l.exitTravelUs).toBeGreaterThanOrEqual(110);
      }
      // the runtime's status reached kubectl two hops later
      expect(p.exit).toMatchObject({ code: execs[n]!.exitCode, from: 2, to: 0 });
      expect(p.exit!.travelUs).toBeGreaterThanOrEqual(260);
      expect(p.exit!.travelUs).toBeLessThanOrEqual(381);
      expect(p.hops[0]!.streams.find((s) => s.stream === 'stdin')!.bytesPerSecond).toBeGreaterThan(0);
    }
  });

  it('two files a second apart: the same paths, and the offset within a millisecond', () => {
    const execs = manyExecs(6, { spacingUs: 300 });
    const one = linkPaths(decodeForPaths(execPathCapture(execs), { file: 'all' }).inputs);
    const a = decodeForPaths(execPathCapture(execs, { hops: [0] }), { file: 'client.pcapng' });
    const b = decodeForPaths(execPathCapture(execs, { hops: [1, 2], shiftUs: { 1: 1_000_000, 2: 1_000_000 } }), { file: 'node.pcapng' });
    const r = linkPaths([...b.inputs, ...a.inputs]);
    expect(portsOf(r)).toEqual(portsOf(one));
    const off = r.clockOffsets.find((c) => c.file === 'node.pcapng')!;
    expect(off).toMatchObject({ reference: 'client.pcapng', links: 6 });
    expect(Math.abs(off.offsetUs! - 1_000_000)).toBeLessThan(1000);
    expect(r.clockOffsets.find((c) => c.file === 'client.pcapng')!.offsetUs).toBe(0);
    // corrected times: delays as on one clock, and timing counts as evidence again
    for (const p of r.paths) {
      expect(p.hops[1]!.clockOffsetUs).toBe(off.offsetUs);
      expect(p.links[0]!.evidence).toEqual(['identity', 'bytes', 'timing']);
      for (const dl of p.links[0]!.delays) expect(Math.abs(dl.p50Us - 170)).toBeLessThan(1000);
    }
  });

  it('concurrent execs into one pod with one command are told apart by their bytes', () => {
    // ten at once: each starts 50 µs after the previous and lasts milliseconds
    const execs = manyExecs(10, { spacingUs: 50 });
    const r = linkPaths(decodeForPaths(execPathCapture(execs), { file: 'x' }).inputs);
    expect(portsOf(r)).toEqual(execs.map((e) => e.ports));
    for (const p of r.paths) for (const l of p.links) expect(l.ambiguous).toBe(false);
  });

  it('says so when nothing tells two concurrent execs apart', () => {
    const same = execBytes(1, 2048);
    const execs = manyExecs(2, { spacingUs: 0 }).map((e) => ({ ...e, stdin: same, stdout: same, exitCode: 0 }));
    const r = linkPaths(decodeForPaths(execPathCapture(execs), { file: 'x' }).inputs);
    expect(r.paths).toHaveLength(2);
    const first = r.paths[0]!.links[0]!;
    expect(first.ambiguous).toBe(true);
    expect(first.confidence).toBe('low');
    expect(first.alternatives.length).toBeGreaterThan(0);
    expect(first.why).toMatch(/cannot tell it from session \d+ of x(, session \d+ of x)*: the same evidence fits; taken in time order$/);
  });

  it('a capture cut inside stdout links its hops as partial, and the rest of the path stays', () => {
    const e = manyExecs(1, { bytes: 8192 });
    const a = decodeForPaths(execPathCapture(e, { hops: [0] }), { file: 'client' });
    const node = execPathCapture(e, { hops: [1, 2] });
    const kubeletStdout = (at: number) =>
      decodeForPaths(node, { cutAt: at }).summary.sessions.find((s) => s.hop === 'apiserver-kubelet')?.streams.find((s) => s.role === 'stdout')?.serverToClient.bytes ?? 0;
    let lo = 0;
    let hi = node.length;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (kubeletStdout(mid) < 4096) lo = mid;
      else hi = mid;
    }
    const b = decodeForPaths(node, { file: 'node', cutAt: hi });
    const r = linkPaths([...a.inputs, ...b.inputs.map((x) => ({ ...x, clock: 'client' }))]);
    expect(r.paths).toHaveLength(1);
    const p = r.paths[0]!;
    expect(p.hops.map((h) => h.hop)).toEqual(HOPS);
    const [outer, inner] = p.links;
    const stdout = (l: typeof outer) => l!.streams.find((s) => s.stream === 'stdout')!;
    expect(outer!.partial).toBe(true);
    expect(stdout(outer)).toMatchObject({ result: 'prefix', outerBytes: 8192, innerBytes: 4096, verifiedBytes: 4096 });
    expect(inner!.partial).toBe(true);
    // the runtime hop, a few frames ahead of the kubelet hop when the capture ended
    const runtimeBytes = stdout(inner).innerBytes;
    expect(runtimeBytes).toBeGreaterThan(4096);
    expect(stdout(inner)).toMatchObject({ result: 'prefix', outerBytes: 4096, verifiedBytes: 4096 });
    expect(p.stopped).toContainEqual({ stream: 'stdout', direction: 'serverToClient', why: 'short', hop: 1, bytes: 4096, previousBytes: runtimeBytes, captureEnded: true, captureGaps: 0, stalledUs: null });
  });

  it('bytes that differ rule a pair out, however well identity and timing fit', () => {
    const execs = manyExecs(1);
    const other = manyExecs(1).map((e) => ({ ...e, stdout: execBytes(99, 4096) }));
    const a = decodeForPaths(execPathCapture(execs, { hops: [0] }), { file: 'a' });
    const b = decodeForPaths(execPathCapture(other, { hops: [1] }), { file: 'b' });
    const r = linkPaths([...a.inputs, ...b.inputs.map((x) => ({ ...x, clock: 'a' }))]);
    expect(r.paths).toEqual([]);
    expect(r.unlinked).toHaveLength(2);
  });

  it('property: every exec gets its own path, whatever the input order, sizes, pods and overlap', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ bytes: fc.integer({ min: 16, max: 3000 }), pod: fc.constantFrom('a', 'b'), gap: fc.integer({ min: 0, max: 3000 }) }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 0, max: 1 << 30 }),
        (specs, seed) => {
          let t = 1_800_000_000_000_000;
          const execs: SyntheticExec[] = specs.map((s, n) => {
            t += s.gap;
            const data = execBytes(n + seed, s.bytes);
            return { namespace: 'ns', pod: s.pod, container: 'c', command: ['cat'], stdin: data, stdout: data, exitCode: 0, start: t, ports: [30000 + n * 3, 30001 + n * 3, 30002 + n * 3] };
          });
          const inputs = decodeForPaths(execPathCapture(execs), { file: 'f' }).inputs;
          const r = linkPaths(inputs);
          expect(portsOf(r).sort((x, y) => x[0]! - y[0]!)).toEqual(execs.map((e) => e.ports));
          // any order of the inputs: the same result
          const shuffled = shuffle(inputs, seed);
          expect(linkPaths(shuffled)).toEqual(r);
        },
      ),
      { numRuns: 25 },
    );
  });
});

function shuffle(xs: PathSessionInput[], seed: number): PathSessionInput[] {
  const out = [...xs];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
