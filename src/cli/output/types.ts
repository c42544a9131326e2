/**
 * The output side shared by `kubewire decode` and `kubewire tap`: renderers
 * take timeline events one at a time, from wherever they come, and the
 * summary at the end.
 */
import type { DecodeSummary, TimelineEvent } from '../../timeline/index.js';

export type OutputFormat = 'timeline' | 'summary' | 'json' | 'ndjson' | 'follow';

export interface OutputFilters {
  /** Session numbers to keep. */
  session?: number[];
  /** SPDY stream ids or WebSocket channels to keep. */
  stream?: number[];
  /** Stream roles to keep. */
  role?: string[];
}

export interface OutputOptions {
  format: OutputFormat;
  /** With `summary` or `json`: print the summary contract document as JSON. */
  summaryJson?: boolean;
  color: boolean;
  /** Only used to word the output; redaction itself happens in the decoder. */
  showSecrets: boolean;
  filters: OutputFilters;
  /** Also write every stream's raw bytes per direction into this folder, with index.json. */
  extractDir?: string;
  stdout: NodeJS.WritableStream;
  // additions
  /** Include stream payloads (base64) in json/ndjson events. */
  bytes?: boolean;
  /** Also write an asciicast v2 recording per TTY session (all exec/attach sessions with `all`) into this folder. */
  asciicast?: { dir: string; all: boolean; stdin: boolean };
  /** Also write a self-contained HTML report to `file`, naming `input` as what was decoded. */
  html?: { file: string; input: string };
  /** `--path N`: per session, which hop of the path it is; the timeline and `--follow` mark every event with it. */
  hopMarks?: Map<number, string>;
  /** Whether TLS secrets were given (a key log, a Decryption Secrets Block): asked at the end, as they may come during the decode. */
  tlsKeysGiven?: () => boolean;
}

export interface Output {
  /** One event; its byte views are used before this returns (renderers copy what they keep). */
  event(ev: TimelineEvent): void;
  /** End of input: print what waits for the end (summary, JSON document, index.json). */
  finish(summary: DecodeSummary): Promise<void>;
}

/** Both outputs get every event; `extra` (files beside the main output) finishes first. */
export function alongside(main: Output, extra: Output): Output {
  return {
    event(ev: TimelineEvent) {
      main.event(ev);
      extra.event(ev);
    },
    async finish(summary: DecodeSummary) {
      await extra.finish(summary);
      await main.finish(summary);
    },
  };
}
