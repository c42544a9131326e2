/**
 * The whole input side in one call: capture input → capture reader → link/IP
 * → TCP reassembly → connection events. This is the hot path of `kubewire
 * decode`: per chunk of input, records are pulled and fed straight through,
 * with no per-event promise.
 */
import { open } from 'node:fs/promises';
import type { ErrorMode, KubewireError } from '../common/errors.js';
import { PacketDecoder } from '../capture/packet-decoder.js';
import { CAPTURE_ERROR, captureError } from '../capture/errors.js';
import { isSupportedLinkType } from '../capture/link.js';
import type { FragmentLimits } from '../capture/fragments.js';
import { CaptureReader } from '../capture/reader.js';
import { captureChunks, type CaptureInput, type CaptureSourceOptions } from '../capture/sources.js';
import type { CaptureFormat, CaptureInterface, CaptureReaderOptions, CaptureSecrets } from '../capture/types.js';
import { TcpReassembler, type TcpReassemblerOptions } from './reassembler.js';
import type { ConnectionEvent } from './types.js';

export interface DecodeCaptureOptions
  extends CaptureReaderOptions,
    CaptureSourceOptions,
    Omit<TcpReassemblerOptions, 'onEvent' | 'mode'> {
  mode?: ErrorMode;
  fragments?: FragmentLimits;
  /** pcapng interface descriptions, as they are read. */
  onInterface?: (iface: CaptureInterface) => void;
  /** pcapng Decryption Secrets Blocks, as they are read (before the packets they are for). */
  onSecrets?: (secrets: CaptureSecrets) => void;
}

export interface DecodeSummary {
  format: CaptureFormat | undefined;
  /** Capture bytes read. */
  bytes: number;
  packets: number;
  /** Packets that held a TCP segment. */
  segments: number;
  connections: number;
  /** Gap events, and the bytes they stand for. */
  gaps: number;
  gapBytes: number;
  /** Diagnostic events emitted (capture and TCP). */
  diagnostics: number;
  /** The capture ended with a fatal error (the events before it were all delivered). */
  failed: boolean;
}

/**
 * Segments of a connection an acknowledged hole waits for its bytes in a
 * capture. Files from `-i any` or merged from several interfaces write an
 * ACK before the bytes it acknowledges; declaring the hole at the ACK made
 * such lossless captures decode with gaps and lost bytes.
 */
export const CAPTURE_ACK_REORDER_TOLERANCE = 64;

/** Packets of one link type without any TCP from which that is reported (`CAPTURE_NO_TCP`). */
const NO_TCP_MIN_PACKETS = 16;

/** A synchronous decoder: push capture bytes, events come out through `onEvent`. */
/** The counts of a capture not read yet. */
export function emptyDecodeSummary(): DecodeSummary {
  return { format: undefined, bytes: 0, packets: 0, segments: 0, connections: 0, gaps: 0, gapBytes: 0, diagnostics: 0, failed: false };
}

/** `onEvent`, with the connections, gaps and diagnostics it sees counted into `summary`. */
export function countingEvents(summary: DecodeSummary, onEvent: (e: ConnectionEvent) => void): (e: ConnectionEvent) => void {
  return (e) => {
    if (e.kind === 'open') summary.connections++;
    else if (e.kind === 'gap') {
      summary.gaps++;
      summary.gapBytes += e.size;
    } else if (e.kind === 'diagnostic') summary.diagnostics++;
    onEvent(e);
  };
}

export class CaptureDecoder {
  private readonly reader: CaptureReader;
  private readonly packets: PacketDecoder;
  private readonly tcp: TcpReassembler;
  private readonly onEvent: (e: ConnectionEvent) => void;
  private readonly onInterface: ((iface: CaptureInterface) => void) | undefined;
  private readonly onSecrets: ((secrets: CaptureSecrets) => void) | undefined;
  private readonly strict: boolean;
  /** Per link type: packets, and how many held TCP (to notice a mislabelled file). */
  private readonly perLinkType = new Map<number, { packets: number; segments: number }>();
  readonly summary: DecodeSummary = emptyDecodeSummary();

  constructor(onEvent: (e: ConnectionEvent) => void, options: DecodeCaptureOptions = {}) {
    this.strict = options.mode === 'strict';
    this.onInterface = options.onInterface;
    this.onSecrets = options.onSecrets;
    this.onEvent = countingEvents(this.summary, onEvent);
    this.reader = new CaptureReader(options);
    this.packets = new PacketDecoder({
      fragments: options.fragments,
      onDiagnostic: (error) => this.diagnostic(error),
    });
    this.tcp = new TcpReassembler({
      ...options,
      ackReorderTolerance: options.ackReorderTolerance ?? CAPTURE_ACK_REORDER_TOLERANCE,
      onEvent: this.onEvent,
    });
  }

  get done(): boolean {
    return this.reader.done;
  }

  /** Input bytes pushed but not yet consumed (the start of a record still incomplete). */
  get buffered(): number {
    return this.reader.buffered;
  }

  push(chunk: Uint8Array): void {
    this.summary.bytes += chunk.length;
    const reader = this.reader;
    reader.push(chunk);
    this.pump();
  }

  end(): void {
    this.reader.end();
    this.pump();
    this.tcp.end();
    this.summary.format = this.reader.format;
    for (const [linkType, n] of this.perLinkType) {
      // A few odd packets (ARP, a stray frame) say nothing; many and not one
      // TCP segment among them is a file whose link type is wrong (or no
      // traffic for kubewire at all): either way the user should hear it.
      if (n.segments === 0 && n.packets >= NO_TCP_MIN_PACKETS && isSupportedLinkType(linkType)) {
        this.diagnostic(
          captureError(
            CAPTURE_ERROR.NO_TCP,
            'file',
            `none of the ${n.packets} packets of link type ${linkType} held TCP over IPv4 or IPv6; is the capture's link type right?`,
            {},
          ),
        );
      }
    }
  }

  private pump(): void {
    const reader = this.reader;
    const packets = this.packets;
    const tcp = this.tcp;
    const summary = this.summary;
    for (let r = reader.next(); r !== null; r = reader.next()) {
      if (r.kind === 'packet') {
        summary.packets++;
        const seg = packets.decode(r);
        let n = this.perLinkType.get(r.linkType);
        if (n === undefined) this.perLinkType.set(r.linkType, (n = { packets: 0, segments: 0 }));
        n.packets++;
        if (seg !== null) {
          n.segments++;
          summary.segments++;
          tcp.segment(seg);
        }
      } else if (r.kind === 'interface') {
        this.onInterface?.(r);
      } else if (r.kind === 'secrets') {
        this.onSecrets?.(r);
      } else {
        if (r.fatal) summary.failed = true;
        this.diagnostic(r.error);
      }
    }
  }

  private diagnostic(error: KubewireError): void {
    if (this.strict) throw error;
    this.onEvent({ kind: 'diagnostic', error });
  }
}

/**
 * Decode a capture (path, `-` for stdin, Readable, async iterable or bytes)
 * into connection events, delivered synchronously to `onEvent` as input
 * arrives. Data views are valid only during the call: file read buffers are
 * recycled, so copy what you keep.
 */
export async function decodeCaptureToConnections(
  input: CaptureInput,
  onEvent: (e: ConnectionEvent) => void,
  options: DecodeCaptureOptions = {},
): Promise<DecodeSummary> {
  const decoder = new CaptureDecoder(onEvent, options);
  for await (const chunk of decoderChunks(input, decoder, options)) {
    decoder.push(chunk);
    if (decoder.done) break;
  }
  decoder.end();
  return decoder.summary;
}

/**
 * The input chunks to push into `decoder`: for a file path, read into a few
 * recycled buffers (memory stays flat however large the file), which is safe
 * because a CaptureDecoder delivers everything synchronously during `push`
 * and copies what it keeps; other inputs as `captureChunks` gives them. Push
 * each chunk before pulling the next.
 */
export function decoderChunks(
  input: CaptureInput,
  decoder: CaptureDecoder,
  options: CaptureSourceOptions = {},
): AsyncGenerator<Uint8Array> {
  return typeof input === 'string' && input !== '-' ? recycledFileChunks(input, decoder, options) : captureChunks(input, options);
}

const DEFAULT_CHUNK = 1024 * 1024;
const MAX_POOLED = 4;

/**
 * File chunks read into a small pool of buffers, so memory stays flat however
 * large the file (fresh buffers would pile up until the GC noticed them). A
 * buffer returns to the pool once the decoder holds no unconsumed byte of it;
 * everything delivered from it was delivered synchronously during `push`.
 */
async function* recycledFileChunks(
  path: string,
  decoder: CaptureDecoder,
  options: CaptureSourceOptions,
): AsyncGenerator<Uint8Array> {
  const size = options.chunkSize ?? DEFAULT_CHUNK;
  const pool: Buffer[] = [];
  const live: Buffer[] = [];
  const liveLength: number[] = [];
  const fh = await open(path, 'r');
  try {
    for (;;) {
      const buf = pool.pop() ?? Buffer.allocUnsafeSlow(size);
      const { bytesRead } = await fh.read(buf, 0, size, null);
      if (bytesRead === 0) return;
      live.push(buf);
      liveLength.push(bytesRead);
      yield bytesRead === size ? buf : buf.subarray(0, bytesRead);
      // The decoder's unconsumed bytes are a suffix of what was pushed: keep the chunks holding them.
      let need = decoder.buffered;
      let keep = 0;
      while (need > 0 && keep < live.length) {
        keep++;
        need -= liveLength[live.length - keep]!;
      }
      const free = live.length - keep;
      for (let i = 0; i < free; i++) if (pool.length < MAX_POOLED) pool.push(live[i]!);
      live.splice(0, free);
      liveLength.splice(0, free);
    }
  } finally {
    await fh.close();
  }
}

/** The same as an async iterable of events (one batch per input chunk under the hood). */
export async function* connectionEvents(
  input: CaptureInput,
  options: DecodeCaptureOptions = {},
): AsyncGenerator<ConnectionEvent, DecodeSummary> {
  let batch: ConnectionEvent[] = [];
  const decoder = new CaptureDecoder((e) => batch.push(e), options);
  for await (const chunk of captureChunks(input, options)) {
    decoder.push(chunk);
    if (batch.length > 0) {
      const out = batch;
      batch = [];
      yield* out;
    }
    if (decoder.done) break;
  }
  decoder.end();
  yield* batch;
  return decoder.summary;
}

/** Decode a capture held in memory; data events alias `bytes`. */
export function decodeCaptureBytes(bytes: Uint8Array, options: DecodeCaptureOptions = {}): ConnectionEvent[] {
  const events: ConnectionEvent[] = [];
  const decoder = new CaptureDecoder((e) => events.push(e), options);
  decoder.push(bytes);
  decoder.end();
  return events;
}
