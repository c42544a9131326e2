import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CaptureReader, readCaptureBytes, type CapturePacket, type CaptureRecord } from '../../src/capture/index.js';
import { chunkings } from '../../src/testing/index.js';
import { ascii, concat, epb, idb, ngBlock, obsoletePb, shb, spb } from './builders.js';

const IF_NAME = 2;
const IF_TSRESOL = 9;
const IF_TSOFFSET = 14;
const IF_FCSLEN = 13;

function all(bytes: Uint8Array): CaptureRecord[] {
  return [...readCaptureBytes(bytes)];
}
const packets = (rs: CaptureRecord[]) => rs.filter((r): r is CapturePacket => r.kind === 'packet');

/** Two sections (little- then big-endian) with three interfaces of different link types and resolutions. */
function twoSections(): Uint8Array {
  const ns = 1_700_000_000_123_456_789n; // nanoseconds
  const hi = Number(ns >> 32n);
  const lo = Number(ns & 0xffffffffn);
  return concat(
    shb(true),
    idb(true, 1, [[IF_NAME, ascii('eth0')], [IF_TSRESOL, new Uint8Array([9])]]),
    idb(true, 276, [[IF_NAME, ascii('any')]]),
    epb(true, 0, hi, lo, ascii('eth-frame')),
    ngBlock(true, 0x99, ascii('unknown block body')), // skipped
    ngBlock(true, 0x00000bad, concat(new Uint8Array([0, 0, 0x7e, 0x9c]), ascii('custom'))), // custom block, skipped
    epb(true, 1, 0, 2_000_000, ascii('sll2-frame'), 100),
    ngBlock(true, 5, new Uint8Array(16)), // interface statistics, skipped
    shb(false),
    idb(false, 101, [
      [IF_TSRESOL, new Uint8Array([0x80 | 10])], // 2^-10 s
      [IF_TSOFFSET, new Uint8Array([0, 0, 0, 0, 0, 0, 0, 100])], // +100 s (big-endian section)
    ]),
    epb(false, 0, 0, 1024, ascii('raw-frame')),
    spb(false, ascii('simple!')),
    obsoletePb(false, 0, 0, 2048, ascii('old')),
  );
}

describe('pcapng reader', () => {
  it('reads several sections in both byte orders with several interfaces and resolutions', () => {
    const rs = all(twoSections());
    expect(rs.filter((r) => r.kind === 'diagnostic')).toEqual([]);
    const ifs = rs.filter((r) => r.kind === 'interface');
    expect(ifs).toMatchObject([
      { section: 0, interfaceId: 0, linkType: 1, name: 'eth0', resolution: 1e-9 },
      { section: 0, interfaceId: 1, linkType: 276, name: 'any', resolution: 1e-6 },
      { section: 1, interfaceId: 0, linkType: 101, resolution: 2 ** -10 },
    ]);
    const ps = packets(rs);
    expect(ps.map((p) => new TextDecoder().decode(p.data))).toEqual(['eth-frame', 'sll2-frame', 'raw-frame', 'simple!', 'old']);
    expect(ps.map((p) => p.linkType)).toEqual([1, 276, 101, 101, 101]);
    expect(ps.map((p) => p.number)).toEqual([1, 2, 3, 4, 5]);
    expect(ps[0]!.time).toBeCloseTo(1_700_000_000_123_456.789, 2);
    expect(ps[1]!.time).toBe(2_000_000);
    expect(ps[1]!.truncated).toBe(true);
    expect(ps[2]!.time).toBe(100e6 + 1e6); // 1024 × 2^-10 s + 100 s
    expect(ps[3]!.time).toBe(ps[2]!.time); // simple packet blocks carry no time
    expect(ps[4]!.time).toBe(100e6 + 2e6);
    expect(ps[0]!.block).toBe(4);
  });

  it('gives the same records for any chunking', () => {
    const file = twoSections();
    const sig = (r: CaptureRecord) => (r.kind === 'packet' ? [r.number, r.time, Buffer.from(r.data).toString('hex')] : r.kind);
    const expected = all(file).map(sig);
    fc.assert(
      fc.property(chunkings(file, 24), (chunks) => {
        const r = new CaptureReader();
        const got: unknown[] = [];
        for (const c of chunks) {
          r.push(c);
          for (let x = r.next(); x; x = r.next()) got.push(sig(x));
        }
        r.end();
        for (let x = r.next(); x; x = r.next()) got.push(sig(x));
        expect(got).toEqual(expected);
      }),
      { numRuns: 100 },
    );
  });

  it('strips the FCS announced by if_fcslen', () => {
    const file = concat(shb(true), idb(true, 1, [[IF_FCSLEN, new Uint8Array([4])]]), epb(true, 0, 0, 0, ascii('abcdFCS!')));
    expect(new TextDecoder().decode(packets(all(file))[0]!.data)).toBe('abcd');
  });

  it('a block length that is not a multiple of 4 stops the reader, naming block and offset', () => {
    const good = concat(shb(true), idb(true, 1), epb(true, 0, 0, 0, ascii('one')));
    const bad = epb(true, 0, 0, 0, ascii('two'));
    new DataView(bad.buffer).setUint32(4, 33, true);
    const rs = all(concat(good, bad, epb(true, 0, 0, 0, ascii('three'))));
    expect(packets(rs).map((p) => new TextDecoder().decode(p.data))).toEqual(['one']);
    const last = rs[rs.length - 1]!;
    expect(last).toMatchObject({ kind: 'diagnostic', fatal: true, error: { code: 'CAPTURE_BAD_BLOCK_LENGTH', block: 4, offset: good.length } });
    if (last.kind === 'diagnostic') expect(last.error.message).toMatch(/block 4, offset \d+/);
  });

  it('a trailing length that does not match, an absurd length, and a block cut mid-file are errors', () => {
    const head = concat(shb(true), idb(true, 1));
    const mismatch = all(concat(head, ngBlock(true, 6, new Uint8Array(20), true)));
    expect(mismatch[mismatch.length - 1]).toMatchObject({ error: { code: 'CAPTURE_BAD_BLOCK_LENGTH', block: 3 } });
    const absurd = epb(true, 0, 0, 0, ascii('x'));
    new DataView(absurd.buffer).setUint32(4, 0x7ffffff0, true);
    expect(all(concat(head, absurd)).pop()).toMatchObject({ error: { code: 'CAPTURE_BAD_BLOCK_LENGTH' } });
    const cut = concat(head, epb(true, 0, 0, 0, ascii('one')), epb(true, 0, 0, 0, ascii('two')));
    const rs = all(cut.subarray(0, cut.length - 5));
    expect(packets(rs)).toHaveLength(1);
    expect(rs.pop()).toMatchObject({ error: { code: 'CAPTURE_TRUNCATED_PACKET', block: 4, packet: 2 } });
  });

  it('a caplen larger than its block is skipped with a diagnostic, and reading continues', () => {
    const bad = epb(true, 0, 0, 0, ascii('abcd'));
    new DataView(bad.buffer).setUint32(20, 1000, true);
    const rs = all(concat(shb(true), idb(true, 1), bad, epb(true, 0, 0, 0, ascii('ok'))));
    expect(rs.map((r) => r.kind)).toEqual(['interface', 'diagnostic', 'packet']);
    expect(rs[1]).toMatchObject({ fatal: false, error: { code: 'CAPTURE_MALFORMED_BLOCK', packet: 1 } });
  });

  it('an unknown interface id is reported and the packet skipped', () => {
    const rs = all(concat(shb(true), idb(true, 1), epb(true, 3, 0, 0, ascii('x')), epb(true, 0, 0, 0, ascii('y'))));
    expect(rs.map((r) => r.kind)).toEqual(['interface', 'diagnostic', 'packet']);
    expect(rs[1]).toMatchObject({ error: { code: 'CAPTURE_UNKNOWN_INTERFACE' } });
  });

  it('a block before any section header is an error; so is an unsupported version', () => {
    // Starts with the SHB magic bytes but then the byte-order magic is wrong.
    const broken = shb(true);
    broken[8] = 0;
    expect(all(broken)[0]).toMatchObject({ error: { code: 'CAPTURE_MALFORMED_BLOCK' } });
    const v2 = shb(true);
    new DataView(v2.buffer).setUint16(12, 2, true);
    expect(all(v2)[0]).toMatchObject({ error: { code: 'CAPTURE_UNSUPPORTED_VERSION', block: 1, offset: 0 } });
  });

  it('every truncation of a valid file yields a prefix of its packets and at most one fatal error', () => {
    const file = twoSections();
    const full = packets(all(file)).length;
    for (let cut = 0; cut < file.length; cut += 7) {
      const rs = all(file.subarray(0, cut));
      const n = packets(rs).length;
      expect(n).toBeLessThanOrEqual(full);
      expect(rs.filter((r) => r.kind === 'diagnostic' && r.fatal).length).toBeLessThanOrEqual(1);
    }
  });
});
