/**
 * What the HTML report carries: the document `--html` embeds in the page as
 * JSON and the page's script draws. Written by `cli/output/html-collect.ts`
 * (Node), read by `report/page/` (the browser); types only, so both sides
 * compile it. Times are µs since the session's start; `base64` fields are
 * stream bytes. Short keys on marks: a report can hold tens of thousands.
 * The Paths view's types are the summary's (src/paths/types.ts, imported as
 * types only, so none of it reaches the page's bundle) with their times put
 * on each path's axis.
 */
import type { ClockOffset, PathHop, PathLink, PathStop, PathSummary } from '../paths/types.js';
import type { SessionSummary } from '../timeline/summary-types.js';

export type MarkKind =
  | 'data'
  | 'open'
  | 'half-close'
  | 'reset'
  | 'resize'
  | 'exit'
  | 'goaway'
  | 'ping'
  | 'stall'
  | 'overrun'
  | 'gap'
  | 'diagnostic'
  | 'note'
  | 'end';

/** 0: client → server, 1: server → client, -1: neither. */
export type MarkDirection = 0 | 1 | -1;

export interface Mark {
  k: MarkKind;
  /** Start, µs since the session start. */
  t: number;
  /** End, for marks that last (stalls) or stand for several events (merged data). */
  t1?: number;
  d: MarkDirection;
  /** Bytes: application bytes of data marks (summed when merged), lost bytes of gaps. */
  n?: number;
  /** Events this mark stands for, when more than one (data merged to bound the report). */
  c?: number;
  /** Offset in the stream's bytes of this direction (data: of the first event). */
  o?: number;
  /** The (first) event's bytes, base64, up to the per-event limit; absent when left out. */
  b?: string;
  /** What happened, in words (non-data marks). */
  x?: string;
}

export interface Lane {
  /** `session` for the session's own events, else `stream<ID>`. */
  key: string;
  label: string;
  role: string;
  streamId: number | null;
  marks: Mark[];
}

/** Terminal output to replay: [µs since start, stream (0 stdin, 1 stdout, 2 stderr), base64]. */
export type ReplayChunk = [t: number, stream: 0 | 1 | 2, base64: string];

export interface Replay {
  tty: boolean;
  width: number;
  height: number;
  chunks: ReplayChunk[];
  /** Later terminal sizes: [µs since start, cols, rows]. */
  resizes: Array<[t: number, width: number, height: number]>;
  /** Output bytes that did not fit the report (the replay stops where they begin). */
  omittedBytes: number;
}

export interface ReportSession {
  summary: SessionSummary;
  /** µs from start to the last event. */
  durationUs: number;
  lanes: Lane[];
  replay: Replay | null;
  /** Data events in all, and how many of their bytes the marks do not carry. */
  dataEvents: number;
  dataBytes: number;
  omittedBytes: number;
}

export interface ReportDiagnostic {
  session: number | null;
  connection: number;
  /** µs since the Unix epoch. */
  time: number;
  code: string;
  message: string;
}

/**
 * One hop of a path, for the Paths view: the summary's `PathHop` with its
 * times in µs on the path's axis (since the earliest request or start among
 * its hops, each hop's capture clock corrected by its file's clock offset to
 * the reference clock), its file by name, and its streams tied to the lanes.
 */
export interface ReportPathHop
  extends Pick<PathHop, 'hop' | 'file' | 'transport' | 'protocol' | 'client' | 'server' | 'setupUs' | 'end' | 'clockOffsetUs'> {
  /** The report session that is this hop (its `summary.session`); null when the report leaves it out (filters). */
  session: number | null;
  /** Where the session's own times (its marks' `t`, µs since its start) begin on the path's axis. */
  startUs: number;
  requestUs: number | null;
  upgradeUs: number | null;
  endUs: number | null;
  /** Stream name as the path names it (`stdin`, `stdout`, `stderr`, `data:PORT#N`) → the session's lane key (`stream<ID>`). */
  lanes: Record<string, string>;
  /** Application bytes per stream direction at this hop. */
  streams: Array<Omit<PathHop['streams'][number], 'bytesPerSecond'>>;
  exit: (Omit<NonNullable<PathHop['exit']>, 'time'> & { timeUs: number | null }) | null;
  /** Flow-control stalls (`sinceUs` on the path's axis; `stalledUs` null: never reopened). */
  stalls: Array<Omit<PathHop['stalls'][number], 'since'> & { sinceUs: number }>;
}

/** Between two consecutive hops of a path: the summary's `PathLink` without its per-stream comparisons; files by name. */
export type ReportPathLink = Omit<PathLink, 'streams' | 'sameClock'>;

/** Where a stream's bytes stopped: the summary's `PathStop`. */
export type ReportPathStop = PathStop;

/** A capture file's clock against the reference file's: the summary's `clockOffsets`, files by name. */
export type ReportClockOffset = ClockOffset;

/**
 * A path: one exec, attach or port-forward linked across its hops by
 * `kubewire decode` (the summary's `paths`; see src/paths/types.ts for
 * what links, stops and the exit's travel mean).
 */
export interface ReportPath extends Omit<PathSummary, 'hops' | 'links'> {
  hops: ReportPathHop[];
  links: ReportPathLink[];
  /** µs from the path's zero to its last hop's end or last event. */
  durationUs: number;
}

export interface ReportData {
  version: 1;
  generator: string;
  /** The capture's file name (no folder), or `standard input`. */
  input: string;
  sessions: ReportSession[];
  diagnostics: ReportDiagnostic[];
  /** Diagnostics not listed (beyond the list's limit). */
  moreDiagnostics: number;
  connections: number;
  requests: number;
  /** Sessions linked across hops (empty when decode found none, and in `tap` reports). */
  paths: ReportPath[];
  /** Per capture file, its clock's offset to the reference file (empty for one file). */
  clockOffsets: ReportClockOffset[];
  /** Limits that shaped this report, said in the page. */
  limits: { bytesPerEvent: number; bytesInAll: number; marksPerLane: number; replayBytes: number };
}
