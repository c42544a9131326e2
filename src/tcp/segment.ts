/**
 * A decoded TCP segment: what the capture layer's packet decoder hands to
 * reassembly. Addresses stay compact on the hot path (IPv4 as a 32-bit
 * number, IPv6 as 32 hex digits) and become text only when a connection opens.
 */
import type { Timestamp } from './types.js';

export const TCP_FLAG = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

/** IPv4: unsigned 32-bit number. IPv6: 32 lowercase hex digits. */
export type IpAddress = number | string;

export interface TcpSegment {
  src: IpAddress;
  dst: IpAddress;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** TCP_FLAG bits. */
  flags: number;
  /** Payload bytes present in the capture. A view; valid until the next segment is decoded. */
  payload: Uint8Array;
  /**
   * Payload bytes the IP length claims but the capture lacks (snaplen): they
   * follow `payload` in sequence space and become a gap.
   */
  missing: number;
  time: Timestamp;
  /** 1-based capture packet number (0 when not from a capture). */
  packet: number;
  /**
   * Which input the segment came from, when several captures are merged
   * (0-based, in the order the inputs were given); absent otherwise.
   */
  source?: number;
}

/** Text form of an address: dotted quad, or RFC 5952 compressed IPv6. */
export function formatAddress(a: IpAddress): string {
  if (typeof a === 'number') return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
  const groups: number[] = [];
  for (let i = 0; i < 32; i += 4) groups.push(parseInt(a.slice(i, i + 4), 16));
  // Longest run (≥ 2) of zero groups becomes "::" (first one on ties).
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const h = (g: number[]) => g.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return h(groups);
  return `${h(groups.slice(0, bestStart))}::${h(groups.slice(bestStart + bestLen))}`;
}

/** Parses "1.2.3.4" or an IPv6 text address (a dotted IPv4 tail included) into the compact form. */
export function parseAddress(text: string): IpAddress {
  if (!text.includes(':')) {
    const p = text.split('.').map(Number);
    return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  // the last part may be a dotted IPv4 address (`::ffff:192.0.2.1`): two groups
  const groups = (part: string) => part.split(':').flatMap((g) => (g.includes('.') ? dottedGroups(g) : [g]));
  const hs = head ? groups(head) : [];
  const ts = tail !== undefined && tail !== '' ? groups(tail) : [];
  const fill = tail !== undefined ? 8 - hs.length - ts.length : 0;
  const all = [...hs, ...Array<string>(fill).fill('0'), ...ts];
  return all.map((g) => g.padStart(4, '0').toLowerCase()).join('');
}

/** `192.0.2.1` as the two IPv6 groups it stands for (`c000`, `0201`). */
function dottedGroups(v4: string): string[] {
  const [a, b, c, d] = v4.split('.').map(Number) as [number, number, number, number];
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
}
