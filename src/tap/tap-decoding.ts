/**
 * What the tap does with the events it forwards: decode them into timeline
 * events, hand those to the summary stage and the output (skipping live
 * rendering while the output is backed up), and at the end the last events
 * and the summary. The same on the forwarding thread and on the decoding
 * worker (`serveTapDecoding`).
 */
import type { ConnectionEvent } from '../tcp/types.js';
import { SessionDecoder, type DecodeSummary, type SessionDecoderOptions, type TimelineEvent } from '../timeline/index.js';

/** What `createOutput` returns; the tap needs only this much of it. */
export interface TapOutput {
  event(ev: TimelineEvent): void;
  finish(summary: DecodeSummary): Promise<void>;
}

/**
 * What the caller adds to the summary from the events (decode's path
 * linking), so that the tap's summary has what decoding its recording gives.
 */
export interface SummaryStage {
  event(ev: TimelineEvent): void;
  finish(summary: DecodeSummary): DecodeSummary;
}

export interface TapDecodingOptions {
  decoder: SessionDecoderOptions;
  /** The recording's file name, which sessions name as their file (as decoding the recording does). */
  write?: string;
  output: TapOutput;
  summaryStage?: SummaryStage;
  /** Bytes the output has accepted but not yet written. */
  outputBacklog?: () => number;
  maxOutputBacklogBytes: number;
  /** A status line for the user. */
  say: (line: string) => void;
}

export class TapDecoding {
  private readonly decoder: SessionDecoder;
  /** Live events not rendered because the output was backed up. */
  unrendered = 0;
  /** Gets every connection event, in order. */
  readonly consumer: (ev: ConnectionEvent) => void;

  constructor(private readonly opts: TapDecodingOptions) {
    // The tap hands the decoder its own copies: WebSocket payloads are unmasked where they lie.
    const decoderOptions: SessionDecoderOptions = { ...opts.decoder, ownsInput: true };
    this.decoder = new SessionDecoder(opts.write ? { inputNames: [opts.write], ...decoderOptions } : decoderOptions);
    const stage = opts.summaryStage;
    this.consumer = stage
      ? (ev) => {
          const events = this.decoder.push(ev);
          for (const e of events) stage.event(e);
          this.deliver(events);
        }
      : (ev) => this.deliver(this.decoder.push(ev));
  }

  private deliver(events: TimelineEvent[]): void {
    if (events.length === 0) return;
    const { outputBacklog, output } = this.opts;
    if (outputBacklog && outputBacklog() > this.opts.maxOutputBacklogBytes) {
      if (this.unrendered === 0) this.opts.say('the output is not keeping up; live events are skipped until it does (the summary stays complete)');
      this.unrendered += events.length;
      return;
    }
    for (const ev of events) output.event(ev);
  }

  /** Every event has been pushed: the last events, the summary, the output finished. */
  async finish(): Promise<DecodeSummary> {
    const stage = this.opts.summaryStage;
    // The last events are rendered whatever the backlog: exit waits for the output to drain anyway.
    for (const ev of this.decoder.finish()) {
      stage?.event(ev);
      this.opts.output.event(ev);
    }
    const summary = stage ? stage.finish(this.decoder.summary()) : this.decoder.summary();
    await this.opts.output.finish(summary);
    return summary;
  }
}
