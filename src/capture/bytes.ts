/**
 * Fixed-width reads in either byte order. Capture files carry their byte
 * order in a magic number (pcap file header, pcapng section header), so the
 * readers pass a `littleEndian` flag instead of creating a DataView per record.
 */

export function readU16(b: Uint8Array, o: number, littleEndian: boolean): number {
  return littleEndian ? b[o]! | (b[o + 1]! << 8) : (b[o]! << 8) | b[o + 1]!;
}

export function readU32(b: Uint8Array, o: number, littleEndian: boolean): number {
  return littleEndian
    ? (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0
    : ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

export function readU16BE(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

export function readU32BE(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

export function hex(b: Uint8Array, max = 16): string {
  let s = '';
  for (let i = 0; i < b.length && i < max; i++) s += (i ? ' ' : '') + b[i]!.toString(16).padStart(2, '0');
  return b.length > max ? s + ' …' : s;
}
