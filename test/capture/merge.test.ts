/**
 * Several captures read as one (`CaptureMerge`, `decodeMergedCaptures`):
 * packets merged by time, a connection seen in several files decoded once,
 * clock offsets, a failing input that leaves the others alone; and the
 * property that any split of a capture's packets into files, given in any
 * order, decodes as the whole capture does.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CaptureMerge, readCaptureBytes, type CapturePacket } from '../../src/capture/index.js';
import { decodeCaptureToConnections, decodeMergedCaptures, type ConnectionEvent } from '../../src/tcp/index.js';
import { SessionDecoder, timelineEventToJson, type DecodeSummary, type TimelineEvent } from '../../src/timeline/index.js';
import { epb, idb, pcapFile, shb } from './builders.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** The packets of a fixture (µs pcap files: their times are whole µs and strictly increasing). */
function packetsOf(name: string): CapturePacket[] {
  const out: CapturePacket[] = [];
  for (const r of readCaptureBytes(readFileSync(join(ROOT, 'fixtures', name)))) {
    if (r.kind === 'packet') out.push({ ...r, data: r.data.slice() });
  }
  return out;
}

/** The packets as a capture file: pcap, or pcapng with µs timestamps. */
function writeCapture(packets: CapturePacket[], format: 'pcap' | 'pcapng', linkType: number): Uint8Array {
  if (format === 'pcap') {
    return pcapFile({ linkType, packets: packets.map((p) => ({ sec: Math.floor(p.time / 1e6), frac: p.time % 1e6, data: p.data })) });
  }
  const parts = [shb(true), idb(true, linkType)];
  for (const p of packets) parts.push(epb(true, 0, Math.floor(p.time / 2 ** 32), p.time % 2 ** 32, p.data));
  return Buffer.concat(parts);
}

interface Decoded {
  events: unknown[];
  summary: DecodeSummary;
}

/** Closes of connections of a merge, and the files they name. */
let closeFiles: string[][] = [];

function eventJson(ev: TimelineEvent): unknown {
  const j = timelineEventToJson(ev, { bytes: true }) as Record<string, unknown>;
  if (ev.kind === 'connection-close' && ev.files !== undefined) {
    closeFiles.push(ev.files);
    delete j.files;
  }
  // diagnostics compare by code and place (the merged ones also name the file)
  if (ev.kind === 'diagnostic') j.error = { code: ev.error.code, offset: ev.error.offset };
  return j;
}

async function decodeWhole(bytes: Uint8Array): Promise<Decoded> {
  const d = new SessionDecoder({ inputNames: ['whole'] });
  const events: unknown[] = [];
  await decodeCaptureToConnections(bytes, (ev) => d.push(ev).forEach((e) => events.push(eventJson(e))));
  d.finish().forEach((e) => events.push(eventJson(e)));
  return { events, summary: d.summary() };
}

async function decodeMerged(files: Uint8Array[], names: string[], clockOffsetsUs?: number[]): Promise<Decoded & { tcp: ConnectionEvent[] }> {
  const d = new SessionDecoder({ inputNames: names });
  const events: unknown[] = [];
  const tcp: ConnectionEvent[] = [];
  await decodeMergedCaptures(
    files,
    (ev) => {
      tcp.push(ev.kind === 'data' ? { ...ev, bytes: ev.bytes.slice() } : ev);
      d.push(ev).forEach((e) => events.push(eventJson(e)));
    },
    { names, clockOffsetsUs },
  );
  d.finish().forEach((e) => events.push(eventJson(e)));
  return { events, summary: d.summary(), tcp };
}

/** The summary without `files` (what a merge must keep the same). */
function withoutFiles(s: DecodeSummary): unknown {
  return JSON.parse(
    JSON.stringify(s, (k, v: unknown) => (k === 'files' ? undefined : v)),
  ) as unknown;
}

const FIXTURES = ['k127-exec.pcap', 'k127-portforward.pcap', 'k133-exec-exit3.pcap', 'containerd-exec-tty-resize.pcap'];

describe('CaptureMerge', () => {
  const pkt = (time: number) => ({ sec: Math.floor(time / 1e6), frac: time % 1e6, data: new Uint8Array([time % 256]) });
  const file = (times: number[]) => pcapFile({ linkType: 1, packets: times.map(pkt) });
  const order = (m: CaptureMerge) => {
    const out: string[] = [];
    for (let r = m.next(); r !== null; r = m.next()) if (r.record.kind === 'packet') out.push(`${r.input}@${r.record.time}`);
    return out;
  };

  it('merges by time, equal times to the input given first, each input in its own order', () => {
    const m = new CaptureMerge(3);
    m.push(0, file([10, 20, 20, 40]));
    m.push(1, file([5, 20, 30]));
    m.push(2, file([50, 15])); // not sorted: kept in its order
    for (let i = 0; i < 3; i++) m.end(i);
    expect(order(m)).toEqual(['1@5', '0@10', '0@20', '0@20', '1@20', '1@30', '0@40', '2@50', '2@15']);
    expect(m.waitingFor).toBe(-1);
  });

  it('adds each input its clock offset before comparing', () => {
    const m = new CaptureMerge(2, { clockOffsetsUs: [0, -1_000_000] });
    m.push(0, file([1_000_100, 1_000_300]));
    m.push(1, file([2_000_200]));
    m.end(0);
    m.end(1);
    expect(order(m)).toEqual(['0@1000100', '1@1000200', '0@1000300']);
  });

  it('waits for the input whose next packet it needs, and reads the others meanwhile', () => {
    const a = file([10, 30]);
    const m = new CaptureMerge(2);
    m.push(0, a);
    m.end(0);
    expect(m.next()).toBeNull();
    expect(m.waitingFor).toBe(1);
    const b = file([20]);
    m.push(1, b.subarray(0, 30)); // the header and part of the record
    expect(m.next()).toBeNull();
    expect(m.waitingFor).toBe(1);
    m.push(1, b.subarray(30));
    m.end(1);
    expect(order(m)).toEqual(['0@10', '1@20', '0@30']);
  });

  it('a corrupt input ends with its fatal diagnostic; the others go on', () => {
    const m = new CaptureMerge(2);
    m.push(0, file([10, 20, 30]));
    m.push(1, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
    m.end(0);
    m.end(1);
    const got: string[] = [];
    for (let r = m.next(); r !== null; r = m.next()) {
      got.push(r.record.kind === 'packet' ? `${r.input}@${r.record.time}` : `${r.input}:${r.record.kind === 'diagnostic' ? r.record.error.code : r.record.kind}`);
    }
    expect(got).toEqual(['1:CAPTURE_UNKNOWN_FORMAT', '0@10', '0@20', '0@30']);
  });
});

describe('decodeMergedCaptures', () => {
  it.each(FIXTURES)('%s given twice (and partly a third time) is one connection per 4-tuple, byte-exact, no diagnostics', async (name) => {
    const bytes = readFileSync(join(ROOT, 'fixtures', name));
    const packets = packetsOf(name);
    const whole = await decodeWhole(bytes);
    const part = writeCapture(packets.slice(Math.floor(packets.length / 3), Math.floor((2 * packets.length) / 3)), 'pcapng', packets[0]!.linkType);
    const got = await decodeMerged([bytes, writeCapture(packets, 'pcapng', packets[0]!.linkType), part], ['a', 'b', 'c']);
    expect(got.summary.diagnostics).toBe(0);
    expect(got.summary.connections).toBe(whole.summary.connections);
    expect(withoutFiles(got.summary)).toEqual(withoutFiles(whole.summary));
    for (const s of got.summary.sessions) expect(s.files.slice(0, 2)).toEqual(['a', 'b']);
    // the middle third holds packets of the sessions' connections
    expect(got.summary.sessions.some((s) => s.files.includes('c'))).toBe(true);
  });

  it('a clock offset shifts every time by exactly that much', async () => {
    const bytes = readFileSync(join(ROOT, 'fixtures', 'k127-exec.pcap'));
    const plain = await decodeMerged([bytes], ['a']);
    const shifted = await decodeMerged([bytes], ['a'], [1_100_000]);
    expect(plain.summary.sessions.length).toBeGreaterThan(0);
    expect(shifted.summary.sessions.map((s) => s.startTime)).toEqual(plain.summary.sessions.map((s) => s.startTime + 1_100_000));
    expect(shifted.tcp.map((e) => e.time)).toEqual(plain.tcp.map((e) => (e.time === undefined ? undefined : e.time + 1_100_000)));
  });

  it('a copy taken on a clock 2.5 s ahead, corrected, is the same connection', async () => {
    const packets = packetsOf('k127-exec.pcap');
    const bytes = readFileSync(join(ROOT, 'fixtures', 'k127-exec.pcap'));
    const ahead = writeCapture(packets.map((p) => ({ ...p, time: p.time + 2_500_000 })), 'pcap', packets[0]!.linkType);
    const whole = await decodeWhole(bytes);
    const wrong = await decodeMerged([bytes, ahead], ['a', 'b']);
    expect(wrong.summary.sessions.length).toBe(2 * whole.summary.sessions.length); // uncorrected: seen twice
    const right = await decodeMerged([bytes, ahead], ['a', 'b'], [0, -2_500_000]);
    expect(withoutFiles(right.summary)).toEqual(withoutFiles(whole.summary));
  });

  it('property: a copy from a clock a little off (uncorrected) still decodes byte for byte, without diagnostics', async () => {
    const inputs = FIXTURES.map((name) => ({ bytes: readFileSync(join(ROOT, 'fixtures', name)), packets: packetsOf(name) }));
    const wholes = await Promise.all(inputs.map((i) => decodeWhole(i.bytes)));
    const streams = (s: DecodeSummary) => s.sessions.map((x) => ({ streams: x.streams, exit: x.exit, hop: x.hop, kind: x.kind }));
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: inputs.length - 1 }), fc.integer({ min: -3000, max: 3000 }), fc.boolean(), async (which, skewUs, copyFirst) => {
        const { bytes, packets } = inputs[which]!;
        const copy = writeCapture(packets.map((p) => ({ ...p, time: p.time + skewUs })), 'pcapng', packets[0]!.linkType);
        const got = await decodeMerged(copyFirst ? [copy, bytes] : [bytes, copy], ['a', 'b']);
        expect(got.summary.diagnostics).toBe(0);
        expect(streams(got.summary)).toEqual(streams(wholes[which]!.summary));
        for (const s of got.summary.sessions) expect(s.files).toEqual(['a', 'b']);
      }),
      { numRuns: 30 },
    );
  });

  it('property: any split of a capture into files, given in any order, in pcap or pcapng, decodes as the whole', async () => {
    const inputs = FIXTURES.map((name) => ({ name, bytes: readFileSync(join(ROOT, 'fixtures', name)), packets: packetsOf(name) }));
    const wholes = await Promise.all(inputs.map((i) => decodeWhole(i.bytes)));
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: inputs.length - 1 }),
        fc.integer({ min: 1, max: 4 }).chain((k) =>
          fc.tuple(
            fc.constant(k),
            fc.array(fc.integer({ min: 0, max: k - 1 }), { minLength: 400, maxLength: 400 }),
            fc.shuffledSubarray([...Array(k).keys()], { minLength: k, maxLength: k }),
            fc.array(fc.constantFrom<'pcap' | 'pcapng'>('pcap', 'pcapng'), { minLength: k, maxLength: k }),
          ),
        ),
        async (which, [k, assign, argOrder, formats]) => {
          const { packets } = inputs[which]!;
          const parts: CapturePacket[][] = Array.from({ length: k }, () => []);
          packets.forEach((p, i) => parts[assign[i % assign.length]!]!.push(p));
          const files = argOrder.map((part) => writeCapture(parts[part]!, formats[part]!, packets[0]!.linkType));
          const names = argOrder.map((part) => `part${part}`);
          closeFiles = [];
          const got = await decodeMerged(files, names);
          // several files: each connection's close names files that hold packets
          if (k > 1) expect(closeFiles.length).toBe(got.summary.connections);
          for (const f of closeFiles.flat()) expect(parts[Number(f.slice(4))]!.length).toBeGreaterThan(0);
          const whole = wholes[which]!;
          expect(got.events).toEqual(whole.events);
          expect(withoutFiles(got.summary)).toEqual(withoutFiles(whole.summary));
          for (const s of got.summary.sessions) {
            expect(s.files.length).toBeGreaterThan(0);
            // in command-line order, each a file that holds packets
            expect(s.files).toEqual(names.filter((n) => s.files.includes(n)));
            for (const f of s.files) expect(parts[Number(f.slice(4))]!.length).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
