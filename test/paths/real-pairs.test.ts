/**
 * Paths on real captures: a real kube-apiserver 1.33 between kubectl 1.33
 * and a kubelet endpoint, both hops recorded (shared/real-apiserver). Each
 * pair links into one path, byte-exact against the run's truth, with the
 * exit status's travel; shifted by a second, the same paths and the offset;
 * cut short, a partial link; with unrelated sessions, nothing crossed.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PcapngEventWriter } from '../../src/capture/pcapng-writer.js';
import { concatBytes } from '../../src/common/bytes.js';
import { CaptureDecoder } from '../../src/tcp/pipeline.js';
import { linkPaths, type PathsResult } from '../../src/paths/index.js';
import { sharedDir } from '../helpers/shared-captures.js';
import { decodeForPaths } from './helpers.js';

const dir = sharedDir('real-apiserver');
const runtime = sharedDir('real-runtime');
if (!dir) console.warn('skipping path tests on real captures: no shared/real-apiserver beside the checkout');
const RUNS = ['exec-cat', 'exec-exit7', 'portforward'] as const;
const hopFile = (run: string, hop: 'api' | 'kubelet') => `${dir}/kubectl-1.33.${run}.${hop}-hop.pcapng`;

interface Truth {
  expected_remote: { stdin_sha256?: string; stdout_sha256?: string; exit_code?: number };
  stdin?: { bytes: number; sha256: string };
}

/**
 * The pair as two files; the kubelet hop's clock is the API hop's (one machine) unless it
 * is shifted by `shiftUs`, as on a machine whose clock differs.
 */
function linkPair(run: string, shiftUs = 0, cut?: { hop: 'api' | 'kubelet'; at: number; bytes: Uint8Array }): PathsResult {
  const decode = (hop: 'api' | 'kubelet', file: string, shift: number) =>
    cut?.hop === hop ? decodeForPaths(cut.bytes, { file, cutAt: cut.at, shiftUs: shift }) : decodeForPaths(hopFile(run, hop), { file, shiftUs: shift });
  const api = decode('api', 'api.pcapng', 0);
  const kubelet = decode('kubelet', 'kubelet.pcapng', shiftUs);
  return linkPaths([...api.inputs, ...kubelet.inputs.map((x) => (shiftUs ? x : { ...x, clock: 'api.pcapng' }))]);
}

describe.skipIf(!dir)('paths through a real kube-apiserver', () => {
  for (const run of RUNS) {
    it(`${run}: both hops link into one path, in order, byte-exact`, () => {
      const truth = JSON.parse(readFileSync(`${dir}/kubectl-1.33.${run}.truth.json`, 'utf8')) as Truth;
      const r = linkPair(run);
      expect(r.paths).toHaveLength(1);
      expect(r.unlinked).toEqual([]);
      const p = r.paths[0]!;
      expect(p.hops.map((h) => h.hop)).toEqual(['client-apiserver', 'apiserver-kubelet']);
      expect(p).toMatchObject({ namespace: 'default', pod: 'web' });
      const link = p.links[0]!;
      expect(link.evidence).toContain('identity');
      expect(link.evidence).toContain('timing');
      expect(link.partial).toBe(false);
      expect(link.ambiguous).toBe(false);
      for (const h of p.hops) {
        expect(h.setupUs).toBeGreaterThan(0);
        expect(h.setupUs).toBeLessThan(100_000);
      }
      if (run === 'exec-cat') {
        // WebSocket v5 translated to SPDY v4 by the API server: the path shows both
        expect(p.hops.map((h) => [h.transport, h.protocol])).toEqual([
          ['websocket', 'v5.channel.k8s.io'],
          ['spdy/3.1', 'v4.channel.k8s.io'],
        ]);
        expect(link.confidence).toBe('high');
        expect(link.streams).toEqual([
          { stream: 'stdin', direction: 'clientToServer', outerBytes: 4096, innerBytes: 4096, result: 'equal', verifiedBytes: 4096 },
          { stream: 'stdout', direction: 'serverToClient', outerBytes: 4096, innerBytes: 4096, result: 'equal', verifiedBytes: 4096 },
        ]);
        // stdin travels in, stdout out; both delays positive on one clock
        const d = Object.fromEntries(link.delays.map((x) => [x.stream, x]));
        expect(d.stdin!.p50Us).toBeGreaterThan(0);
        expect(d.stdout!.p50Us).toBeGreaterThan(0);
        expect(d.stdin!.samples).toBe(64);
        expect(p.stopped).toEqual([]);
      }
      if (run === 'portforward') {
        expect(link.confidence).toBe('high');
        expect(link.streams.map((s) => [s.stream, s.direction, s.result, s.verifiedBytes])).toEqual([
          ['data:18080#0', 'clientToServer', 'equal', 5000],
          ['data:18080#0', 'serverToClient', 'equal', 5000],
        ]);
        expect(p.exit).toBeNull();
      } else {
        // the kubelet's status reaches kubectl later, re-wrapped, the code unchanged
        expect(p.exit).toMatchObject({ code: truth.expected_remote.exit_code, from: 1, to: 0 });
        expect(p.exit!.travelUs).toBeGreaterThan(0);
        if (run === 'exec-exit7') {
          // re-wrapped on the way: `exit status 7` at the kubelet, `… exit code 7` at kubectl
          expect(p.hops[1]!.exit!.message).toMatch(/exit status 7$/);
          expect(p.hops[0]!.exit!.message).toMatch(/command terminated with exit code 7$/);
        }
      }
    });

    it(`${run}: the kubelet hop's clock a second ahead gives the same path and the offset`, () => {
      const same = linkPair(run);
      const r = linkPair(run, 1_000_000);
      expect(r.paths.map((p) => p.hops.map((h) => [h.hop, h.session]))).toEqual(same.paths.map((p) => p.hops.map((h) => [h.hop, h.session])));
      expect(r.paths[0]!.links[0]!.evidence).toEqual(same.paths[0]!.links[0]!.evidence);
      const off = r.clockOffsets.find((c) => c.file === 'kubelet.pcapng')!;
      expect(off.reference).toBe('api.pcapng');
      // the true offset lies within the interval the fastest exchanges each way allow
      expect(Math.abs(off.offsetUs! - 1_000_000)).toBeLessThanOrEqual(off.uncertaintyUs!);
      // loopback hops through a real API server: a few ms of processing at most
      expect(off.uncertaintyUs!).toBeLessThan(6_000);
      // corrected, the delays are those of one clock
      const d0 = same.paths[0]!.links[0]!.exitTravelUs;
      const d1 = r.paths[0]!.links[0]!.exitTravelUs;
      if (d0 !== null) expect(Math.abs(d1! - d0)).toBeLessThanOrEqual(off.uncertaintyUs!);
    });
  }

  it('a hop cut short links as partial, and the path still shows the rest', () => {
    // the client hop re-segmented into small packets, then the file cut just before its stdout's
    // last segment (a WebSocket message is delivered whole, so its 4096 B are not seen at all)
    const small = resegment(readFileSync(hopFile('exec-cat', 'api')), 256);
    const stdoutAt = (at: number) => {
      const d = decodeForPaths(small, { cutAt: at });
      return d.summary.sessions[0]?.streams.find((s) => s.role === 'stdout')?.serverToClient.bytes ?? 0;
    };
    let lo = 0;
    let hi = small.length;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (stdoutAt(mid) < 4096) lo = mid;
      else hi = mid;
    }
    expect(stdoutAt(lo)).toBe(0);
    const r = linkPair('exec-cat', 0, { hop: 'api', at: lo, bytes: small });
    expect(r.paths).toHaveLength(1);
    const p = r.paths[0]!;
    expect(p.hops.map((h) => h.hop)).toEqual(['client-apiserver', 'apiserver-kubelet']);
    expect(p.hops[0]!.end).toBe('end-of-input');
    const link = p.links[0]!;
    expect(link.partial).toBe(true);
    expect(link.evidence).toEqual(['identity', 'bytes', 'timing']);
    expect(link.streams).toEqual([
      { stream: 'stdin', direction: 'clientToServer', outerBytes: 4096, innerBytes: 4096, result: 'equal', verifiedBytes: 4096 },
      { stream: 'stdout', direction: 'serverToClient', outerBytes: 0, innerBytes: 4096, result: 'prefix', verifiedBytes: 0 },
    ]);
    // stdout stopped at the client hop, where the capture ended; the kubelet hop has the rest
    expect(p.stopped).toEqual([
      { stream: 'stdout', direction: 'serverToClient', why: 'short', hop: 0, bytes: 0, previousBytes: 4096, captureEnded: true, captureGaps: 0, stalledUs: null },
    ]);
    expect(p.hops[1]!.exit).toMatchObject({ code: 0 });
    expect(p.exit).toMatchObject({ from: 1, to: 1, travelUs: null });
  });

  it('unrelated sessions stay on their own', () => {
    const cat = decodeForPaths(hopFile('exec-cat', 'api'), { file: 'a' });
    const exit7 = decodeForPaths(hopFile('exec-exit7', 'kubelet'), { file: 'a' });
    const pf = decodeForPaths(hopFile('portforward', 'kubelet'), { file: 'b' });
    const inputs = [...cat.inputs, ...exit7.inputs.map((x) => ({ ...x, file: 'a2' })), ...pf.inputs];
    // same pod, other command; and a port-forward: no path
    const r = linkPaths(inputs);
    expect(r.paths).toEqual([]);
    expect(r.unlinked).toHaveLength(3);
  });

  it.skipIf(!runtime)('a runtime hop of another exec is not linked to this one', () => {
    // the containerd capture's 4 KiB are other bytes: no identity on its URL, and its bytes differ
    const api = decodeForPaths(hopFile('exec-cat', 'api'), { file: 'a' });
    const kubelet = decodeForPaths(hopFile('exec-cat', 'kubelet'), { file: 'k' });
    const rt = decodeForPaths(`${runtime}/exec-stdin-4k.pcap`, { file: 'r' });
    const r = linkPaths([...api.inputs, ...kubelet.inputs, ...rt.inputs]);
    expect(r.paths).toHaveLength(1);
    expect(r.paths[0]!.hops.map((h) => h.file)).toEqual(['a', 'k']);
    expect(r.unlinked).toEqual([{ file: 'r', session: 1 }]);
    expect(r.clockOffsets.find((c) => c.file === 'r')!.offsetUs).toBeNull();
  });
});

/** The same connections written again with payloads cut into segments of at most `mss` bytes. */
function resegment(capture: Uint8Array, mss: number): Uint8Array {
  const w = new PcapngEventWriter({ mss });
  const blocks: Uint8Array[] = [w.header()];
  const reader = new CaptureDecoder((ev) => blocks.push(...w.event(ev)));
  reader.push(capture);
  reader.end();
  return concatBytes(blocks);
}
