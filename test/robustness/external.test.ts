/**
 * Hostile variants of real captures made elsewhere (../shared): WebSocket of
 * other software, TLS with key logs, and the real API server's hops.
 * Lossless variants (reordered, duplicated, overlapped, cut into tiny
 * segments) decode to what the capture itself decodes to, without
 * diagnostics; lossy ones (joined midway, truncated, flipped bits) never
 * throw, never read other software as Kubernetes, and say what and where.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DecodeSummary } from '../../src/timeline/index.js';
import { TlsKeyLog } from '../../src/tls/keylog.js';
import { sharedFiles } from '../helpers/shared-captures.js';
import { decodeBytes, recordBoundaries, type Decoded } from './harness.js';
import { readModel, render, type CaptureModel } from './model.js';
import { duplicate, overlap, reorder, reorderEachDirection, resegment, rng } from './transforms.js';

interface Capture {
  name: string;
  model: CaptureModel;
  keylog: string | null;
  /** Kubernetes traffic (the API server's hops); the others are not. */
  kubernetes: boolean;
}

/** The key log beside a capture: `…capture.pcap` → `…keylog.txt`, `X.pcapng` → `X.keylog-….txt`, a hop's → `….keylog.txt`. */
function keylogOf(path: string): string | null {
  const candidates = [
    path.replace(/capture\.pcap$/, 'keylog.txt'),
    path.replace(/\.pcapng$/, '.keylog-extracted-from-capture-comment.txt'),
    path.replace(/\.tls-dsb\.pcapng$/, '.keylog.txt'),
  ];
  return candidates.find((p) => p !== path && existsSync(p)) ?? null;
}

const captures: Capture[] = [
  ...sharedFiles('external-captures', '.pcap'),
  ...sharedFiles('external-captures', '.pcapng'),
  ...sharedFiles('real-apiserver', '.pcapng'),
].map((path) => ({
  name: path.split('/').pop()!,
  model: readModel(path),
  keylog: keylogOf(path),
  kubernetes: path.includes('real-apiserver'),
}));
if (captures.length === 0) console.warn('no ../shared/external-captures or ../shared/real-apiserver beside the repository: skipping hostile variants of real captures');

function decode(c: Capture, file: Uint8Array): Decoded {
  let tlsKeys: TlsKeyLog | undefined;
  if (c.keylog) {
    tlsKeys = new TlsKeyLog();
    tlsKeys.addText(`${readFileSync(c.keylog, 'utf8')}\n`);
  }
  return decodeBytes(file, { keepBytes: false, tlsKeys });
}

/** What a lossless variant must keep: every session's shape, streams and digests, messages, exit; requests; TLS. */
function shape(s: DecodeSummary): unknown {
  const side = (x: { bytes: number; sha256: string | null }) => `${x.bytes}:${x.sha256}`;
  return {
    sessions: s.sessions
      .map((x) => ({
        kind: x.kind,
        transport: x.transport,
        protocol: x.protocol,
        application: x.application,
        client: x.client,
        server: x.server,
        request: x.request,
        exit: x.exit,
        end: x.end,
        websocketClose: x.websocketClose,
        messages: x.messages,
        streams: x.streams.map((t) => `${t.id}:${t.role} ${side(t.clientToServer)} ${side(t.serverToClient)}`),
        gaps: x.gaps,
        notes: x.notes,
      }))
      .sort((a, b) => a.client.localeCompare(b.client)),
    // connections are numbered by their first packet, which a reorder may change
    requests: s.requests.map((r) => `${r.client} ${r.method} ${r.path} ${r.status}`).sort(),
    tls: (s.tlsConnections ?? []).map((t) => `${t.client} ${t.version} ${t.cipherSuite} ${t.decrypted} ${t.reason} failed ${t.recordsFailed}`).sort(),
  };
}

describe.skipIf(captures.length === 0)('hostile variants of real captures of other software and of the API server', () => {
  it('lossless variants: the same summary as the capture, no diagnostics', () => {
    let variants = 0;
    for (const c of captures) {
      const segs = c.model.segments;
      const clean = decode(c, render(segs, { format: 'pcapng' }));
      expect(clean.threw, c.name).toBe(null);
      expect(clean.diagnostics, c.name).toEqual([]);
      // the key logs work: every TLS connection with one is decrypted
      if (c.keylog) expect(clean.summary.tlsConnections?.map((t) => t.decrypted), c.name).toEqual([true]);
      const want = shape(clean.summary);
      const cases: Array<[string, typeof segs]> = [
        ['reordered in windows of 3', reorder(segs, 1, 3, true)],
        ['reordered in windows of 16', reorder(segs, 2, 16, true)],
        ['reordered, handshake too', reorder(segs, 4, 6)],
        ['each direction reordered', reorderEachDirection(segs, 7, 8)],
        ['every segment duplicated', duplicate(segs, 9, 1, 3)],
        ['overlapping retransmissions', overlap(segs, 12, 0.5)],
        ['reordered, duplicated, overlapped', overlap(duplicate(reorder(segs, 14, 8, true), 15, 0.3), 16, 0.4)],
        ['1–40 byte segments, reordered', reorder(resegment(segs, (r) => 1 + Math.floor(r() * 40), 17), 17, 12, true)],
      ];
      for (const [label, v] of cases) {
        const d = decode(c, render(v, { format: 'pcapng' }));
        const where = `${c.name}: ${label}`;
        expect(d.threw, where).toBe(null);
        expect(d.diagnostics, where).toEqual([]);
        expect(shape(d.summary), where).toEqual(want);
        variants++;
      }
    }
    expect(variants).toBe(captures.length * 8);
  });

  /** No throw; never Kubernetes in other software's traffic; every diagnostic says where (an offset, packet, block or stream). */
  function lossyProblems(c: Capture, d: Decoded, where: string): string[] {
    const out: string[] = [];
    if (d.threw) out.push(`${where}: threw ${String(d.threw)}`);
    if (!c.kubernetes) {
      for (const s of d.summary.sessions) if (s.application === 'kubernetes' || s.kind !== 'unknown') out.push(`${where}: session ${s.session} read as Kubernetes (${s.kind}, ${s.protocol})`);
      for (const x of d.diagnostics) if (x.layer === 'k8s' || x.layer === 'spdy') out.push(`${where}: Kubernetes diagnostic ${x.code}: ${x.message}`);
    }
    // a finding about a whole stream (its Status document) names the stream
    for (const x of d.diagnostics) if (!/(offset|packet|block|stream) \d+/.test(x.message)) out.push(`${where}: ${x.code} says not where: ${x.message}`);
    return out;
  }

  it('joined midway at many packets: never Kubernetes in other software, each session still what it was', () => {
    const problems: string[] = [];
    let variants = 0;
    for (const c of captures) {
      const segs = c.model.segments;
      const full = decode(c, render(segs, { format: 'pcapng' }));
      const application = new Map(full.summary.sessions.map((s) => [`${s.client} ${s.server}`, s.application]));
      const step = Math.max(1, Math.floor(segs.length / 12));
      for (let at = 1; at < segs.length; at += step) {
        const d = decode(c, render(segs.slice(at), { format: 'pcapng' }));
        const where = `${c.name} from packet ${at + 1}`;
        problems.push(...lossyProblems(c, d, where));
        // a joined session is no other application than the whole capture's (its sides may have been swapped)
        // where no frame start was found, what follows is read from an arbitrary byte
        const unframed = new Set(d.diagnostics.filter((x) => x.code === 'TIMELINE_NO_FRAME_START').map((x) => x.connection));
        for (const s of d.summary.sessions) {
          if (unframed.has(s.connection)) continue;
          const was = application.get(`${s.client} ${s.server}`) ?? application.get(`${s.server} ${s.client}`);
          if (was !== undefined && s.application !== was && s.application !== 'raw') problems.push(`${where}: session ${s.session} ${s.application}, was ${was}`);
        }
        variants++;
      }
    }
    expect(problems.slice(0, 5)).toEqual([]);
    expect(variants).toBeGreaterThan(captures.length * 10);
  });

  it('joined midway, in 1-byte segments: decoded in CPU time linear in the bytes', () => {
    const c = captures.find((x) => x.name === 'zeek__zeek__wstunnel-https.pcap');
    if (!c) return void console.warn('zeek__zeek__wstunnel-https.pcap missing: skipping the 1-byte joined capture');
    // 20,000 bytes before the first frame decides: the sniff once copied all it held per byte
    // (11 s of CPU here), now 0.3 s
    const file = render(resegment(c.model.segments.slice(8), 1).slice(0, 20_000), { format: 'pcap' });
    const t = process.cpuUsage();
    const d = decode(c, file);
    const used = process.cpuUsage(t);
    expect(d.threw).toBe(null);
    expect(d.summary.sessions.map((s) => s.application)).toEqual(['websocket']);
    expect((used.user + used.system) / 1e6, 'CPU seconds').toBeLessThan(3);
  });

  it('truncated at many offsets and with flipped bits: no throw, and where the damage is', () => {
    const problems: string[] = [];
    for (const c of captures) {
      const file = c.model.file;
      // the shared captures are little-endian, as `recordBoundaries` reads
      const bounds = recordBoundaries(file, file[0] === 0x0a ? 'pcapng' : 'pcap');
      for (let i = 1; i < 16; i++) {
        let at = Math.floor((file.length * i) / 16) + (i % 5);
        // a cut exactly between records leaves a whole, valid file: cut one byte further
        if (bounds.has(at)) at++;
        const d = decode(c, file.subarray(0, at));
        problems.push(...lossyProblems(c, d, `${c.name} cut at ${at}`));
        if (!d.capture.failed) problems.push(`${c.name} cut at ${at}: the cut is not reported`);
        else if (!d.diagnostics.some((x) => /^CAPTURE_/.test(x.code))) problems.push(`${c.name} cut at ${at}: no capture diagnostic`);
      }
      for (const seed of [21, 22, 23, 24, 25, 26]) {
        const r = rng(seed);
        const bad = file.slice();
        for (let k = 0; k < 3; k++) bad[Math.floor(r() * bad.length)]! ^= 1 << Math.floor(r() * 8);
        problems.push(...lossyProblems(c, decode(c, bad), `${c.name} flipped (seed ${seed})`));
      }
    }
    expect(problems.slice(0, 5)).toEqual([]);
  });
});
