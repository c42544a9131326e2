/**
 * Classic pcap ("libpcap savefile"):
 *
 *   file header (24): magic | major u16 | minor u16 | reserved ×2 | snaplen | linktype+FCS word
 *   record (16, 24 for the Kuznetsov patch): ts_sec | ts_frac | caplen | len | data[caplen]
 *
 * All fields in the byte order the magic reveals; records are not padded.
 */
import type { ByteQueue } from '../common/byte-queue.js';
import { readU16, readU32 } from './bytes.js';
import { CAPTURE_ERROR, captureError } from './errors.js';
import type { CaptureFormat, CapturePacket, CaptureReaderOptions } from './types.js';

export const PCAP_MAGIC_MICROS = 0xa1b2c3d4;
export const PCAP_MAGIC_NANOS = 0xa1b23c4d;
export const PCAP_MAGIC_KUZNETSOV = 0xa1b2cd34;
const FILE_HEADER_BYTES = 24;
/** libpcap's MAXIMUM_SNAPLEN: larger captured lengths are treated as corruption. */
export const PCAP_MAX_SNAPLEN = 262_144;
const HARD_MAX_PACKET_BYTES = 16 * 1024 * 1024;

/** Which pcap variant the first 4 bytes announce, and in which byte order; null if none. */
export function detectPcapMagic(b: Uint8Array): { format: CaptureFormat; littleEndian: boolean } | null {
  const le = readU32(b, 0, true);
  const be = readU32(b, 0, false);
  for (const [magic, format] of [
    [PCAP_MAGIC_MICROS, 'pcap'],
    [PCAP_MAGIC_NANOS, 'pcap-ns'],
    [PCAP_MAGIC_KUZNETSOV, 'pcap-kuznetsov'],
  ] as const) {
    if (le === magic) return { format, littleEndian: true };
    if (be === magic) return { format, littleEndian: false };
  }
  return null;
}

export class PcapParser {
  private headerDone = false;
  private le = true;
  private nanos = false;
  private recordHeaderBytes = 16;
  private linkType = 0;
  private fcsBytes = 0;
  private maxCaplen = PCAP_MAX_SNAPLEN;
  /** 0: lengths in order; 1: caplen/len swapped (pcap < 2.3); 2: swapped when caplen > len (2.3). */
  private swapMode = 0;
  private packets = 0;
  snaplen = 0;

  constructor(private readonly options: CaptureReaderOptions) {}

  get currentLinkType(): number {
    return this.linkType;
  }

  next(q: ByteQueue, ended: boolean): CapturePacket | null {
    if (!this.headerDone) {
      if (q.length < FILE_HEADER_BYTES) {
        if (ended) {
          throw captureError(
            CAPTURE_ERROR.TRUNCATED_HEADER,
            'file',
            `pcap file header needs ${FILE_HEADER_BYTES} bytes, input ended after ${q.length}`,
            { offset: q.offset },
          );
        }
        return null;
      }
      this.readFileHeader(q.peek(0, FILE_HEADER_BYTES), q.offset);
      q.skip(FILE_HEADER_BYTES);
    }
    const hdrBytes = this.recordHeaderBytes;
    const available = q.length;
    if (available < hdrBytes) {
      if (ended && available > 0) throw this.truncated(q, available, hdrBytes);
      return null;
    }
    const h = q.peek(0, hdrBytes);
    const le = this.le;
    let caplen = readU32(h, 8, le);
    let len = readU32(h, 12, le);
    if (this.swapMode === 1 || (this.swapMode === 2 && caplen > len)) {
      const t = caplen;
      caplen = len;
      len = t;
    }
    if (caplen > this.maxCaplen) {
      throw captureError(
        CAPTURE_ERROR.ABSURD_CAPTURED_LENGTH,
        'file',
        `pcap record claims ${caplen} captured bytes (limit ${this.maxCaplen}); the file is corrupt`,
        { packet: this.packets + 1, offset: q.offset },
      );
    }
    if (available < hdrBytes + caplen) {
      if (ended) throw this.truncated(q, available, hdrBytes + caplen);
      return null;
    }
    const offset = q.offset;
    const sec = readU32(h, 0, le);
    const frac = readU32(h, 4, le);
    q.skip(hdrBytes);
    let data = q.take(caplen);
    // Rewritten files may carry len < caplen; the packet was at least as long as what was kept.
    if (len < caplen) len = caplen;
    let truncated = caplen < len;
    if (this.fcsBytes > 0 && !truncated && caplen >= this.fcsBytes) {
      data = data.subarray(0, caplen - this.fcsBytes);
      len -= this.fcsBytes;
    } else if (this.fcsBytes > 0 && truncated) {
      // The FCS is part of what is missing; the IP length fields trim the rest.
      truncated = len - this.fcsBytes > caplen;
      len = Math.max(caplen, len - this.fcsBytes);
    }
    return {
      kind: 'packet',
      number: ++this.packets,
      time: sec * 1e6 + (this.nanos ? frac / 1000 : frac),
      linkType: this.linkType,
      interfaceId: 0,
      data,
      originalLength: len,
      truncated,
      offset,
      block: undefined,
    };
  }

  private truncated(q: ByteQueue, have: number, need: number) {
    return captureError(
      CAPTURE_ERROR.TRUNCATED_PACKET,
      'packet',
      `input ended inside a pcap record: ${need} bytes needed, ${have} present`,
      { packet: this.packets + 1, offset: q.offset },
    );
  }

  private readFileHeader(h: Uint8Array, offset: number): void {
    const magic = detectPcapMagic(h);
    if (!magic) {
      throw captureError(CAPTURE_ERROR.UNKNOWN_FORMAT, 'file', 'not a pcap file header', { offset });
    }
    const le = magic.littleEndian;
    this.le = le;
    this.nanos = magic.format === 'pcap-ns';
    if (magic.format === 'pcap-kuznetsov') this.recordHeaderBytes = 24;
    const major = readU16(h, 4, le);
    const minor = readU16(h, 6, le);
    if (major === 2 && minor < 3) this.swapMode = 1;
    else if (major === 2 && minor === 3) this.swapMode = 2;
    else if (major === 543) this.swapMode = 1; // DG/UX wrote swapped lengths
    else if (major !== 2) {
      throw captureError(CAPTURE_ERROR.UNSUPPORTED_VERSION, 'file', `unsupported pcap version ${major}.${minor}`, {
        offset,
      });
    }
    this.snaplen = readU32(h, 16, le);
    const linkWord = readU32(h, 20, le);
    this.linkType = linkWord & 0xffff;
    // Bit 26 = FCS length present; bits 28–31 = FCS length in 16-bit words.
    if (linkWord & 0x0400_0000) this.fcsBytes = ((linkWord >>> 28) & 0xf) * 2;
    this.maxCaplen =
      this.options.maxPacketBytes ?? Math.max(PCAP_MAX_SNAPLEN, Math.min(this.snaplen, HARD_MAX_PACKET_BYTES));
    this.headerDone = true;
  }
}
