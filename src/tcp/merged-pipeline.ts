/**
 * The input side of a decode of several captures at once: their packets in
 * merged time order (`capture/merge.ts`), each input through its own link/IP
 * decoder (link types and IP fragments are per file), then one TCP
 * reassembler for all. The same connection seen in two files is one
 * connection: its segments meet in the reassembler, which drops the second
 * copy of every byte as it drops a retransmission. Segments carry their
 * input (`source`), so each connection's close event names the inputs it
 * came from.
 *
 * Packet numbers of segments (and so of TCP and session events) count the
 * packets of all inputs in merged order, as in a file `mergecap` wrote;
 * capture-layer diagnostics keep the file's own packet number and offset and
 * name the file.
 */
import type { ErrorMode, KubewireError } from '../common/errors.js';
import { CAPTURE_ERROR, captureError } from '../capture/errors.js';
import { isSupportedLinkType } from '../capture/link.js';
import type { FragmentLimits } from '../capture/fragments.js';
import { mergeCaptureInputs, type MergedRecord, type MergeFilesOptions } from '../capture/merge.js';
import { PacketDecoder } from '../capture/packet-decoder.js';
import type { CaptureFormat, CaptureInterface, CaptureSecrets } from '../capture/types.js';
import { CAPTURE_ACK_REORDER_TOLERANCE, countingEvents, emptyDecodeSummary, type DecodeSummary } from './pipeline.js';
import { TcpReassembler, type TcpReassemblerOptions } from './reassembler.js';
import type { ConnectionEvent } from './types.js';

export interface MergedDecodeOptions extends MergeFilesOptions, Omit<TcpReassemblerOptions, 'onEvent' | 'mode'> {
  mode?: ErrorMode;
  fragments?: FragmentLimits;
  /** Per input, the name its diagnostics carry (`file` of the error); default `input N`. */
  names?: readonly string[];
  onInterface?: (iface: CaptureInterface, input: number) => void;
  onSecrets?: (secrets: CaptureSecrets, input: number) => void;
}

/** Per input: what was read of it. */
export interface InputSummary {
  name: string;
  format: CaptureFormat | undefined;
  bytes: number;
  packets: number;
  segments: number;
  diagnostics: number;
  /** It ended with a fatal error (unreadable, corrupt framing); its packets before that were decoded. */
  failed: boolean;
  /** Its first diagnostic, `CODE: message`. */
  firstError?: string;
}

export interface MergedDecodeSummary extends DecodeSummary {
  inputs: InputSummary[];
}

/** Packets of one link type without any TCP from which that is reported (as for one file). */
const NO_TCP_MIN_PACKETS = 16;

/** Synchronous core: merged records in, connection events out through `onEvent`. */
export class MergedCaptureDecoder {
  private readonly decoders: PacketDecoder[];
  private readonly tcp: TcpReassembler;
  private readonly onEvent: (e: ConnectionEvent) => void;
  private readonly strict: boolean;
  private readonly names: string[];
  private readonly perLinkType: Array<Map<number, { packets: number; segments: number }>>;
  readonly summary: MergedDecodeSummary;

  constructor(
    inputs: number,
    onEvent: (e: ConnectionEvent) => void,
    private readonly options: MergedDecodeOptions = {},
  ) {
    this.strict = options.mode === 'strict';
    this.names = Array.from({ length: inputs }, (_, i) => options.names?.[i] ?? `input ${i + 1}`);
    this.summary = {
      ...emptyDecodeSummary(),
      inputs: this.names.map((name) => ({ name, format: undefined, bytes: 0, packets: 0, segments: 0, diagnostics: 0, failed: false })),
    };
    this.onEvent = countingEvents(this.summary, onEvent);
    this.decoders = this.names.map(
      (_, i) => new PacketDecoder({ fragments: options.fragments, onDiagnostic: (error) => this.diagnostic(i, error) }),
    );
    this.perLinkType = this.names.map(() => new Map());
    this.tcp = new TcpReassembler({
      ...options,
      ackReorderTolerance: options.ackReorderTolerance ?? CAPTURE_ACK_REORDER_TOLERANCE,
      onEvent: this.onEvent,
    });
  }

  /** One record of the merge. */
  record(m: MergedRecord): void {
    const r = m.record;
    const input = m.input;
    const per = this.summary.inputs[input]!;
    if (r.kind === 'packet') {
      this.summary.packets++;
      per.packets++;
      const seg = this.decoders[input]!.decode(r);
      const linkTypes = this.perLinkType[input]!;
      let n = linkTypes.get(r.linkType);
      if (n === undefined) linkTypes.set(r.linkType, (n = { packets: 0, segments: 0 }));
      n.packets++;
      if (seg !== null) {
        n.segments++;
        per.segments++;
        this.summary.segments++;
        seg.source = input;
        seg.packet = this.summary.packets;
        this.tcp.segment(seg);
      }
    } else if (r.kind === 'interface') {
      this.options.onInterface?.(r, input);
    } else if (r.kind === 'secrets') {
      this.options.onSecrets?.(r, input);
    } else {
      if (r.fatal) per.failed = true;
      this.diagnostic(input, r.error);
    }
  }

  /** Every input ended. */
  end(): void {
    this.tcp.end();
    this.perLinkType.forEach((linkTypes, input) => {
      for (const [linkType, n] of linkTypes) {
        if (n.segments === 0 && n.packets >= NO_TCP_MIN_PACKETS && isSupportedLinkType(linkType)) {
          this.diagnostic(
            input,
            captureError(
              CAPTURE_ERROR.NO_TCP,
              'file',
              `none of the ${n.packets} packets of link type ${linkType} held TCP over IPv4 or IPv6; is the capture's link type right?`,
              {},
            ),
          );
        }
      }
    });
    const formats = new Set(this.summary.inputs.map((i) => i.format).filter((f) => f !== undefined));
    this.summary.format = formats.size === 1 ? [...formats][0] : undefined;
    this.summary.failed = this.summary.inputs.every((i) => i.failed);
  }

  private diagnostic(input: number, error: KubewireError): void {
    const located = error.inFile(this.names[input]!);
    const per = this.summary.inputs[input]!;
    per.diagnostics++;
    per.firstError ??= `${error.code}: ${error.message}`;
    if (this.strict) throw located;
    this.onEvent({ kind: 'diagnostic', error: located });
  }
}

/**
 * Decode several capture inputs (paths, or bytes) as one merged capture into
 * connection events, delivered synchronously to `onEvent` as input is read.
 */
export async function decodeMergedCaptures(
  inputs: readonly (string | Uint8Array)[],
  onEvent: (e: ConnectionEvent) => void,
  options: MergedDecodeOptions = {},
): Promise<MergedDecodeSummary> {
  const decoder = new MergedCaptureDecoder(inputs.length, onEvent, options);
  const onChunk = options.onChunk;
  const formats = await mergeCaptureInputs(inputs, (m) => decoder.record(m), {
    ...options,
    onChunk: (input, bytes) => {
      decoder.summary.bytes += bytes;
      decoder.summary.inputs[input]!.bytes += bytes;
      onChunk?.(input, bytes);
    },
  });
  formats.forEach((format, i) => (decoder.summary.inputs[i]!.format = format));
  decoder.end();
  return decoder.summary;
}
