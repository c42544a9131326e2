/**
 * pcapng: a sequence of blocks
 *
 *   type u32 | total length u32 | body (padded to 4) | total length u32
 *
 * in the byte order of the section's header block (SHB), which may change from
 * one section to the next. Interfaces (IDB) are numbered per section and carry
 * the link type and timestamp resolution of the packets that name them.
 */
import type { ByteQueue } from '../common/byte-queue.js';
import { readU16, readU32 } from './bytes.js';
import { CAPTURE_ERROR, captureError } from './errors.js';
import { tsResolution, type UnitsToMicros } from './timestamps.js';
import type { CaptureDiagnostic, CaptureInterface, CapturePacket, CaptureReaderOptions, CaptureSecrets } from './types.js';

export const BLOCK_SHB = 0x0a0d0d0a;
export const BLOCK_IDB = 0x00000001;
export const BLOCK_PB_OBSOLETE = 0x00000002;
export const BLOCK_SPB = 0x00000003;
export const BLOCK_EPB = 0x00000006;
export const BLOCK_DSB = 0x0000000a;
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

const OPT_ENDOFOPT = 0;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const IF_TSRESOL = 9;
const IF_FCSLEN = 13;
const IF_TSOFFSET = 14;
const EPB_FLAGS = 2;

/** libpcap's initial cap on section header blocks. */
const MAX_SHB_BYTES = 1024 * 1024;
const DEFAULT_MAX_BLOCK_BYTES = 16 * 1024 * 1024;

interface Interface {
  linkType: number;
  snaplen: number;
  fcsBytes: number;
  toMicros: UnitsToMicros;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

export class PcapngParser {
  private le = true;
  private section = -1;
  private interfaces: Interface[] = [];
  private blocks = 0;
  private packets = 0;
  /** Simple packet blocks carry no timestamp: they get the previous packet's. */
  private lastTime = 0;
  private readonly maxBlockBytes: number;

  constructor(options: CaptureReaderOptions) {
    this.maxBlockBytes = Math.max(
      options.maxBlockBytes ?? DEFAULT_MAX_BLOCK_BYTES,
      options.maxPacketBytes !== undefined ? options.maxPacketBytes + 64 : 0,
    );
  }

  next(q: ByteQueue, ended: boolean): CapturePacket | CaptureInterface | CaptureDiagnostic | CaptureSecrets | null {
    for (;;) {
      const available = q.length;
      if (available < 12) {
        if (ended && available > 0) throw this.truncatedBlock(q, available, 12);
        return null;
      }
      const head = q.peek(0, 12);
      const type = readU32(head, 0, this.le);
      if (type === BLOCK_SHB) {
        // The length precedes the byte-order magic: read the magic first.
        const magicLe = readU32(head, 8, true);
        if (magicLe === BYTE_ORDER_MAGIC) this.le = true;
        else if (readU32(head, 8, false) === BYTE_ORDER_MAGIC) this.le = false;
        else {
          throw captureError(
            CAPTURE_ERROR.MALFORMED_BLOCK,
            'file',
            'section header block without a valid byte-order magic',
            { block: this.blocks + 1, offset: q.offset },
          );
        }
      } else if (this.section < 0) {
        throw captureError(
          CAPTURE_ERROR.MISSING_SECTION_HEADER,
          'file',
          `pcapng block of type 0x${type.toString(16)} before any section header`,
          { block: this.blocks + 1, offset: q.offset },
        );
      }
      const le = this.le;
      const len = readU32(head, 4, le);
      const max = type === BLOCK_SHB ? MAX_SHB_BYTES : this.maxBlockBytes;
      if (len < 12 || len % 4 !== 0 || len > max || (type === BLOCK_SHB && len < 28)) {
        throw captureError(
          CAPTURE_ERROR.BAD_BLOCK_LENGTH,
          'file',
          `pcapng block total length ${len} is invalid (type 0x${type.toString(16)}; must be a multiple of 4 between ${type === BLOCK_SHB ? 28 : 12} and ${max})`,
          { block: this.blocks + 1, offset: q.offset },
        );
      }
      if (available < len) {
        if (ended) throw this.truncatedBlock(q, available, len);
        return null;
      }
      const offset = q.offset;
      const blockNo = ++this.blocks;
      const b = q.take(len);
      if (readU32(b, len - 4, le) !== len) {
        throw captureError(
          CAPTURE_ERROR.BAD_BLOCK_LENGTH,
          'file',
          `pcapng block total length ${len} is not repeated at its end (found ${readU32(b, len - 4, le)})`,
          { block: blockNo, offset },
        );
      }
      switch (type) {
        case BLOCK_EPB:
          return this.enhancedPacket(b, len, blockNo, offset);
        case BLOCK_IDB:
          return this.interfaceDescription(b, len, blockNo, offset);
        case BLOCK_SHB:
          this.sectionHeader(b, blockNo, offset);
          continue;
        case BLOCK_SPB:
          return this.simplePacket(b, len, blockNo, offset);
        case BLOCK_PB_OBSOLETE:
          return this.obsoletePacket(b, len, blockNo, offset);
        case BLOCK_DSB:
          return this.decryptionSecrets(b, len, blockNo, offset);
        default:
          continue; // statistics, name resolution, custom: nothing to decode here
      }
    }
  }

  /** type u32 | total length u32 | secrets type u32 | secrets length u32 | secrets (padded) | options | total length u32 */
  private decryptionSecrets(b: Uint8Array, len: number, block: number, offset: number): CaptureSecrets | CaptureDiagnostic {
    const secretsType = len >= 20 ? readU32(b, 8, this.le) : 0;
    const secretsLength = len >= 20 ? readU32(b, 12, this.le) : 0;
    if (len < 20 || 16 + secretsLength > len - 4) {
      return this.malformed(`decryption secrets block of ${len} bytes cannot hold its ${secretsLength} bytes of secrets`, block, offset);
    }
    return { kind: 'secrets', secretsType, data: b.slice(16, 16 + secretsLength), offset, block };
  }

  private truncatedBlock(q: ByteQueue, have: number, need: number) {
    return captureError(
      CAPTURE_ERROR.TRUNCATED_PACKET,
      'block',
      `input ended inside a pcapng block: ${need} bytes needed, ${have} present`,
      { block: this.blocks + 1, packet: this.packets + 1, offset: q.offset },
    );
  }

  private sectionHeader(b: Uint8Array, block: number, offset: number): void {
    const major = readU16(b, 12, this.le);
    const minor = readU16(b, 14, this.le);
    // Minor 2 was written by some tools and means the same as 0.
    if (major !== 1 || (minor !== 0 && minor !== 2)) {
      throw captureError(CAPTURE_ERROR.UNSUPPORTED_VERSION, 'file', `unsupported pcapng version ${major}.${minor}`, {
        block,
        offset,
      });
    }
    this.section++;
    this.interfaces = [];
  }

  private interfaceDescription(
    b: Uint8Array,
    len: number,
    block: number,
    offset: number,
  ): CaptureInterface | CaptureDiagnostic {
    const le = this.le;
    if (len < 20) {
      return this.malformed(`interface description block of ${len} bytes is too short`, block, offset);
    }
    const linkType = readU16(b, 8, le);
    const snaplen = readU32(b, 12, le);
    let name: string | undefined;
    let description: string | undefined;
    let tsresol: number | undefined;
    let tsoffset = 0;
    let fcsBytes = 0;
    forEachOption(b, 16, len - 4, le, (code, vo, vl) => {
      if (code === IF_NAME) name = text(b, vo, vl);
      else if (code === IF_DESCRIPTION) description = text(b, vo, vl);
      else if (code === IF_TSRESOL && vl >= 1 && tsresol === undefined) tsresol = b[vo];
      else if (code === IF_FCSLEN && vl >= 1) fcsBytes = b[vo]!;
      else if (code === IF_TSOFFSET && vl >= 8) {
        const hi = readU32(b, le ? vo + 4 : vo, le) | 0; // signed seconds
        const lo = readU32(b, le ? vo : vo + 4, le);
        tsoffset = hi * 4294967296 + lo;
      }
    });
    let res = tsResolution(tsresol, tsoffset);
    const id = this.interfaces.length;
    let diag: CaptureDiagnostic | null = null;
    if (!res) {
      diag = this.malformed(`interface ${id}: if_tsresol 0x${tsresol!.toString(16)} is out of range; using µs`, block, offset);
      res = tsResolution(undefined, tsoffset)!;
    }
    this.interfaces.push({ linkType, snaplen, fcsBytes, toMicros: res.toMicros });
    if (diag) return diag;
    return {
      kind: 'interface',
      section: this.section,
      interfaceId: id,
      linkType,
      snaplen,
      name,
      description,
      resolution: res.seconds,
      offset,
      block,
    };
  }

  private enhancedPacket(b: Uint8Array, len: number, block: number, offset: number): CapturePacket | CaptureDiagnostic {
    const le = this.le;
    const number = ++this.packets;
    if (len < 32) return this.malformed(`enhanced packet block of ${len} bytes is too short`, block, offset, number);
    const ifId = readU32(b, 8, le);
    const caplen = readU32(b, 20, le);
    let origLen = readU32(b, 24, le);
    if (caplen > len - 32) {
      return this.malformed(
        `enhanced packet block claims ${caplen} captured bytes but holds at most ${len - 32}`,
        block,
        offset,
        number,
      );
    }
    const iface = this.interfaces[ifId];
    if (!iface) return this.unknownInterface(ifId, block, offset, number);
    const time = iface.toMicros(readU32(b, 12, le), readU32(b, 16, le));
    this.lastTime = time;
    let fcsBytes = iface.fcsBytes;
    const optStart = 28 + ((caplen + 3) & ~3);
    if (optStart < len - 4) {
      forEachOption(b, optStart, len - 4, le, (code, vo, vl) => {
        // epb_flags bits 5–8: FCS length, overriding if_fcslen.
        if (code === EPB_FLAGS && vl >= 4) {
          const f = (readU32(b, vo, le) >>> 5) & 0xf;
          if (f) fcsBytes = f;
        }
      });
    }
    return this.packet(b, 28, caplen, origLen, fcsBytes, iface.linkType, ifId, time, number, block, offset);
  }

  private simplePacket(b: Uint8Array, len: number, block: number, offset: number): CapturePacket | CaptureDiagnostic {
    const number = ++this.packets;
    if (len < 16) return this.malformed(`simple packet block of ${len} bytes is too short`, block, offset, number);
    const iface = this.interfaces[0];
    if (!iface) return this.unknownInterface(0, block, offset, number);
    const origLen = readU32(b, 8, this.le);
    let caplen = Math.min(origLen, len - 16);
    if (iface.snaplen !== 0) caplen = Math.min(caplen, iface.snaplen);
    return this.packet(b, 12, caplen, origLen, iface.fcsBytes, iface.linkType, 0, this.lastTime, number, block, offset);
  }

  private obsoletePacket(b: Uint8Array, len: number, block: number, offset: number): CapturePacket | CaptureDiagnostic {
    const le = this.le;
    const number = ++this.packets;
    if (len < 32) return this.malformed(`packet block of ${len} bytes is too short`, block, offset, number);
    const ifId = readU16(b, 8, le);
    const caplen = readU32(b, 20, le);
    const origLen = readU32(b, 24, le);
    if (caplen > len - 32) {
      return this.malformed(`packet block claims ${caplen} captured bytes but holds at most ${len - 32}`, block, offset, number);
    }
    const iface = this.interfaces[ifId];
    if (!iface) return this.unknownInterface(ifId, block, offset, number);
    const time = iface.toMicros(readU32(b, 12, le), readU32(b, 16, le));
    this.lastTime = time;
    return this.packet(b, 28, caplen, origLen, iface.fcsBytes, iface.linkType, ifId, time, number, block, offset);
  }

  private packet(
    b: Uint8Array,
    start: number,
    caplen: number,
    origLen: number,
    fcsBytes: number,
    linkType: number,
    interfaceId: number,
    time: number,
    number: number,
    block: number,
    offset: number,
  ): CapturePacket {
    if (origLen < caplen) origLen = caplen;
    let truncated = caplen < origLen;
    let dataLen = caplen;
    if (fcsBytes > 0) {
      if (!truncated && caplen >= fcsBytes) dataLen = caplen - fcsBytes;
      else truncated = origLen - fcsBytes > caplen;
      origLen = Math.max(dataLen, origLen - fcsBytes);
    }
    return {
      kind: 'packet',
      number,
      time,
      linkType,
      interfaceId,
      data: b.subarray(start, start + dataLen),
      originalLength: origLen,
      truncated,
      offset,
      block,
    };
  }

  private unknownInterface(ifId: number, block: number, offset: number, packet: number): CaptureDiagnostic {
    return {
      kind: 'diagnostic',
      fatal: false,
      error: captureError(
        CAPTURE_ERROR.UNKNOWN_INTERFACE,
        'packet',
        `packet names interface ${ifId}, but section ${this.section} describes ${this.interfaces.length}; packet skipped`,
        { block, packet, offset },
      ),
    };
  }

  private malformed(message: string, block: number, offset: number, packet?: number): CaptureDiagnostic {
    return {
      kind: 'diagnostic',
      fatal: false,
      error: captureError(CAPTURE_ERROR.MALFORMED_BLOCK, 'block', message, { block, packet, offset }),
    };
  }
}

/** Walks TLV options in [start, end); stops at opt_endofopt or at a length that overruns the block. */
function forEachOption(
  b: Uint8Array,
  start: number,
  end: number,
  le: boolean,
  visit: (code: number, valueOffset: number, valueLength: number) => void,
): void {
  let o = start;
  while (o + 4 <= end) {
    const code = readU16(b, o, le);
    const vl = readU16(b, o + 2, le);
    if (code === OPT_ENDOFOPT) return;
    if (o + 4 + vl > end) return;
    visit(code, o + 4, vl);
    o += 4 + ((vl + 3) & ~3);
  }
}

function text(b: Uint8Array, o: number, l: number): string {
  let end = o;
  while (end < o + l && b[end] !== 0) end++;
  return utf8.decode(b.subarray(o, end));
}
