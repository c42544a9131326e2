import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LINKTYPE, PacketDecoder } from '../../src/capture/index.js';
import type { KubewireError } from '../../src/common/errors.js';
import { formatAddress } from '../../src/tcp/index.js';
import { ascii, concat, ethernet, ipv4, ipv6, tcpHeader, v6 } from './builders.js';

const A = [192, 168, 1, 10];
const B = [10, 96, 0, 1];
const TCP = tcpHeader({ sport: 40000, dport: 6443, seq: 0x01020304, ack: 7, flags: 0x18 }, ascii('hello'));
const IP4 = ipv4(A, B, TCP);

function decode(linkType: number, frame: Uint8Array) {
  const diags: KubewireError[] = [];
  const d = new PacketDecoder({ onDiagnostic: (e) => diags.push(e) });
  const seg = d.decodeFrame(linkType, frame, 5, 9);
  return { seg, diags, d };
}

function expectHello(linkType: number, frame: Uint8Array) {
  const { seg, diags } = decode(linkType, frame);
  expect(diags).toEqual([]);
  expect(seg).not.toBeNull();
  expect(formatAddress(seg!.src)).toBe('192.168.1.10');
  expect(formatAddress(seg!.dst)).toBe('10.96.0.1');
  expect(seg).toMatchObject({ srcPort: 40000, dstPort: 6443, seq: 0x01020304, ack: 7, flags: 0x18, missing: 0, time: 5, packet: 9 });
  expect(new TextDecoder().decode(seg!.payload)).toBe('hello');
}

describe('link layers', () => {
  it('Ethernet: golden bytes, and the padding of a short frame is trimmed by the IP length', () => {
    const frame = ethernet(0x0800, IP4, [], 60);
    expect(frame.length).toBe(60);
    // dst, src, type 0800, then IPv4 version/IHL 45
    expect(Buffer.from(frame.subarray(0, 15)).toString('hex')).toBe('020000000002020000000001080045');
    expectHello(LINKTYPE.ETHERNET, frame);
  });

  it('802.1Q and QinQ tags are skipped', () => {
    expectHello(LINKTYPE.ETHERNET, ethernet(0x0800, IP4, [0x8100]));
    expectHello(LINKTYPE.ETHERNET, ethernet(0x0800, IP4, [0x88a8, 0x8100]));
    expectHello(LINKTYPE.ETHERNET, ethernet(0x0800, IP4, [0x9100, 0x8100]));
  });

  it('BSD NULL in either host byte order, and LOOP (big-endian)', () => {
    expectHello(LINKTYPE.NULL, concat(new Uint8Array([2, 0, 0, 0]), IP4));
    expectHello(LINKTYPE.NULL, concat(new Uint8Array([0, 0, 0, 2]), IP4));
    expectHello(LINKTYPE.LOOP, concat(new Uint8Array([0, 0, 0, 2]), IP4));
    // macOS AF_INET6 = 30, little-endian host
    const frame6 = concat(new Uint8Array([30, 0, 0, 0]), ipv6(v6(1), v6(2), 6, TCP));
    const { seg } = decode(LINKTYPE.NULL, frame6);
    expect(seg && formatAddress(seg.src)).toBe('fd00::1');
  });

  it('RAW (and the legacy DLT 12/14 values), IPV4 and IPV6 link types', () => {
    expectHello(LINKTYPE.RAW, IP4);
    expectHello(LINKTYPE.RAW_DLT12, IP4);
    expectHello(LINKTYPE.RAW_DLT14, IP4);
    expectHello(LINKTYPE.IPV4, IP4);
    const { seg } = decode(LINKTYPE.IPV6, ipv6(v6(1), v6(2), 6, TCP));
    expect(seg && formatAddress(seg.dst)).toBe('fd00::2');
    const raw6 = decode(LINKTYPE.RAW, ipv6(v6(1), v6(2), 6, TCP));
    expect(raw6.seg?.srcPort).toBe(40000);
  });

  it('Linux cooked v1 (SLL) and v2 (SLL2)', () => {
    // pkttype 4 (outgoing) | ARPHRD 772 | addrlen 6 | addr (8) | protocol 0800
    const sll = concat(new Uint8Array([0, 4, 3, 4, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00]), IP4);
    expectHello(LINKTYPE.LINUX_SLL, sll);
    // protocol 0800 | reserved | ifindex 1 | ARPHRD 772 | pkttype 0 | addrlen 6 | addr (8)
    const sll2 = concat(new Uint8Array([0x08, 0x00, 0, 0, 0, 0, 0, 1, 3, 4, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0]), IP4);
    expectHello(LINKTYPE.LINUX_SLL2, sll2);
    // SLL2 carrying a VLAN tag: protocol 8100, then TCI + EtherType
    const sll2v = concat(new Uint8Array([0x81, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0x08, 0x00]), IP4);
    expectHello(LINKTYPE.LINUX_SLL2, sll2v);
  });

  it('unsupported link types are reported once; non-IP frames are skipped silently', () => {
    const d = new PacketDecoder({ onDiagnostic: (e) => diags.push(e) });
    const diags: KubewireError[] = [];
    expect(d.decodeFrame(147, IP4)).toBeNull();
    expect(d.decodeFrame(147, IP4)).toBeNull();
    expect(diags.map((e) => e.code)).toEqual(['CAPTURE_UNSUPPORTED_LINK_TYPE']);
    expect(d.decodeFrame(LINKTYPE.ETHERNET, ethernet(0x0806, new Uint8Array(28)))).toBeNull();
    expect(diags).toHaveLength(1);
  });
});

describe('IPv4', () => {
  it('header options are skipped', () => {
    const withOpts = ipv4(A, B, TCP, { options: new Uint8Array([1, 1, 1, 0, 0x44, 4, 5, 0]) });
    expectHello(LINKTYPE.RAW, withOpts);
  });

  it('total length 0 (segmentation offload): the payload is what was captured', () => {
    expectHello(LINKTYPE.RAW, ipv4(A, B, TCP, { totalLength: 0 }));
  });

  it('a length beyond the captured bytes (snaplen) becomes `missing`', () => {
    const full = ipv4(A, B, tcpHeader({ sport: 1, dport: 2, seq: 0 }, new Uint8Array(100)));
    const { seg } = decode(LINKTYPE.RAW, full.subarray(0, 20 + 20 + 30));
    expect(seg!.payload.length).toBe(30);
    expect(seg!.missing).toBe(70);
  });

  it('fragments are reassembled in any order', () => {
    const payload = new Uint8Array(100).map((_, i) => i);
    const tcp = tcpHeader({ sport: 1, dport: 2, seq: 42 }, payload);
    const d = new PacketDecoder();
    const f1 = ipv4(A, B, tcp.subarray(0, 48), { id: 7, more: true });
    const f2 = ipv4(A, B, tcp.subarray(48, 96), { id: 7, fragOffset: 48, more: true });
    const f3 = ipv4(A, B, tcp.subarray(96), { id: 7, fragOffset: 96 });
    expect(d.decodeFrame(LINKTYPE.RAW, f3)).toBeNull();
    expect(d.decodeFrame(LINKTYPE.RAW, f1)).toBeNull();
    const seg = d.decodeFrame(LINKTYPE.RAW, f2);
    expect(seg?.seq).toBe(42);
    expect(Buffer.from(seg!.payload).equals(Buffer.from(payload))).toBe(true);
  });

  it('fragment reassembly is bounded', () => {
    const diags: KubewireError[] = [];
    const d = new PacketDecoder({ onDiagnostic: (e) => diags.push(e), fragments: { maxDatagrams: 2 } });
    for (let id = 0; id < 5; id++) d.decodeFrame(LINKTYPE.RAW, ipv4(A, B, new Uint8Array(16), { id, more: true }));
    expect(diags.map((e) => e.code)).toContain('CAPTURE_FRAGMENTS_DROPPED');
  });

  it('malformed headers are reported with the packet number and skipped', () => {
    const bad = ipv4(A, B, TCP);
    bad[0] = 0x43; // IHL 3
    const { seg, diags } = decode(LINKTYPE.RAW, bad);
    expect(seg).toBeNull();
    expect(diags[0]).toMatchObject({ code: 'CAPTURE_MALFORMED_PACKET', packet: 9, layer: 'capture' });
    const shortTcp = decode(LINKTYPE.RAW, ipv4(A, B, new Uint8Array(10)));
    expect(shortTcp.diags[0]?.code).toBe('CAPTURE_MALFORMED_PACKET');
  });

  it('IP-in-IP is followed', () => {
    expectHello(LINKTYPE.RAW, ipv4([1, 1, 1, 1], [2, 2, 2, 2], IP4, { proto: 4 }));
  });
});

describe('IPv6', () => {
  const hbh = (next: number) => new Uint8Array([next, 0, 1, 4, 0, 0, 0, 0]); // PadN
  const dstopts = (next: number) => new Uint8Array([next, 0, 1, 4, 0, 0, 0, 0]);

  it('extension headers are walked', () => {
    const frame = ipv6(v6(1), v6(2), 0, concat(hbh(60), dstopts(43), new Uint8Array([6, 0, 0, 0, 0, 0, 0, 0]), TCP));
    const { seg, diags } = decode(LINKTYPE.RAW, frame);
    expect(diags).toEqual([]);
    expect(new TextDecoder().decode(seg!.payload)).toBe('hello');
    expect(formatAddress(seg!.src)).toBe('fd00::1');
  });

  it('fragments are reassembled (with headers inside the fragmentable part)', () => {
    const inner = concat(dstopts(6), TCP);
    const frag = (off: number, more: boolean, id: number) =>
      new Uint8Array([60, 0, (off >> 8) & 0xff, (off & 0xf8) | (more ? 1 : 0), 0, 0, 0, id]);
    const d = new PacketDecoder();
    const part1 = inner.subarray(0, 24);
    const part2 = inner.subarray(24);
    expect(d.decodeFrame(LINKTYPE.RAW, ipv6(v6(1), v6(2), 44, concat(frag(24, false, 9), part2)))).toBeNull();
    const seg = d.decodeFrame(LINKTYPE.RAW, ipv6(v6(1), v6(2), 44, concat(frag(0, true, 9), part1)));
    expect(seg && new TextDecoder().decode(seg.payload)).toBe('hello');
  });

  it('an atomic fragment is a whole datagram', () => {
    const frame = ipv6(v6(1), v6(2), 44, concat(new Uint8Array([6, 0, 0, 0, 0, 0, 0, 1]), TCP));
    expect(decode(LINKTYPE.RAW, frame).seg?.srcPort).toBe(40000);
  });

  it('payload length 0: jumbo option length, or what was captured', () => {
    const jumbo = new Uint8Array([6, 0, 0xc2, 4, 0, 0, 0, 8 + TCP.length]);
    const padded = concat(ipv6(v6(1), v6(2), 0, concat(jumbo, TCP), 0), new Uint8Array(6));
    const a = decode(LINKTYPE.RAW, padded);
    expect(a.seg && new TextDecoder().decode(a.seg.payload)).toBe('hello');
    const b = decode(LINKTYPE.RAW, ipv6(v6(1), v6(2), 6, TCP, 0));
    expect(b.seg && new TextDecoder().decode(b.seg.payload)).toBe('hello');
  });

  it('non-TCP next headers are skipped silently', () => {
    const { seg, diags } = decode(LINKTYPE.RAW, ipv6(v6(1), v6(2), 17, new Uint8Array(8)));
    expect(seg).toBeNull();
    expect(diags).toEqual([]);
  });
});

describe('packet decoder robustness', () => {
  it('never throws on arbitrary frames, whatever the link type; only typed diagnostics come out', () => {
    const linkTypes = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 9999];
    const d = new PacketDecoder({
      onDiagnostic: (e) => {
        expect(e.layer).toBe('capture');
      },
      fragments: { maxDatagrams: 4, maxBytes: 4096 },
    });
    // Frames that start plausibly (IPv4/IPv6 headers) reach deeper code than pure noise.
    const frame = fc.oneof(
      fc.uint8Array({ maxLength: 120 }),
      fc.tuple(fc.constantFrom(0x45, 0x46, 0x4f, 0x60), fc.uint8Array({ maxLength: 120 })).map(([v, rest]) => concat(new Uint8Array([v]), rest)),
      fc.uint8Array({ maxLength: 100 }).map((rest) => ethernet(0x86dd, concat(new Uint8Array([0x60]), rest))),
    );
    fc.assert(
      fc.property(fc.constantFrom(...linkTypes), frame, (lt, f) => {
        const seg = d.decodeFrame(lt, f);
        if (seg) {
          expect(seg.payload.length + seg.missing).toBeGreaterThanOrEqual(0);
          expect(seg.missing).toBeGreaterThanOrEqual(0);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
