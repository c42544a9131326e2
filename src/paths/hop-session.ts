/**
 * A session as the linker sees it: its hop level, its streams under names
 * that are the same at every hop, and its times.
 */
import type { Direction } from '../common/errors.js';
import type { Hop, SessionSummary, StreamSummary } from '../timeline/index.js';
import type { Candidate, ChosenLink } from './link.js';
import type { SessionRecord, StallRecord } from './recorder.js';
import type { DirectionRecord } from './stream-record.js';
import type { PathSessionInput, SessionRef } from './types.js';

/** Hops in path order, outermost first. */
export const HOP_LEVEL: Partial<Record<Hop, number>> = { 'client-apiserver': 0, 'apiserver-kubelet': 1, 'kubelet-runtime': 2 };

/** The stalls of a session that had none (read only). */
const NO_STALLS: StallRecord[] = [];

/** Session ends that are the capture's, not the session's. */
const CAPTURE_ENDS = new Set(['end-of-input', 'evicted', 'timeout']);

/**
 * One direction of a named stream as the linker reads it: copied from the
 * summary and the record once, when the session is taken in. Every pass
 * (weighing, the per-stream comparison, the path's hops, where bytes
 * stopped) reads these, next to the session's own fields, instead of the
 * summaries and records spread over the heap: there a read was a cache miss
 * per stream, per pass.
 */
export interface StreamSide {
  bytes: number;
  sha256: string | null;
  /** null when the session was not recorded or the direction carried nothing. */
  record: DirectionRecord | null;
}

export interface NamedStream {
  /** `stdin`, `stdout`, `stderr`, or `data:PORT#N`. */
  name: string;
  /** Directions that carry the stream's bytes. */
  directions: Direction[];
  summary: StreamSummary;
  clientToServer: StreamSide;
  serverToClient: StreamSide;
}

export interface HopSession {
  file: string;
  /** The session's number (the summary's, kept here: sorting reads it for every session). */
  session: number;
  /** Rank in (file, session) order, set once the sessions are sorted: the tie-break that makes linking independent of input order. */
  order: number;
  /** Clock domain: the file, unless the input says otherwise. */
  clock: string;
  s: SessionSummary;
  level: number;
  // The summary's and the record's fields a path's hop shows, copied when
  // the session is taken in (as the streams' sides are, and for the same reason).
  hop: Hop;
  connection: number;
  transport: SessionSummary['transport'];
  protocol: string | null;
  client: string;
  server: string;
  startTime: number;
  endReason: SessionSummary['end'];
  exit: SessionSummary['exit'];
  /** The upgrade request, the 101, and the first exit status (µs, own clock; null when not recorded). */
  requestTime: number | null;
  upgradeTime: number | null;
  exitTime: number | null;
  /** Flow-control stalls recorded (shared and empty when none). */
  stalls: StallRecord[];
  /** Capture gaps in each direction; without a record, the summary's count for both (it does not say which). */
  gaps: { clientToServer: number; serverToClient: number };
  streams: Map<string, NamedStream>;
  /** The stream names, in report order. */
  names: string[];
  /** Request time, else start (µs, own clock). */
  request: number;
  /** End (µs, own clock); null while open. */
  end: number | null;
  /** Ended by the capture (end of input, eviction), not by the session. */
  captureEnded: boolean;
  /**
   * The summary's identity fields, kept here: every weighed pair compares
   * them, and reading them from summaries spread over the heap cost a cache
   * miss per pair where this session's own fields sit together.
   */
  kind: SessionSummary['kind'];
  namespace: string | null;
  pod: string | null;
  container: string | null;
  tty: boolean;
  /** The command's arguments joined by NUL (null when the URL has none): compared per pair, so joined once. */
  command: string | null;
  /** The inner session that last proposed this one as its outer (proposes each pair once without a set per inner). */
  seenBy: HopSession | null;
  // The linker's working state, kept on the session rather than in sets and
  // maps keyed by it: a capture has thousands of sessions, and a hash per
  // lookup over objects scattered in memory cost more than the weighing.
  /** Linked to an inner session (this round). */
  hasInner: boolean;
  /** Linked to an outer session (this round). */
  hasOuter: boolean;
  /** Score of the link taken for it in the current pair of hop levels; -1: none. */
  takenScore: number;
  /** Candidates of the current run of equal score that involve it: the first, and any others. */
  runId: number;
  runFirst: Candidate | null;
  runMore: Candidate[] | null;
  /** The link to its inner session, once links are chosen. */
  innerLink: ChosenLink | null;
  /** Part of an assembled path. */
  inPath: boolean;
}

export function hopSession(input: PathSessionInput): HopSession | null {
  const s = input.summary;
  const level = HOP_LEVEL[s.hop];
  if (level === undefined || s.application !== 'kubernetes' || s.kind === 'unknown') return null;
  const r = input.record;
  const streams = namedStreams(s, r);
  return {
    file: input.file,
    session: s.session,
    order: 0,
    clock: input.clock ?? input.file,
    s,
    level,
    hop: s.hop,
    connection: s.connection,
    transport: s.transport,
    protocol: s.protocol,
    client: s.client,
    server: s.server,
    startTime: s.startTime,
    endReason: s.end,
    exit: s.exit,
    requestTime: r?.requestTime ?? null,
    upgradeTime: r?.upgradeTime ?? null,
    exitTime: r?.exitTime ?? null,
    stalls: r && r.stalls.length ? r.stalls : NO_STALLS,
    gaps: r ? r.gaps : { clientToServer: s.gaps, serverToClient: s.gaps },
    streams,
    names: streamNames(streams),
    request: r?.requestTime ?? s.startTime,
    end: s.endTime,
    captureEnded: s.end === null || CAPTURE_ENDS.has(s.end),
    kind: s.kind,
    namespace: s.namespace,
    pod: s.pod,
    container: s.container,
    tty: s.tty,
    command: s.command.length ? s.command.join('\u0000') : null,
    seenBy: null,
    hasInner: false,
    hasOuter: false,
    takenScore: -1,
    runId: -1,
    runFirst: null,
    runMore: null,
    innerLink: null,
    inPath: false,
  };
}

/** Which session a hop is (made when a path or the unlinked list names it: most are never asked for). */
export function refOf(h: HopSession): SessionRef {
  return { file: h.file, session: h.session };
}

/** (file, session) order: sessions of a file by number, files by name. */
export function compareHops(a: HopSession, b: HopSession): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : a.session - b.session;
}

/** The usual names lists, shared by every session that has them (read only). */
const EXEC_NAMES = ['stdin', 'stdout', 'stderr'];
const NO_STDIN_NAMES = ['stdout', 'stderr'];

function streamNames(streams: Map<string, NamedStream>): string[] {
  if (streams.size === 3 && streams.has('stdin') && streams.has('stdout') && streams.has('stderr')) return EXEC_NAMES;
  if (streams.size === 2 && streams.has('stdout') && streams.has('stderr')) return NO_STDIN_NAMES;
  return [...streams.keys()].sort(streamOrder);
}

/** Directions lists, shared by every stream (read only): a capture has thousands of streams. */
const BOTH_WAYS: Direction[] = ['clientToServer', 'serverToClient'];
const TO_SERVER: Direction[] = ['clientToServer'];
const TO_CLIENT: Direction[] = ['serverToClient'];

/**
 * Stream names shared by every hop: exec and attach by role; port-forward
 * data streams by port and opening order (their ids and request ids are
 * each hop's own).
 */
export function namedStreams(s: SessionSummary, r?: SessionRecord): Map<string, NamedStream> {
  const out = new Map<string, NamedStream>();
  if (s.kind === 'portforward') {
    const perPort = new Map<number, number>();
    for (const st of [...s.streams].sort((a, b) => a.id - b.id)) {
      if (st.role !== 'data') continue;
      const port = st.port ?? 0;
      const n = perPort.get(port) ?? 0;
      perPort.set(port, n + 1);
      const name = `data:${port}#${n}`;
      out.set(name, named(name, BOTH_WAYS, st, r));
    }
    return out;
  }
  for (const st of s.streams) {
    if (st.role === 'stdin') out.set('stdin', named('stdin', TO_SERVER, st, r));
    else if (st.role === 'stdout' || st.role === 'stderr') out.set(st.role, named(st.role, TO_CLIENT, st, r));
  }
  return out;
}

/**
 * A stream's side in direction d. A named load per direction, not `st[d]`:
 * a property read by a key that varies is a keyed load V8 cannot cache, and
 * every pass reads sides by the thousand.
 */
export function side(st: NamedStream, d: Direction): StreamSide {
  return d === 'clientToServer' ? st.clientToServer : st.serverToClient;
}

function named(name: string, directions: Direction[], st: StreamSummary, r: SessionRecord | undefined): NamedStream {
  const rec = r?.streams.get(st.id);
  return {
    name,
    directions,
    summary: st,
    clientToServer: { bytes: st.clientToServer.bytes, sha256: st.clientToServer.sha256, record: rec?.clientToServer ?? null },
    serverToClient: { bytes: st.serverToClient.bytes, sha256: st.serverToClient.sha256, record: rec?.serverToClient ?? null },
  };
}

/**
 * Each stream direction the outer hop carries that both hops recorded, in
 * report order: what clock estimation and per-hop delays are measured on.
 */
export function sharedDirections(
  o: HopSession,
  i: HopSession,
  fn: (name: string, d: Direction, outer: DirectionRecord, inner: DirectionRecord) => void,
): void {
  for (const name of o.names) {
    const so = o.streams.get(name)!;
    const si = i.streams.get(name);
    if (!si) continue;
    for (const d of so.directions) {
      const ro = side(so, d).record;
      const ri = side(si, d).record;
      if (ro && ri) fn(name, d, ro, ri);
    }
  }
}

/** Stream names in the order they are reported. */
export function streamOrder(a: string, b: string): number {
  const rank = (n: string) => (n === 'stdin' ? 0 : n === 'stdout' ? 1 : n === 'stderr' ? 2 : 3);
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}
