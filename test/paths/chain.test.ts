/**
 * Paths on the chain fixtures: real kubectl 1.27 and 1.33 through
 * `serve --chain`, all three hops in one tcpdump capture, with each hop's own
 * record of its bytes as truth (fixtures/chain/*.truth.json). One path per
 * exec, hops in order, byte-exact at every hop against the records;
 * concurrent execs into one pod not crossed; the capture split into two
 * files, one a second late, gives the same path and the offset within 1 ms.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { linkPaths, type PathSummary } from '../../src/paths/index.js';
import type { SessionSummary } from '../../src/timeline/index.js';
import { Chalk } from 'chalk';
import { renderPaths } from '../../src/cli/output/paths-text.js';
import { decodeForPaths } from './helpers.js';

const DIR = join(import.meta.dirname, '..', '..', 'fixtures', 'chain');
const HOPS = ['client-apiserver', 'apiserver-kubelet', 'kubelet-runtime'];

interface Digest {
  bytes: number;
  sha256: string;
}
interface RecordStream {
  role: string;
  clientToServer: Digest;
  serverToClient: Digest;
}
interface HopRecord {
  hop: 'apiserver' | 'kubelet' | 'runtime';
  side: string;
  clientPort: number;
  streams: RecordStream[];
  exit?: { code: number };
}
interface ChainTruth {
  hops: Array<{ hop: string; transport: string; protocol: string }>;
  records: HopRecord[];
  stdin?: Digest;
  exit?: { code: number };
  execs?: Array<{ stdin: Digest; exit: { code: number } }>;
  ports?: { apiserver: number; kubelet: number; runtime: number };
  clientProcess?: { stdoutSha256?: string };
}

const truth = (name: string) => JSON.parse(readFileSync(join(DIR, `${name}.truth.json`), 'utf8')) as ChainTruth;
const port = (s: { client: string }) => Number(s.client.split(':')[1]);

/** The session of a path's hop. */
function sessionOf(sessions: SessionSummary[], p: PathSummary, k: number): SessionSummary {
  return sessions.find((s) => s.session === p.hops[k]!.session)!;
}

/** The hop's own record of what it relayed upstream: hop 2 is the API server's upstream connection, hop 3 the kubelet's. */
function upstreamRecord(t: ChainTruth, hop: 1 | 2, clientPort: number): HopRecord {
  const r = t.records.find((x) => x.hop === (hop === 1 ? 'apiserver' : 'kubelet') && x.side === 'upstream' && x.clientPort === clientPort);
  expect(r, `record of hop ${hop + 1} from port ${clientPort}`).toBeDefined();
  return r!;
}

/** Stream bytes of a session, by the record's role names. */
function expectBytesAsRecorded(s: SessionSummary, r: HopRecord): void {
  for (const rs of r.streams) {
    if (rs.role === 'error' || rs.role === 'resize') continue;
    const st = s.streams.filter((x) => x.role === rs.role);
    if (rs.role !== 'data') {
      expect(st).toHaveLength(1);
      expect(st[0]!.clientToServer).toEqual(rs.clientToServer);
      expect(st[0]!.serverToClient).toEqual(rs.serverToClient);
    }
  }
}

describe('paths on serve --chain captures (fixtures/chain)', () => {
  for (const name of ['k127-exec-cat-exit7', 'k133-exec-cat-exit7', 'k133-exec-tty']) {
    it(`${name}: one path, hops in order, byte-exact at every hop`, () => {
      const t = truth(name);
      const d = decodeForPaths(join(DIR, `${name}.pcap`), { file: name });
      expect(d.summary.diagnostics).toBe(0);
      const r = linkPaths(d.inputs);
      expect(r.unlinked).toEqual([]);
      expect(r.paths).toHaveLength(1);
      const p = r.paths[0]!;
      expect(p.hops.map((h) => [h.hop, h.transport, h.protocol])).toEqual(t.hops.map((h) => [h.hop, h.transport, h.protocol]));
      expect(p.hops.map((h) => h.hop)).toEqual(HOPS);
      for (const l of p.links) {
        expect(l).toMatchObject({ confidence: 'high', partial: false, ambiguous: false });
        for (const c of l.streams) {
          expect(c.result).toBe('equal');
          expect(c.verifiedBytes).toBe(c.outerBytes);
        }
      }
      // hops 2 and 3 against the hops' own records; hop 1 against what kubectl sent and printed
      expectBytesAsRecorded(sessionOf(d.summary.sessions, p, 1), upstreamRecord(t, 1, port(p.hops[1]!)));
      expectBytesAsRecorded(sessionOf(d.summary.sessions, p, 2), upstreamRecord(t, 2, port(p.hops[2]!)));
      const client = sessionOf(d.summary.sessions, p, 0);
      const stdin = client.streams.find((s) => s.role === 'stdin')!.clientToServer;
      if (t.stdin) expect(stdin).toEqual(t.stdin);
      if (t.clientProcess?.stdoutSha256) expect(client.streams.find((s) => s.role === 'stdout')!.serverToClient.sha256).toBe(t.clientProcess.stdoutSha256);
      // the runtime's exit status reached kubectl
      expect(p.exit).toMatchObject({ code: t.exit!.code, from: 2, to: 0 });
      expect(p.exit!.travelUs).toBeGreaterThan(0);
      expect(p.stopped).toEqual([]);
      for (const l of p.links) for (const dl of l.delays) expect(dl.p50Us).toBeGreaterThan(0);
    });
  }

  it('k133-portforward: one path across the tunnel, SPDY beyond, every data stream equal at every hop', () => {
    const t = truth('k133-portforward');
    const d = decodeForPaths(join(DIR, 'k133-portforward.pcap'), { file: 'pf' });
    const r = linkPaths(d.inputs);
    expect(r.paths).toHaveLength(1);
    const p = r.paths[0]!;
    expect(p.hops.map((h) => [h.hop, h.transport, h.protocol])).toEqual(t.hops.map((h) => [h.hop, h.transport, h.protocol]));
    const want = t.records.find((x) => x.hop === 'apiserver')!.streams.filter((s) => s.role === 'data' && s.clientToServer.bytes > 0);
    for (const l of p.links) {
      expect(l).toMatchObject({ confidence: 'high', partial: false, ambiguous: false });
      // both ways, every connection that carried bytes
      expect(l.streams.map((c) => [c.direction, c.result, c.verifiedBytes]).sort()).toEqual(
        want.flatMap((s) => [
          ['clientToServer', 'equal', s.clientToServer.bytes],
          ['serverToClient', 'equal', s.serverToClient.bytes],
        ]).sort(),
      );
      // the evidence in words names each data stream's direction, as the delays do
      for (const c of l.streams) {
        expect(l.why).toContain(`${c.stream} ${c.direction === 'clientToServer' ? 'c→s' : 's→c'} ${c.verifiedBytes} B equal`);
      }
    }
    expect(p.exit).toBeNull();
  });

  it('k127-exec-cat-concurrent: two execs into one pod with one command, not crossed', () => {
    const t = truth('k127-exec-cat-concurrent');
    const d = decodeForPaths(join(DIR, 'k127-exec-cat-concurrent.pcap'), { file: 'c' });
    const r = linkPaths(d.inputs);
    expect(r.unlinked).toEqual([]);
    expect(r.paths).toHaveLength(2);
    const seen = new Set<string>();
    for (const p of r.paths) {
      expect(p.hops.map((h) => h.hop)).toEqual(HOPS);
      const stdins = p.hops.map((_, k) => sessionOf(d.summary.sessions, p, k).streams.find((s) => s.role === 'stdin')!.clientToServer.sha256!);
      // one exec's stdin at every hop, and a different exec per path
      expect(new Set(stdins).size).toBe(1);
      const exec = t.execs!.find((e) => e.stdin.sha256 === stdins[0]);
      expect(exec).toBeDefined();
      seen.add(stdins[0]!);
      // the hops' own records agree on which connection carried it
      expect(upstreamRecord(t, 1, port(p.hops[1]!)).streams.find((s) => s.role === 'stdin')!.clientToServer.sha256).toBe(exec!.stdin.sha256);
      expect(upstreamRecord(t, 2, port(p.hops[2]!)).streams.find((s) => s.role === 'stdin')!.clientToServer.sha256).toBe(exec!.stdin.sha256);
      for (const l of p.links) {
        expect(l.ambiguous).toBe(false);
        expect(l.evidence).toContain('bytes');
      }
    }
    expect(seen.size).toBe(2);
  });

  it('k127-exec-cat-exit7 split into hop 1 and hops 2-3 a second late: the same path, the offset within 1 ms', () => {
    const whole = linkPaths(decodeForPaths(join(DIR, 'k127-exec-cat-exit7.pcap'), { file: 'whole' }).inputs);
    const hop1 = decodeForPaths(join(DIR, 'k127-exec-cat-exit7.hop1.pcap'), { file: 'hop1.pcap' });
    const hops23 = decodeForPaths(join(DIR, 'k127-exec-cat-exit7.hops23.shifted1s.pcap'), { file: 'hops23.pcap' });
    const r = linkPaths([...hops23.inputs, ...hop1.inputs]);
    expect(r.paths).toHaveLength(1);
    expect(r.paths[0]!.hops.map((h) => [h.hop, h.client, h.file])).toEqual(
      whole.paths[0]!.hops.map((h, k) => [h.hop, h.client, k === 0 ? 'hop1.pcap' : 'hops23.pcap']),
    );
    const off = r.clockOffsets.find((c) => c.file === 'hops23.pcap')!;
    expect(off.reference).toBe('hop1.pcap');
    // as good as the fastest crossing each way: within the bound the estimate states, and within 1 ms
    const error = Math.abs(off.offsetUs! - 1_000_000);
    expect(error).toBeLessThanOrEqual(off.uncertaintyUs!);
    expect(error).toBeLessThan(1000);
    // corrected, the exit status's travel is that of the whole capture, within the offset's error
    expect(Math.abs(r.paths[0]!.exit!.travelUs! - whole.paths[0]!.exit!.travelUs!)).toBeLessThan(1000);
    expect(r.paths[0]!.links.map((l) => l.evidence)).toEqual(whole.paths[0]!.links.map((l) => l.evidence));
  });

  it('k127-exec-cat-exit7 with one stdin segment lost by the capture at hop 2: stdin short there because of the capture\'s gap, not stopped', () => {
    const t = truth('k127-exec-cat-exit7');
    const lossy = dropSegment(readFileSync(join(DIR, 'k127-exec-cat-exit7.pcap')), t.ports!.kubelet);
    const d = decodeForPaths(lossy, { file: 'lossy' });
    const r = linkPaths(d.inputs);
    expect(r.unlinked).toEqual([]);
    const p = r.paths[0]!;
    // the hop with the loss is still in the path (the bytes before the loss link it), not skipped
    expect(p.hops.map((h) => h.hop)).toEqual(HOPS);
    expect(p.links.map((l) => [l.confidence, l.partial])).toEqual([
      ['high', true],
      ['high', true],
    ]);
    // hop 3 carried all of stdin: the bytes did not stop at hop 2
    expect(p.hops[2]!.streams.find((s) => s.stream === 'stdin')!.bytes).toBe(t.stdin!.bytes);
    const stop = p.stopped.find((s) => s.stream === 'stdin')!;
    expect(stop).toMatchObject({ why: 'short', hop: 1, previousBytes: t.stdin!.bytes, captureEnded: false, captureGaps: 1 });
    expect(stop.bytes).toBeLessThan(t.stdin!.bytes);
    const text = renderPaths([p], [], new Chalk({ level: 0 })).join('\n');
    expect(text).toContain(`stdin short at hop 2: ${stop.bytes} of ${t.stdin!.bytes} B (its capture lost bytes there: 1 gap)`);
    expect(text).not.toContain('stopped at hop');
    // the whole capture: nothing short, no gaps
    expect(linkPaths(decodeForPaths(join(DIR, 'k127-exec-cat-exit7.pcap'), { file: 'whole' }).inputs).paths[0]!.stopped).toEqual([]);
  });
});

/**
 * A classic little-endian pcap (Ethernet, IPv4) without one segment: the
 * fourth one of more than 1000 payload bytes sent to `serverPort`, as a
 * capture that missed a packet (the endpoints saw it; the capture did not).
 */
function dropSegment(pcap: Buffer, serverPort: number): Uint8Array {
  expect(pcap.readUInt32LE(0)).toBe(0xa1b2c3d4);
  expect(pcap.readUInt32LE(20)).toBe(1);
  const keep: Buffer[] = [pcap.subarray(0, 24)];
  let seen = 0;
  for (let at = 24; at < pcap.length; ) {
    const len = pcap.readUInt32LE(at + 8);
    const rec = pcap.subarray(at, at + 16 + len);
    at += 16 + len;
    const ip = rec.subarray(16 + 14);
    const ihl = (ip[0]! & 0x0f) * 4;
    const tcp = ip.subarray(ihl);
    const payload = ip.readUInt16BE(2) - ihl - (tcp[12]! >> 4) * 4;
    if (ip[9] === 6 && tcp.readUInt16BE(2) === serverPort && payload > 1000 && ++seen === 4) continue;
    keep.push(rec);
  }
  expect(seen).toBeGreaterThan(4);
  return new Uint8Array(Buffer.concat(keep));
}

