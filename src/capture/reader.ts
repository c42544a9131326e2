/**
 * The sans-IO capture reader: push file bytes in any chunks, pull records.
 * The format (pcap, nanosecond pcap, pcapng) is detected from the first four
 * bytes. A fatal error (corrupt framing) ends the reader, but every record
 * before it has already come out.
 */
import { ByteQueue } from '../common/byte-queue.js';
import { isKubewireError } from '../common/errors.js';
import { hex } from './bytes.js';
import { CAPTURE_ERROR, captureError } from './errors.js';
import { detectPcapMagic, PcapParser } from './pcap.js';
import { PcapngParser } from './pcapng.js';
import type { CaptureFormat, CaptureReaderOptions, CaptureRecord } from './types.js';

export class CaptureReader {
  private readonly q = new ByteQueue();
  private parser: PcapParser | PcapngParser | null = null;
  private ended = false;
  private failed = false;
  private sawInput = false;
  /** Detected format, once the first 4 bytes have arrived. */
  format: CaptureFormat | undefined;

  constructor(private readonly options: CaptureReaderOptions = {}) {}

  /**
   * Append input. The reader keeps views into `chunk` (packets are views when
   * they lie inside one chunk), so do not modify it afterwards.
   */
  push(chunk: Uint8Array): void {
    if (this.failed || chunk.length === 0) return;
    this.sawInput = true;
    // Views of a Buffer are Buffers, which are slower to create than plain
    // Uint8Array views; packets are views, so read through a plain one.
    this.q.push(chunk.constructor === Uint8Array ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
  }

  /** No more input: the next `next()` calls report a record cut short. */
  end(): void {
    this.ended = true;
  }

  /** Bytes pushed but not yet consumed (a partial record). */
  get buffered(): number {
    return this.q.length;
  }

  /** Absolute file offset of the next unread byte. */
  get offset(): number {
    return this.q.offset;
  }

  /** true once the input ended and everything was read, or after a fatal error. */
  get done(): boolean {
    return this.failed || (this.ended && this.q.length === 0 && this.parser !== null);
  }

  /**
   * The next record, or null when more input is needed (or the reader is
   * done). In strict mode errors are thrown; in inspect mode they come out as
   * `diagnostic` records (`fatal: true` ends the reader).
   */
  next(): CaptureRecord | null {
    if (this.failed) return null;
    try {
      let parser = this.parser;
      if (!parser) {
        parser = this.detect();
        if (!parser) return null;
      }
      const r = parser.next(this.q, this.ended);
      if (r !== null && r.kind === 'diagnostic' && this.options.mode === 'strict') throw r.error;
      return r;
    } catch (e) {
      if (!isKubewireError(e)) throw e;
      this.failed = true;
      this.q.clear();
      if (this.options.mode === 'strict') throw e;
      return { kind: 'diagnostic', error: e, fatal: true };
    }
  }

  private detect(): PcapParser | PcapngParser | null {
    const q = this.q;
    if (q.length < 4) {
      if (!this.ended) return null;
      if (!this.sawInput) throw captureError(CAPTURE_ERROR.EMPTY, 'file', 'the capture input is empty', { offset: 0 });
      throw captureError(
        CAPTURE_ERROR.TRUNCATED_HEADER,
        'file',
        `capture input ended after ${q.length} bytes, before a complete magic number`,
        { offset: 0 },
      );
    }
    const head = q.peek(0, 4);
    const pcap = detectPcapMagic(head);
    if (pcap) {
      this.format = pcap.format;
      this.parser = new PcapParser(this.options);
    } else if (head[0] === 0x0a && head[1] === 0x0d && head[2] === 0x0d && head[3] === 0x0a) {
      this.format = 'pcapng';
      this.parser = new PcapngParser(this.options);
    } else {
      throw captureError(
        CAPTURE_ERROR.UNKNOWN_FORMAT,
        'file',
        `not a pcap or pcapng file (first bytes ${hex(q.peek(0, Math.min(q.length, 8)))})`,
        { offset: 0 },
      );
    }
    return this.parser;
  }
}

/** Reads a whole capture held in memory. Packet views alias `bytes`. */
export function* readCaptureBytes(bytes: Uint8Array, options: CaptureReaderOptions = {}): Generator<CaptureRecord> {
  const reader = new CaptureReader(options);
  reader.push(bytes);
  reader.end();
  for (let r = reader.next(); r !== null; r = reader.next()) yield r;
}
