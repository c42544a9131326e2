/**
 * Paths: the sessions of one exec, attach or port-forward at its different
 * hops (kubectl → API server → kubelet → container runtime), linked into
 * one. These types are the `paths` and `clockOffsets` fields of the summary
 * document (`kubewire decode … --summary --json`), an addition to the
 * summary contract; field names are stable.
 *
 * Times are µs since the epoch, each from its own capture file's clock;
 * subtract the hop's `clockOffsetUs` to put it on the reference file's clock.
 */
import type { Direction } from '../common/errors.js';
// From the timeline's type modules, not its index: the report page compiles these types, without Node's.
import type { Hop, SessionKind, Transport } from '../timeline/events.js';
import type { SessionSummary } from '../timeline/summary-types.js';
import type { SessionRecord } from './recorder.js';

/** One session handed to the linker. */
export interface PathSessionInput {
  /**
   * The capture file the session came from: its clock domain. Sessions of
   * one file share a clock; each other file's offset is estimated.
   */
  file: string;
  /**
   * The clock domain, when it is not the file's own: captures taken on one
   * machine share a clock (default: `file`). Offsets are estimated per domain.
   */
  clock?: string;
  summary: SessionSummary;
  /** What a `PathRecorder` kept for it (timing, samples, prefix digests); without it, only the summary is used. */
  record?: SessionRecord;
}

/** Which session: its file and its number there. */
export interface SessionRef {
  file: string;
  session: number;
}

export type LinkEvidence = 'identity' | 'bytes' | 'timing';

/** One stream direction compared between two hops. */
export interface StreamComparison {
  /** `stdin`, `stdout`, `stderr`, or for port-forward `data:PORT#N` (the N-th data stream to that port). */
  stream: string;
  direction: Direction;
  outerBytes: number;
  innerBytes: number;
  /**
   * equal: same count and sha256 (without digests: same count, first 256 bytes and sampled bytes);
   * prefix: the shorter is a prefix of the longer: its first 256 bytes and every byte sampled
   * along it (one per grid step) agree (`verifiedBytes`: the shorter's bytes; 0 when it has none);
   * counts: same count, content not checkable (no digests, no records); empty: no bytes on either side.
   */
  result: 'equal' | 'prefix' | 'counts' | 'empty';
  /** Bytes shown equal: the whole stream (sha256), or the checked prefix. */
  verifiedBytes: number;
}

/** Delay a hop adds to one stream direction, matched by byte offset. */
export interface DelayStats {
  stream: string;
  direction: Direction;
  /** Byte offsets compared. */
  samples: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
}

export interface PathLink {
  /** Indexes into the path's `hops`: outer (closer to the client) and inner. */
  outer: number;
  inner: number;
  /** high: bytes and another kind of evidence; medium: two kinds, or bytes alone; low: one kind. */
  confidence: 'high' | 'medium' | 'low';
  evidence: LinkEvidence[];
  /** Why, in words. */
  why: string;
  /** Only a prefix of some stream matched (a hop captured in part, or bytes that stopped). */
  partial: boolean;
  /** Other sessions matched as well as this one and nothing told them apart; the link was chosen by time order. */
  ambiguous: boolean;
  /** The sessions it could not be told apart from. */
  alternatives: SessionRef[];
  streams: StreamComparison[];
  /** Per stream direction: the delay from the hop that sent the bytes on to the hop that carried them next. */
  delays: DelayStats[];
  /** µs from the inner hop's exit status to the outer hop's; null when either has none. */
  exitTravelUs: number | null;
  /** Timing compared on one clock (same file, or an estimated offset); false: timing was not used. */
  sameClock: boolean;
}

export interface PathHop {
  hop: Hop;
  file: string;
  session: number;
  connection: number;
  kind: SessionKind;
  transport: Transport;
  protocol: string | null;
  client: string;
  server: string;
  /** The file's estimated clock offset to the reference file (µs; 0 for the reference, null when unknown). */
  clockOffsetUs: number | null;
  requestTime: number | null;
  upgradeTime: number | null;
  /** Request → 101 (µs). */
  setupUs: number | null;
  startTime: number;
  endTime: number | null;
  end: SessionSummary['end'];
  /** Application bytes per stream direction at this hop, and their throughput (bytes/s, first to last byte; null for a single burst). */
  streams: Array<{ stream: string; direction: Direction; bytes: number; bytesPerSecond: number | null }>;
  exit: { status: 'Success' | 'Failure'; code: number | null; message: string | null; time: number | null } | null;
  /** Flow-control stalls at this hop (a window at zero while the sender waited). */
  stalls: Array<{ direction: Direction; streamId: number; since: number; stalledUs: number | null }>;
}

/** Where a stream's bytes stopped on their way. */
export interface PathStop {
  stream: string;
  direction: Direction;
  /** short: this hop carried fewer bytes than the hop before it; window-zero: a flow-control window sat at zero here. */
  why: 'short' | 'window-zero';
  /** Index into `hops`. */
  hop: number;
  bytes: number;
  /** Bytes at the hop before (short only). */
  previousBytes: number | null;
  /** window-zero only: µs until a WINDOW_UPDATE reopened it; null: it never did. */
  stalledUs: number | null;
  /** The hop's session ended with the capture (`end-of-input`): the capture, not the path, may have stopped. */
  captureEnded: boolean;
  /**
   * Capture gaps at this hop in the stream's direction (short only; 0 for
   * window-zero): bytes passed there that the capture lost, so the capture,
   * not the path, may be short. An addition.
   */
  captureGaps: number;
}

export interface PathSummary {
  /** 1-based, in order of the outermost hop's start. */
  path: number;
  kind: SessionKind;
  namespace: string | null;
  pod: string | null;
  container: string | null;
  command: string[];
  tty: boolean;
  /** Outermost first. */
  hops: PathHop[];
  /** Between consecutive hops: links[i] joins hops[i] and hops[i + 1]. */
  links: PathLink[];
  /** The innermost exit status and how long it took to reach the outermost hop that has one. */
  exit: { code: number | null; status: 'Success' | 'Failure'; from: number; to: number; travelUs: number | null } | null;
  stopped: PathStop[];
}

export interface ClockOffset {
  /** The capture file (or clock domain) whose clock this is. */
  file: string;
  /** The file whose clock the others are put on. */
  reference: string;
  /** How far this file's clock is ahead of the reference (µs); null when no linked session ties it to the reference. */
  offsetUs: number | null;
  /** Half the width of the interval the offset lies in (from the fastest exchanges each way). */
  uncertaintyUs: number | null;
  /** Linked session pairs and timed samples it was estimated from. */
  links: number;
  samples: number;
}

export interface PathsResult {
  paths: PathSummary[];
  /** One per file when sessions came from more than one; empty otherwise. */
  clockOffsets: ClockOffset[];
  /** Sessions of a known hop that are in no path. */
  unlinked: SessionRef[];
}
