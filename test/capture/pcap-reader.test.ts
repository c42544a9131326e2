import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CaptureReader, readCaptureBytes, type CapturePacket, type CaptureRecord } from '../../src/capture/index.js';
import { isKubewireError } from '../../src/common/errors.js';
import { chunkings } from '../../src/testing/index.js';
import { ascii, concat, pcapFile } from './builders.js';

const PACKETS = [
  { sec: 1_700_000_000, frac: 123_456, data: ascii('first packet') },
  { sec: 1_700_000_001, frac: 999_999, data: ascii('second'), origLen: 60 },
  { sec: 1_700_000_002, frac: 0, data: new Uint8Array(300).fill(9) },
];

function all(bytes: Uint8Array, mode: 'strict' | 'inspect' = 'inspect'): CaptureRecord[] {
  return [...readCaptureBytes(bytes, { mode })];
}

function packets(records: CaptureRecord[]): CapturePacket[] {
  return records.filter((r): r is CapturePacket => r.kind === 'packet');
}

describe('pcap reader', () => {
  it('reads little- and big-endian files alike, with µs timestamps and snaplen truncation flagged', () => {
    for (const le of [true, false]) {
      const ps = packets(all(pcapFile({ le, packets: PACKETS })));
      expect(ps.map((p) => p.number)).toEqual([1, 2, 3]);
      expect(ps.map((p) => p.time)).toEqual([1_700_000_000_123_456, 1_700_000_001_999_999, 1_700_000_002_000_000]);
      expect(new TextDecoder().decode(ps[0]!.data)).toBe('first packet');
      expect(ps.map((p) => p.truncated)).toEqual([false, true, false]);
      expect(ps[1]!.originalLength).toBe(60);
      expect(ps.map((p) => p.offset)).toEqual([24, 24 + 16 + 12, 24 + 16 + 12 + 16 + 6]);
      expect(ps[0]!.linkType).toBe(1);
    }
  });

  it('nanosecond magic gives fractional microseconds', () => {
    const ps = packets(all(pcapFile({ nanos: true, packets: [{ sec: 10, frac: 123_456_789, data: ascii('x') }] })));
    expect(ps[0]!.time).toBeCloseTo(10_123_456.789, 3);
  });

  it('reads the Kuznetsov-patched format (24-byte record headers)', () => {
    const head = pcapFile({ packets: [] });
    new DataView(head.buffer).setUint32(0, 0xa1b2cd34, true);
    // ts_sec | ts_usec | caplen | len | ifindex (4) | protocol (2) | pkt_type (1) | pad (1)
    const rec = new Uint8Array(24 + 3);
    const v = new DataView(rec.buffer);
    v.setUint32(0, 7, true);
    v.setUint32(4, 8, true);
    v.setUint32(8, 3, true);
    v.setUint32(12, 3, true);
    rec.set(ascii('abc'), 24);
    const rs = all(concat(head, rec, rec));
    const ps = packets(rs);
    expect(ps.map((p) => new TextDecoder().decode(p.data))).toEqual(['abc', 'abc']);
    expect(ps[1]!.time).toBe(7_000_008);
    expect(ps[1]!.offset).toBe(24 + 27);
  });

  it('strips the FCS announced in the link-type word', () => {
    // bit 26 = FCS present, bits 28–31 = 2 (16-bit words) → 4 bytes
    const file = pcapFile({ linkWordExtra: 0x2400_0000, packets: [{ sec: 0, frac: 0, data: ascii('dataFCS!') }] });
    const [p] = packets(all(file));
    expect(new TextDecoder().decode(p!.data)).toBe('data');
    expect(p!.linkType).toBe(1);
  });

  it('gives the same records for any chunking of the input', () => {
    const file = pcapFile({ packets: PACKETS });
    const expected = packets(all(file)).map((p) => [p.number, p.time, Buffer.from(p.data).toString('hex')]);
    fc.assert(
      fc.property(chunkings(file, 12), (chunks) => {
        const r = new CaptureReader();
        const got: unknown[] = [];
        for (const c of chunks) {
          r.push(c);
          for (let x = r.next(); x; x = r.next()) if (x.kind === 'packet') got.push([x.number, x.time, Buffer.from(x.data).toString('hex')]);
        }
        r.end();
        for (let x = r.next(); x; x = r.next()) got.push(x);
        expect(got).toEqual(expected);
      }),
      { numRuns: 100 },
    );
  });

  it('a truncated file header is a clear fatal error', () => {
    const rs = all(pcapFile({ packets: [] }).subarray(0, 10));
    expect(rs).toHaveLength(1);
    expect(rs[0]).toMatchObject({ kind: 'diagnostic', fatal: true, error: { code: 'CAPTURE_TRUNCATED_HEADER', layer: 'capture' } });
  });

  it('an absurd captured length stops the reader after everything before it came out', () => {
    const file = pcapFile({ packets: PACKETS });
    const third = 24 + 16 + 12 + 16 + 6;
    new DataView(file.buffer).setUint32(third + 8, 0x7fff_fff0, true);
    const rs = all(file);
    expect(packets(rs)).toHaveLength(2);
    const last = rs[rs.length - 1]!;
    expect(last).toMatchObject({ kind: 'diagnostic', fatal: true });
    if (last.kind !== 'diagnostic') throw new Error('unreachable');
    expect(last.error).toMatchObject({ code: 'CAPTURE_ABSURD_CAPTURED_LENGTH', packet: 3, offset: third, scope: 'file' });
    expect(last.error.message).toMatch(/packet 3, offset 74/);
  });

  it('a packet cut mid-file is reported with its number and offset', () => {
    const file = pcapFile({ packets: PACKETS });
    const rs = all(file.subarray(0, file.length - 100));
    expect(packets(rs)).toHaveLength(2);
    expect(rs[2]).toMatchObject({ kind: 'diagnostic', fatal: true, error: { code: 'CAPTURE_TRUNCATED_PACKET', packet: 3, offset: 74 } });
    // cut inside the record header
    const rs2 = all(file.subarray(0, 74 + 7));
    expect(rs2[2]).toMatchObject({ error: { code: 'CAPTURE_TRUNCATED_PACKET', packet: 3 } });
  });

  it('strict mode throws after yielding the good packets; empty and unknown inputs are errors', () => {
    const file = pcapFile({ packets: PACKETS }).subarray(0, 100);
    const seen: number[] = [];
    expect(() => {
      for (const r of readCaptureBytes(file, { mode: 'strict' })) if (r.kind === 'packet') seen.push(r.number);
    }).toThrow(/input ended inside a pcap record/);
    expect(seen).toEqual([1, 2]);
    expect(all(new Uint8Array(0))[0]).toMatchObject({ error: { code: 'CAPTURE_EMPTY' } });
    expect(all(ascii('GET / HTTP/1.1\r\n'))[0]).toMatchObject({ error: { code: 'CAPTURE_UNKNOWN_FORMAT' } });
  });

  it('garbage after a valid magic never throws in inspect mode, and only KubewireError in strict mode', () => {
    const header = pcapFile({ packets: [] });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (tail, le) => {
        const file = concat(le ? header : pcapFile({ le: false, packets: [] }), tail);
        const rs = all(file);
        expect(rs.filter((r) => r.kind === 'diagnostic' && r.fatal).length).toBeLessThanOrEqual(1);
        try {
          all(file, 'strict');
        } catch (e) {
          expect(isKubewireError(e)).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('chunks arriving one by one produce records as soon as they are complete', () => {
    const file = pcapFile({ packets: PACKETS });
    const r = new CaptureReader();
    r.push(file.subarray(0, 24 + 16 + 12));
    expect(r.next()).toMatchObject({ kind: 'packet', number: 1 });
    expect(r.next()).toBeNull();
    expect(r.buffered).toBe(0);
    r.push(file.subarray(52, 60));
    expect(r.next()).toBeNull();
    expect(r.buffered).toBe(8);
  });
});
