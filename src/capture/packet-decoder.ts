/**
 * From a captured frame to a TCP segment: link layer, IPv4 (options,
 * fragments) or IPv6 (extension headers, fragments, jumbo payloads), then the
 * TCP header. Everything that is not TCP is skipped silently; malformed
 * headers are reported through `onDiagnostic` and skipped.
 *
 * Lengths come from the IP header, which trims Ethernet padding and FCS; an
 * IPv4 total length (or IPv6 payload length) of 0 means a segmentation-offload
 * super-packet, whose length is what was captured.
 */
import type { KubewireError } from '../common/errors.js';
import type { TcpSegment } from '../tcp/segment.js';
import { readU16BE, readU32BE } from './bytes.js';
import { CAPTURE_ERROR, captureError } from './errors.js';
import { FragmentReassembler, type FragmentLimits } from './fragments.js';
import { decodeLink, ETHERTYPE_IPV4, ETHERTYPE_IPV6, isSupportedLinkType, type LinkResult } from './link.js';
import type { CapturePacket } from './types.js';

const IPPROTO_HOPOPTS = 0;
const IPPROTO_IPIP = 4;
const IPPROTO_TCP = 6;
const IPPROTO_IPV6 = 41;
const IPPROTO_ROUTING = 43;
const IPPROTO_FRAGMENT = 44;
const IPPROTO_AH = 51;
const IPPROTO_DSTOPTS = 60;
const IPPROTO_MOBILITY = 135;
const IPPROTO_HIP = 139;
const IPPROTO_SHIM6 = 140;
const IPPROTO_EXPERIMENT1 = 253;
const IPPROTO_EXPERIMENT2 = 254;
/** Hop-by-Hop option carrying the real length of a jumbogram (RFC 2675). */
const IPV6_OPT_JUMBO = 0xc2;
const IPV4_MF = 0x2000;
const IPV4_OFFSET_MASK = 0x1fff;
/** IP-in-IP nesting followed at most this deep. */
const MAX_TUNNEL_DEPTH = 2;
const MAX_EXTENSION_HEADERS = 16;

export interface PacketDecoderOptions {
  /** Called for malformed packets, unsupported link types (once each) and dropped fragments. */
  onDiagnostic?: (error: KubewireError) => void;
  fragments?: FragmentLimits;
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function ipv6Address(b: Uint8Array, o: number): string {
  let s = '';
  for (let i = 0; i < 16; i++) s += HEX[b[o + i]!];
  return s;
}

export class PacketDecoder {
  private readonly link: LinkResult = { offset: 0, etherType: 0 };
  private readonly fragments: FragmentReassembler;
  private readonly reportedLinkTypes = new Set<number>();
  private readonly onDiagnostic: ((error: KubewireError) => void) | undefined;
  // Context of the packet being decoded, for segments and diagnostics.
  private time = 0;
  private packet = 0;
  private offset: number | undefined;
  private block: number | undefined;
  /** Packets that carried no TCP (other protocols, malformed, fragments still pending). */
  skipped = 0;

  constructor(options: PacketDecoderOptions = {}) {
    this.onDiagnostic = options.onDiagnostic;
    this.fragments = new FragmentReassembler(options.fragments);
  }

  /** The TCP segment in a captured packet, or null. Payload views alias `p.data`. */
  decode(p: CapturePacket): TcpSegment | null {
    this.offset = p.offset;
    this.block = p.block;
    return this.decodeFrame(p.linkType, p.data, p.time, p.number);
  }

  /** Same for a bare frame (golden tests, live sources). */
  decodeFrame(linkType: number, frame: Uint8Array, time = 0, packet = 0): TcpSegment | null {
    this.time = time;
    this.packet = packet;
    const link = this.link;
    if (!decodeLink(linkType, frame, link)) {
      if (!isSupportedLinkType(linkType)) {
        if (!this.reportedLinkTypes.has(linkType)) {
          this.reportedLinkTypes.add(linkType);
          this.report(
            CAPTURE_ERROR.UNSUPPORTED_LINK_TYPE,
            `link type ${linkType} is not supported; its packets are skipped`,
          );
        }
      } else this.report(CAPTURE_ERROR.MALFORMED_PACKET, `frame of ${frame.length} bytes is shorter than its link header`);
      this.skipped++;
      return null;
    }
    let seg: TcpSegment | null = null;
    if (link.etherType === ETHERTYPE_IPV4) seg = this.ipv4(frame, link.offset, 0);
    else if (link.etherType === ETHERTYPE_IPV6) seg = this.ipv6(frame, link.offset, 0);
    if (seg === null) this.skipped++;
    return seg;
  }

  /*
   * IPv4 header (RFC 791):
   *   0 version(4) IHL(4) | 1 DSCP/ECN | 2 total length | 4 id | 6 flags(3) fragment offset(13)
   *   8 TTL | 9 protocol | 10 checksum | 12 src | 16 dst | 20 options (IHL·4 − 20)
   */
  private ipv4(f: Uint8Array, o: number, depth: number): TcpSegment | null {
    const captured = f.length - o;
    if (captured < 20) return this.malformed(`IPv4 header cut after ${captured} bytes`);
    const vihl = f[o]!;
    if (vihl >> 4 !== 4) return this.malformed(`IP version ${vihl >> 4} where IPv4 was announced`);
    const ihl = (vihl & 15) * 4;
    if (ihl < 20) return this.malformed(`IPv4 header length ${ihl} < 20`);
    if (ihl > captured) return this.malformed(`IPv4 header of ${ihl} bytes cut after ${captured}`);
    let total = readU16BE(f, o + 2);
    // 0 = TSO / BIG TCP super-packet: the length is what was captured.
    if (total === 0) total = captured;
    else if (total < ihl) return this.malformed(`IPv4 total length ${total} < header length ${ihl}`);
    const proto = f[o + 9]!;
    if (proto !== IPPROTO_TCP && proto !== IPPROTO_IPIP && proto !== IPPROTO_IPV6) return null;
    const src = readU32BE(f, o + 12);
    const dst = readU32BE(f, o + 16);
    const present = Math.min(total, captured) - ihl;
    const claimed = total - ihl;
    const fragWord = readU16BE(f, o + 6);
    if (fragWord & (IPV4_MF | IPV4_OFFSET_MASK)) {
      if (present < claimed) return this.dropFragment('a fragment was cut by the snaplen');
      const key = `4:${src}:${dst}:${proto}:${readU16BE(f, o + 4)}`;
      const whole = this.fragments.add(
        key,
        (fragWord & IPV4_OFFSET_MASK) * 8,
        (fragWord & IPV4_MF) !== 0,
        f.subarray(o + ihl, o + total),
      );
      this.reportFragmentDrops();
      if (whole === undefined) return this.dropFragment('fragment beyond 65535 bytes');
      if (whole === null) return null;
      return this.ipv4Payload(proto, whole, 0, whole.length, whole.length, src, dst, depth);
    }
    return this.ipv4Payload(proto, f, o + ihl, present, claimed, src, dst, depth);
  }

  private ipv4Payload(
    proto: number,
    f: Uint8Array,
    o: number,
    present: number,
    claimed: number,
    src: number,
    dst: number,
    depth: number,
  ): TcpSegment | null {
    if (proto === IPPROTO_TCP) return this.tcp(f, o, present, claimed, src, dst);
    if (depth >= MAX_TUNNEL_DEPTH) return null;
    const inner = f.subarray(0, o + present);
    return proto === IPPROTO_IPIP ? this.ipv4(inner, o, depth + 1) : this.ipv6(inner, o, depth + 1);
  }

  /*
   * IPv6 header (RFC 8200):
   *   0 version(4) traffic class(8) flow label(20) | 4 payload length | 6 next header | 7 hop limit
   *   8 src (16) | 24 dst (16) | 40 extension headers…, then the upper-layer header
   */
  private ipv6(f: Uint8Array, o: number, depth: number): TcpSegment | null {
    const captured = f.length - o;
    if (captured < 40) return this.malformed(`IPv6 header cut after ${captured} bytes`);
    if (f[o]! >> 4 !== 6) return this.malformed(`IP version ${f[o]! >> 4} where IPv6 was announced`);
    const payloadLength = readU16BE(f, o + 4);
    let next = f[o + 6]!;
    let p = o + 40;
    // End of the datagram; 0 = jumbogram / BIG TCP: from the Jumbo option if present, else what was captured.
    let end = payloadLength === 0 ? f.length : o + 40 + payloadLength;
    let src: string | undefined;
    for (let n = 0; n < MAX_EXTENSION_HEADERS; n++) {
      switch (next) {
        case IPPROTO_TCP:
        case IPPROTO_IPIP:
        case IPPROTO_IPV6: {
          src ??= ipv6Address(f, o + 8);
          const present = Math.min(end, f.length) - p;
          if (present < 0) return this.malformed('IPv6 extension headers run past the payload length');
          if (next === IPPROTO_TCP) return this.tcp(f, p, present, end - p, src, ipv6Address(f, o + 24));
          if (depth >= MAX_TUNNEL_DEPTH) return null;
          const inner = f.subarray(0, p + present);
          return next === IPPROTO_IPIP ? this.ipv4(inner, p, depth + 1) : this.ipv6(inner, p, depth + 1);
        }
        case IPPROTO_HOPOPTS:
        case IPPROTO_ROUTING:
        case IPPROTO_DSTOPTS:
        case IPPROTO_MOBILITY:
        case IPPROTO_HIP:
        case IPPROTO_SHIM6:
        case IPPROTO_EXPERIMENT1:
        case IPPROTO_EXPERIMENT2: {
          // next header (1) | length in 8-octet units, not counting the first (1) | …
          if (p + 2 > f.length) return this.malformed('IPv6 extension header cut by the capture');
          const hl = (f[p + 1]! + 1) * 8;
          if (p + hl > f.length) return this.malformed('IPv6 extension header cut by the capture');
          if (next === IPPROTO_HOPOPTS && payloadLength === 0) {
            const jumbo = jumboLength(f, p + 2, p + hl);
            if (jumbo > 0) end = o + 40 + jumbo;
          }
          next = f[p]!;
          p += hl;
          break;
        }
        case IPPROTO_AH: {
          // next header (1) | length in 4-octet units minus 2 (1) | …
          if (p + 2 > f.length) return this.malformed('IPv6 authentication header cut by the capture');
          const hl = (f[p + 1]! + 2) * 4;
          next = f[p]!;
          p += hl;
          break;
        }
        case IPPROTO_FRAGMENT: {
          // next header (1) | reserved (1) | offset(13) res(2) M(1) | identification (4)
          if (p + 8 > f.length) return this.malformed('IPv6 fragment header cut by the capture');
          const word = readU16BE(f, p + 2);
          const fragOffset = word & 0xfff8;
          const more = (word & 1) !== 0;
          const inner = f[p]!;
          if (fragOffset === 0 && !more) {
            // Atomic fragment (RFC 6946): a whole datagram with a fragment header.
            next = inner;
            p += 8;
            break;
          }
          if (end > f.length) return this.dropFragment('a fragment was cut by the snaplen');
          src ??= ipv6Address(f, o + 8);
          const dst = ipv6Address(f, o + 24);
          const key = `6:${src}:${dst}:${readU32BE(f, p + 4)}`;
          const whole = this.fragments.add(key, fragOffset, more, f.subarray(p + 8, end));
          this.reportFragmentDrops();
          if (whole === undefined) return this.dropFragment('fragment beyond 65535 bytes');
          if (whole === null) return null;
          return this.ipv6Reassembled(inner, whole, src, dst, depth);
        }
        default:
          return null; // ESP, no next header, UDP, ICMPv6, …
      }
      if (p > end) return this.malformed('IPv6 extension headers run past the payload length');
    }
    return this.malformed('too many IPv6 extension headers');
  }

  /** Continue the header chain inside a reassembled fragmentable part. */
  private ipv6Reassembled(next: number, b: Uint8Array, src: string, dst: string, depth: number): TcpSegment | null {
    let p = 0;
    for (let n = 0; n < MAX_EXTENSION_HEADERS; n++) {
      if (next === IPPROTO_TCP) return this.tcp(b, p, b.length - p, b.length - p, src, dst);
      if (next === IPPROTO_IPIP || next === IPPROTO_IPV6) {
        if (depth >= MAX_TUNNEL_DEPTH) return null;
        return next === IPPROTO_IPIP ? this.ipv4(b, p, depth + 1) : this.ipv6(b, p, depth + 1);
      }
      if (next !== IPPROTO_DSTOPTS && next !== IPPROTO_ROUTING) return null;
      if (p + 2 > b.length) return this.malformed('IPv6 extension header cut');
      const hl = (b[p + 1]! + 1) * 8;
      next = b[p]!;
      p += hl;
    }
    return null;
  }

  /*
   * TCP header (RFC 9293):
   *   0 src port | 2 dst port | 4 seq | 8 ack | 12 data offset(4) reserved(3) AE(1) | 13 flags
   *   14 window | 16 checksum | 18 urgent pointer | 20 options (data offset·4 − 20)
   */
  private tcp(
    f: Uint8Array,
    o: number,
    present: number,
    claimed: number,
    src: number | string,
    dst: number | string,
  ): TcpSegment | null {
    if (present < 20) {
      return this.malformed(`TCP header cut after ${present} bytes (${claimed} claimed by IP)`);
    }
    const doff = (f[o + 12]! >> 4) * 4;
    if (doff < 20) return this.malformed(`TCP data offset ${doff} < 20`);
    if (doff > claimed) return this.malformed(`TCP header of ${doff} bytes longer than the IP payload (${claimed})`);
    if (doff > present) return this.malformed(`TCP header of ${doff} bytes cut after ${present}`);
    return {
      src,
      dst,
      srcPort: readU16BE(f, o),
      dstPort: readU16BE(f, o + 2),
      seq: readU32BE(f, o + 4),
      ack: readU32BE(f, o + 8),
      flags: f[o + 13]!,
      payload: f.subarray(o + doff, o + present),
      missing: claimed - present,
      time: this.time,
      packet: this.packet,
    };
  }

  private reportFragmentDrops(): void {
    if (this.fragments.dropped > 0) {
      const n = this.fragments.dropped;
      this.fragments.dropped = 0;
      this.report(CAPTURE_ERROR.FRAGMENTS_DROPPED, `${n} incomplete IP datagram(s) dropped: fragment buffer limit`);
    }
  }

  private dropFragment(why: string): null {
    this.report(CAPTURE_ERROR.FRAGMENTS_DROPPED, `IP fragment dropped: ${why}`);
    return null;
  }

  private malformed(message: string): null {
    this.report(CAPTURE_ERROR.MALFORMED_PACKET, `${message}; packet skipped`);
    return null;
  }

  private report(code: string, message: string): void {
    this.onDiagnostic?.(
      captureError(code, 'packet', message, { packet: this.packet || undefined, offset: this.offset, block: this.block }),
    );
  }
}

/** Length from a Jumbo Payload option (type 0xC2, 4 bytes) in a Hop-by-Hop header's options; 0 if none. */
function jumboLength(f: Uint8Array, start: number, end: number): number {
  let p = start;
  while (p < end) {
    const type = f[p]!;
    if (type === 0) {
      p++; // Pad1
      continue;
    }
    if (p + 2 > end) return 0;
    const len = f[p + 1]!;
    if (type === IPV6_OPT_JUMBO && len === 4 && p + 6 <= end) return readU32BE(f, p + 2);
    p += 2 + len;
  }
  return 0;
}
