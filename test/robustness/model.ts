/**
 * A capture as a list of TCP segments (read with our own capture reader and
 * packet decoder), and back: segments to link frames to pcap or pcapng
 * files. Hostile variants are transformations of the segment list (or of the
 * file bytes, for corruption), written out again and decoded from scratch.
 *
 * The writers here are independent of `src/capture` (except for constants
 * spelled out again): every layout is built byte by byte.
 */
import { readFileSync } from 'node:fs';
import { CaptureReader } from '../../src/capture/reader.js';
import { PacketDecoder } from '../../src/capture/packet-decoder.js';
import { formatAddress } from '../../src/tcp/segment.js';
import { LINKTYPE } from '../../src/capture/types.js';

export interface Seg {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  payload: Uint8Array;
  /** µs since the epoch. */
  time: number;
}

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;

export interface CaptureModel {
  file: Uint8Array;
  segments: Seg[];
  /** Packets of the file that were not TCP (kept out of the model; fixtures have none). */
  nonTcp: number;
}

export function readModel(path: string): CaptureModel {
  const file = new Uint8Array(readFileSync(path));
  const reader = new CaptureReader();
  const dec = new PacketDecoder();
  reader.push(file);
  reader.end();
  const segments: Seg[] = [];
  let nonTcp = 0;
  for (let r = reader.next(); r !== null; r = reader.next()) {
    if (r.kind === 'diagnostic') throw new Error(`fixture ${path} does not read cleanly: ${r.error.message}`);
    if (r.kind !== 'packet') continue;
    const s = dec.decode(r);
    if (s === null) {
      nonTcp++;
      continue;
    }
    if (s.missing > 0) throw new Error(`fixture ${path} has snaplen-cut packets`);
    segments.push({
      src: formatAddress(s.src),
      dst: formatAddress(s.dst),
      sport: s.srcPort,
      dport: s.dstPort,
      seq: s.seq >>> 0,
      ack: s.ack >>> 0,
      flags: s.flags,
      payload: s.payload.slice(),
      time: s.time,
    });
  }
  return { file, segments, nonTcp };
}

// ---------------------------------------------------------------- frames

const LINK = LINKTYPE;

/** How packets are framed below IP. `ethernet-vlan` is Ethernet with an 802.1Q and a QinQ tag. */
export type LinkKind = 'ethernet' | 'ethernet-vlan' | 'sll' | 'sll2' | 'null' | 'loop' | 'raw' | 'ipv4-ipv6';

export function linkTypeOf(kind: LinkKind, v6: boolean): number {
  switch (kind) {
    case 'ethernet':
    case 'ethernet-vlan':
      return LINK.ETHERNET;
    case 'sll':
      return LINK.LINUX_SLL;
    case 'sll2':
      return LINK.LINUX_SLL2;
    case 'null':
      return LINK.NULL;
    case 'loop':
      return LINK.LOOP;
    case 'raw':
      return LINK.RAW;
    case 'ipv4-ipv6':
      return v6 ? LINK.IPV6 : LINK.IPV4;
  }
}

function ipv4Bytes(a: string): Uint8Array {
  return Uint8Array.from(a.split('.').map(Number));
}

function ipv6Bytes(a: string): Uint8Array {
  const [head, tail] = a.split('::') as [string, string | undefined];
  const hs = head ? head.split(':') : [];
  const ts = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = [...hs, ...Array<string>(tail !== undefined ? 8 - hs.length - ts.length : 0).fill('0'), ...ts].map((g) => parseInt(g, 16));
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 255;
  });
  return out;
}

function checksum(parts: Uint8Array[]): number {
  let sum = 0;
  for (const p of parts) {
    for (let i = 0; i + 1 < p.length; i += 2) sum += (p[i]! << 8) | p[i + 1]!;
    if (p.length & 1) sum += p[p.length - 1]! << 8;
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** The IP packet (v4 or v6 by the address form) carrying `s`. */
export function ipPacket(s: Seg, ipId = 0): Uint8Array {
  const v6 = s.src.includes(':');
  const tcpLen = 20 + s.payload.length;
  const ipLen = v6 ? 40 : 20;
  const out = new Uint8Array(ipLen + tcpLen);
  const v = new DataView(out.buffer);
  const src = v6 ? ipv6Bytes(s.src) : ipv4Bytes(s.src);
  const dst = v6 ? ipv6Bytes(s.dst) : ipv4Bytes(s.dst);
  if (v6) {
    v.setUint32(0, 0x60000000);
    v.setUint16(4, tcpLen);
    out[6] = 6;
    out[7] = 64;
    out.set(src, 8);
    out.set(dst, 24);
  } else {
    out[0] = 0x45;
    v.setUint16(2, ipLen + tcpLen);
    v.setUint16(4, ipId & 0xffff);
    v.setUint16(6, 0x4000); // DF
    out[8] = 64;
    out[9] = 6;
    out.set(src, 12);
    out.set(dst, 16);
    v.setUint16(10, checksum([out.subarray(0, 20)]));
  }
  const t = ipLen;
  v.setUint16(t, s.sport);
  v.setUint16(t + 2, s.dport);
  v.setUint32(t + 4, s.seq >>> 0);
  v.setUint32(t + 8, s.ack >>> 0);
  out[t + 12] = 5 << 4;
  out[t + 13] = s.flags;
  v.setUint16(t + 14, 65535);
  out.set(s.payload, t + 20);
  const pseudo = new Uint8Array(v6 ? 40 : 12);
  const pv = new DataView(pseudo.buffer);
  pseudo.set(src, 0);
  pseudo.set(dst, src.length);
  if (v6) {
    pv.setUint32(32, tcpLen);
    pseudo[39] = 6;
  } else {
    pseudo[9] = 6;
    pv.setUint16(10, tcpLen);
  }
  v.setUint16(t + 16, checksum([pseudo, out.subarray(t)]));
  return out;
}

/** `ip` wrapped in the link layer `kind`. */
export function linkFrame(kind: LinkKind, ip: Uint8Array): Uint8Array {
  const v6 = ip[0]! >> 4 === 6;
  const etherType = v6 ? 0x86dd : 0x0800;
  let head: Uint8Array;
  switch (kind) {
    case 'ethernet':
      head = Uint8Array.of(0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, etherType >> 8, etherType & 255);
      break;
    case 'ethernet-vlan':
      // QinQ outer tag (0x88a8), 802.1Q inner tag (0x8100), then the EtherType
      head = Uint8Array.of(0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0x88, 0xa8, 0, 10, 0x81, 0x00, 0, 20, etherType >> 8, etherType & 255);
      break;
    case 'sll':
      // pkttype | ARPHRD_LOOPBACK (772) | addrlen 6 | addr (8) | protocol
      head = Uint8Array.of(0, 0, 3, 4, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, etherType >> 8, etherType & 255);
      break;
    case 'sll2':
      // protocol | reserved | ifindex 1 | ARPHRD_LOOPBACK | pkttype | addrlen 6 | addr (8)
      head = Uint8Array.of(etherType >> 8, etherType & 255, 0, 0, 0, 0, 0, 1, 3, 4, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0);
      break;
    case 'null': {
      // BSD loopback: address family in the writer's (here little-endian) byte order; AF_INET6 as on macOS (30)
      const af = v6 ? 30 : 2;
      head = Uint8Array.of(af, 0, 0, 0);
      break;
    }
    case 'loop': {
      // OpenBSD loopback: family big-endian; AF_INET6 as on OpenBSD (24)
      const af = v6 ? 24 : 2;
      head = Uint8Array.of(0, 0, 0, af);
      break;
    }
    case 'raw':
    case 'ipv4-ipv6':
      return ip;
  }
  const out = new Uint8Array(head.length + ip.length);
  out.set(head, 0);
  out.set(ip, head.length);
  return out;
}

// ---------------------------------------------------------------- files

export interface Packet {
  /** µs since the epoch. */
  time: number;
  data: Uint8Array;
  /** Length on the wire (> data.length for snaplen-cut packets). */
  origLen: number;
  /** pcapng interface index (0 for pcap). */
  iface?: number;
}

export interface FileOptions {
  format: 'pcap' | 'pcapng';
  bigEndian?: boolean;
  /** pcap: nanosecond magic; pcapng: if_tsresol 9. */
  nanos?: boolean;
  /** pcapng: link type per interface (packets name theirs by `iface`). */
  linkTypes: number[];
  snaplen?: number;
}

class Out {
  private chunks: Uint8Array[] = [];
  private n = 0;
  push(b: Uint8Array): void {
    this.chunks.push(b);
    this.n += b.length;
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.n);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

function tsParts(timeUs: number, nanos: boolean): [number, number] {
  // integer sub-units since the epoch, as a BigInt to keep nanoseconds exact
  const sec = Math.floor(timeUs / 1e6);
  const units = nanos ? BigInt(sec) * 1_000_000_000n + BigInt(Math.round((timeUs - sec * 1e6) * 1000)) : BigInt(Math.round(timeUs));
  return [Number(units >> 32n), Number(units & 0xffffffffn)];
}

export function writeCapture(packets: Packet[], o: FileOptions): Uint8Array {
  const le = !o.bigEndian;
  const out = new Out();
  const snaplen = o.snaplen ?? 262144;
  if (o.format === 'pcap') {
    const h = new DataView(new ArrayBuffer(24));
    h.setUint32(0, o.nanos ? 0xa1b23c4d : 0xa1b2c3d4, le);
    h.setUint16(4, 2, le);
    h.setUint16(6, 4, le);
    h.setUint32(16, snaplen, le);
    h.setUint32(20, o.linkTypes[0]!, le);
    out.push(new Uint8Array(h.buffer));
    for (const p of packets) {
      const r = new DataView(new ArrayBuffer(16));
      const sec = Math.floor(p.time / 1e6);
      const frac = Math.min(o.nanos ? 999_999_999 : 999_999, Math.round((p.time - sec * 1e6) * (o.nanos ? 1000 : 1)));
      r.setUint32(0, sec, le);
      r.setUint32(4, frac, le);
      r.setUint32(8, p.data.length, le);
      r.setUint32(12, p.origLen, le);
      out.push(new Uint8Array(r.buffer));
      out.push(p.data);
    }
    return out.bytes();
  }
  const block = (type: number, body: Uint8Array): Uint8Array => {
    const padded = (body.length + 3) & ~3;
    const b = new Uint8Array(12 + padded);
    const v = new DataView(b.buffer);
    v.setUint32(0, type, le);
    v.setUint32(4, b.length, le);
    b.set(body, 8);
    v.setUint32(b.length - 4, b.length, le);
    return b;
  };
  const shb = new DataView(new ArrayBuffer(16));
  shb.setUint32(0, 0x1a2b3c4d, le);
  shb.setUint16(4, 1, le);
  shb.setUint16(6, 0, le);
  shb.setInt32(8, -1, le);
  shb.setInt32(12, -1, le);
  out.push(block(0x0a0d0d0a, new Uint8Array(shb.buffer)));
  for (const lt of o.linkTypes) {
    const body = new Uint8Array(o.nanos ? 8 + 8 + 4 : 8 + 4);
    const v = new DataView(body.buffer);
    v.setUint16(0, lt, le);
    v.setUint32(4, o.snaplen ?? 0, le);
    if (o.nanos) {
      v.setUint16(8, 9, le); // if_tsresol
      v.setUint16(10, 1, le);
      body[12] = 9;
    }
    out.push(block(1, body));
  }
  for (const p of packets) {
    const body = new Uint8Array(20 + p.data.length);
    const v = new DataView(body.buffer);
    const [hi, lo] = tsParts(p.time, o.nanos === true);
    v.setUint32(0, p.iface ?? 0, le);
    v.setUint32(4, hi, le);
    v.setUint32(8, lo, le);
    v.setUint32(12, p.data.length, le);
    v.setUint32(16, p.origLen, le);
    body.set(p.data, 20);
    out.push(block(6, body));
  }
  return out.bytes();
}

/** An IPv4 packet split into fragments of at most `size` payload bytes (a multiple of 8), last first when `reversed`. */
export function fragmentIpv4(ip: Uint8Array, size: number, reversed = false): Uint8Array[] {
  const payload = ip.subarray(20);
  if (ip[0]! >> 4 !== 4 || payload.length <= size) return [ip];
  const out: Uint8Array[] = [];
  for (let o = 0; o < payload.length; o += size) {
    const part = payload.subarray(o, Math.min(payload.length, o + size));
    const f = new Uint8Array(20 + part.length);
    f.set(ip.subarray(0, 20), 0);
    f.set(part, 20);
    const v = new DataView(f.buffer);
    v.setUint16(2, f.length);
    v.setUint16(6, (o + size < payload.length ? 0x2000 : 0) | (o / 8));
    v.setUint16(10, 0);
    v.setUint16(10, checksum([f.subarray(0, 20)]));
    out.push(f);
  }
  return reversed ? out.reverse() : out;
}

export interface RenderOptions extends Omit<FileOptions, 'linkTypes'> {
  /** IPv4 packets larger than this many payload bytes go out as fragments (a multiple of 8). */
  fragment?: number;
  /** Fragments of each packet in reverse order. */
  fragmentsReversed?: boolean;
  link?: LinkKind;
  /** pcapng only: spread packets over interfaces with these link layers, round robin. */
  links?: LinkKind[];
  /** Cut every frame to this many bytes (snaplen). */
  snaplen?: number;
}

/** Segments to a capture file. */
export function render(segments: Seg[], o: RenderOptions): Uint8Array {
  const links = o.links ?? [o.link ?? 'ethernet'];
  const v6 = segments.some((s) => s.src.includes(':'));
  const packets: Packet[] = segments.flatMap((s, i) => {
    const iface = i % links.length;
    const ip = ipPacket(s, i + 1);
    const ips = o.fragment !== undefined ? fragmentIpv4(ip, o.fragment, o.fragmentsReversed) : [ip];
    return ips.map((p) => {
      const frame = linkFrame(links[iface]!, p);
      const data = o.snaplen !== undefined && frame.length > o.snaplen ? frame.subarray(0, o.snaplen) : frame;
      return { time: s.time, data, origLen: frame.length, iface };
    });
  });
  return writeCapture(packets, { ...o, linkTypes: links.map((l) => linkTypeOf(l, v6)) });
}
