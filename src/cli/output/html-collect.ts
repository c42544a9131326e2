/**
 * The HTML report's document, gathered from timeline events as they come and
 * the summary at the end. Memory and page size stay bounded whatever the
 * capture's size: each lane keeps at most MARKS_PER_LANE data marks per
 * direction (when full, neighbours merge pairwise and each mark from then on
 * stands for twice as many events), each data mark keeps at most
 * BYTES_PER_EVENT of its bytes, all marks together BYTES_IN_ALL, terminal
 * replays REPLAY_BYTES; what is left out is counted and the page says so.
 */
import { basename } from 'node:path';
import type { Direction } from '../../common/errors.js';
import { printable, printableDeep } from '../../common/printable.js';
import { namedStreams } from '../../paths/hop-session.js';
import type { ClockOffset, PathSummary } from '../../paths/types.js';
import type { Lane, Mark, MarkDirection, MarkKind, Replay, ReportData, ReportDiagnostic, ReportPath, ReportSession } from '../../report/model.js';
import type { DecodeSummary, SessionStartEvent, SessionSummary, StreamRole, TimelineEvent } from '../../timeline/index.js';
import type { EventFilter } from './filter.js';

export const REPORT_LIMITS = {
  bytesPerEvent: 16 * 1024,
  bytesInAll: 1024 * 1024,
  marksPerLane: 1500,
  replayBytes: 1024 * 1024,
};
/** Non-data marks (pings, resizes, …) kept per lane. */
const OTHER_MARKS_PER_LANE = 2000;
const DIAGNOSTICS_LISTED = 500;
/** Replay bytes of one session without a TTY. */
const NON_TTY_REPLAY_BYTES = 256 * 1024;

const ROLE_ORDER: Record<string, number> = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, data: 5, unknown: 6 };

interface DataList {
  marks: Mark[];
  /** Events a mark may stand for before a new one starts (doubles at each merge). */
  perMark: number;
}

interface LaneState {
  lane: Lane;
  data: [DataList, DataList];
  other: Mark[];
  otherDropped: number;
}

interface SessionState {
  start: SessionStartEvent;
  lanes: Map<string, LaneState>;
  stalls: Map<string, { t: number; lane: string; d: MarkDirection; window: number }>;
  /** Port-forward: the remote port of each stream. */
  ports: Map<number, number>;
  replay: Replay | null;
  replayBytes: number;
  lastT: number;
  dataEvents: number;
  dataBytes: number;
}

const dir = (d: Direction | null | undefined): MarkDirection => (d === 'clientToServer' ? 0 : d === 'serverToClient' ? 1 : -1);
const side = (d: Direction): string => (d === 'clientToServer' ? 'client' : 'server');
const base64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');

function merge(a: Mark, b: Mark): Mark {
  return { ...a, t1: b.t1 ?? b.t, n: (a.n ?? 0) + (b.n ?? 0), c: (a.c ?? 1) + (b.c ?? 1) };
}

export class ReportCollector {
  private readonly sessions = new Map<number, SessionState>();
  private readonly diagnostics: ReportDiagnostic[] = [];
  private moreDiagnostics = 0;
  private bytesLeft = REPORT_LIMITS.bytesInAll;
  private replayLeft = REPORT_LIMITS.replayBytes;

  constructor(private readonly filter: EventFilter) {}

  event(ev: TimelineEvent): void {
    if (!this.filter.keep(ev)) return;
    if (ev.kind === 'diagnostic') this.diagnostic(ev);
    if (ev.kind === 'session-start') {
      this.sessions.set(ev.session, { start: ev, lanes: new Map(), stalls: new Map(), ports: new Map(), replay: this.newReplay(ev), replayBytes: 0, lastT: 0, dataEvents: 0, dataBytes: 0 });
      return;
    }
    const sessionNo = 'session' in ev ? ev.session : null;
    if (sessionNo === null) return;
    const s = this.sessions.get(sessionNo);
    if (!s) return;
    const t = Math.max(0, ev.time - s.start.time);
    s.lastT = Math.max(s.lastT, t);
    switch (ev.kind) {
      case 'stream-data':
        this.data(s, t, ev.streamId, ev.role, ev.direction, ev.bytes, ev.offset);
        return;
      case 'stream-open': {
        if (ev.port !== null) s.ports.set(ev.streamId, ev.port);
        const what = `${ev.role} stream ${ev.streamId} opened by the ${side(ev.direction)}`;
        const port = ev.port !== null ? `, port ${ev.port}` : '';
        this.other(this.streamLane(s, ev.streamId, ev.role), { k: 'open', t, d: dir(ev.direction), x: what + port + (ev.inferred ? ' (role inferred)' : '') });
        return;
      }
      case 'half-close':
        this.other(this.streamLane(s, ev.streamId, ev.role), { k: 'half-close', t, d: dir(ev.direction), x: `${ev.role}: the ${side(ev.direction)} finished sending (half-close)` });
        return;
      case 'stream-reset':
        this.other(this.streamLane(s, ev.streamId, ev.role), { k: 'reset', t, d: dir(ev.direction), x: `reset by the ${side(ev.direction)}: RST_STREAM ${ev.statusName} (${ev.status})` });
        return;
      case 'resize':
        this.other(this.streamLane(s, ev.streamId, 'resize'), { k: 'resize', t, d: dir(ev.direction), x: `terminal resized to ${ev.width}×${ev.height}` });
        if (s.replay && !s.replay.tty) {
          // A resize stream means a TTY (the runtime hop's URL does not say): stdin is the terminal's echo, not shown.
          s.replay.tty = true;
          s.replay.chunks = s.replay.chunks.filter((c) => c[1] !== 0);
        }
        s.replay?.resizes.push([t, ev.width, ev.height]);
        if (s.replay && s.replay.resizes.length === 1 && s.replay.chunks.length === 0) {
          // The first size the client sent is the terminal's size from the start.
          s.replay.width = ev.width;
          s.replay.height = ev.height;
        }
        return;
      case 'exit': {
        const errorLane = [...s.lanes.values()].find((l) => l.lane.role === 'error');
        const code = ev.code !== null ? ` code ${ev.code}` : '';
        const text = `exit: ${ev.status}${code}${ev.message ? ` (${printable(ev.message)})` : ''}`;
        this.other(errorLane ?? this.sessionLane(s), { k: 'exit', t, d: 1, x: text });
        return;
      }
      case 'goaway':
        this.other(this.sessionLane(s), { k: 'goaway', t, d: dir(ev.direction), x: `GOAWAY from the ${side(ev.direction)}: ${ev.statusName}, last good stream ${ev.lastGoodStreamId}` });
        return;
      case 'note':
        this.other(this.sessionLane(s), { k: 'note', t, d: dir(ev.direction), x: `note: ${ev.error.code} ${printable(ev.error.message)} (a rule this software broke; not a diagnostic)` });
        return;
      case 'ping':
        this.other(this.sessionLane(s), { k: 'ping', t, d: dir(ev.direction), x: `${ev.reply ? 'pong' : 'ping'} from the ${side(ev.direction)}${ev.id !== null ? ` (id ${ev.id})` : ''}` });
        return;
      case 'flow-control':
        this.flowControl(s, t, ev);
        return;
      case 'gap':
        this.other(this.sessionLane(s), { k: 'gap', t, d: dir(ev.direction), n: ev.size, x: `capture gap: ${ev.size} bytes the ${side(ev.direction)} sent are missing (offset ${ev.offset})` });
        return;
      case 'diagnostic':
        this.other(this.sessionLane(s), { k: 'diagnostic', t, d: dir(ev.direction), x: `${ev.error.code}: ${printable(ev.error.message)}` });
        return;
      case 'teardown':
        this.other(this.sessionLane(s), { k: 'end', t, d: dir(ev.direction), x: `teardown: a ${ev.layer} ${ev.frame} frame cut by the connection's ${ev.cutBy.toUpperCase()} as the session ended (normal)` });
        return;
      case 'session-end':
        this.other(this.sessionLane(s), { k: 'end', t, d: -1, x: `session ended: ${ev.reason}` });
        return;
      default:
        return;
    }
  }

  private newReplay(ev: SessionStartEvent): Replay | null {
    if (ev.sessionKind === 'portforward') return null;
    return { tty: ev.tty, width: 80, height: 24, chunks: [], resizes: [], omittedBytes: 0 };
  }

  private diagnostic(ev: Extract<TimelineEvent, { kind: 'diagnostic' }>): void {
    if (this.diagnostics.length >= DIAGNOSTICS_LISTED) {
      this.moreDiagnostics++;
      return;
    }
    this.diagnostics.push({ session: ev.session, connection: ev.connection, time: ev.time, code: ev.error.code, message: printable(ev.error.message) });
  }

  private sessionLane(s: SessionState): LaneState {
    return this.lane(s, 'session', () => ({ key: 'session', label: 'session', role: 'session', streamId: null, marks: [] }));
  }

  private streamLane(s: SessionState, streamId: number, role: StreamRole): LaneState {
    const ws = s.start.transport === 'websocket';
    const label = (r: string) => `${r}${s.ports.has(streamId) ? ` :${s.ports.get(streamId)}` : ''} (${ws ? 'channel' : 'stream'} ${streamId})`;
    const l = this.lane(s, `stream${streamId}`, () => ({ key: `stream${streamId}`, label: label(role), role, streamId, marks: [] }));
    // A role learnt late (mid-session join) names the lane from then on.
    if (l.lane.role === 'unknown' && role !== 'unknown') {
      l.lane.role = role;
      l.lane.label = label(role);
    }
    return l;
  }

  private lane(s: SessionState, key: string, make: () => Lane): LaneState {
    let l = s.lanes.get(key);
    if (!l) {
      l = { lane: make(), data: [{ marks: [], perMark: 1 }, { marks: [], perMark: 1 }], other: [], otherDropped: 0 };
      s.lanes.set(key, l);
    }
    return l;
  }

  private other(l: LaneState, m: Mark & { k: Exclude<MarkKind, 'data'> }): void {
    if (l.other.length >= OTHER_MARKS_PER_LANE) {
      l.otherDropped++;
      return;
    }
    l.other.push(m);
  }

  private data(s: SessionState, t: number, streamId: number, role: StreamRole, direction: Direction, bytes: Uint8Array, offset: number): void {
    s.dataEvents++;
    s.dataBytes += bytes.length;
    this.replayData(s, t, role, bytes);
    const l = this.streamLane(s, streamId, role);
    const list = l.data[direction === 'clientToServer' ? 0 : 1];
    const last = list.marks[list.marks.length - 1];
    if (last && (last.c ?? 1) < list.perMark) {
      list.marks[list.marks.length - 1] = merge(last, { k: 'data', t, d: last.d, n: bytes.length });
      return;
    }
    const keep = Math.min(bytes.length, REPORT_LIMITS.bytesPerEvent, this.bytesLeft);
    this.bytesLeft -= keep;
    const m: Mark = { k: 'data', t, d: dir(direction), n: bytes.length, o: offset };
    if (keep > 0) m.b = base64(bytes.subarray(0, keep));
    list.marks.push(m);
    if (list.marks.length >= REPORT_LIMITS.marksPerLane) {
      const merged: Mark[] = [];
      for (let i = 0; i < list.marks.length; i += 2) {
        const b = list.marks[i + 1];
        merged.push(b ? merge(list.marks[i]!, b) : list.marks[i]!);
      }
      list.marks = merged;
      list.perMark *= 2;
    }
  }

  private replayData(s: SessionState, t: number, role: StreamRole, bytes: Uint8Array): void {
    const r = s.replay;
    if (!r) return;
    // As --follow: a TTY's stdin is echoed by the remote terminal, so only output is replayed.
    const stream = role === 'stdout' ? 1 : role === 'stderr' ? 2 : role === 'stdin' && !r.tty ? 0 : -1;
    if (stream === -1) return;
    // Without a TTY the replay is a transcript, mostly worth its start: a bulk transfer is not read on a screen.
    const room = r.tty ? this.replayLeft : Math.min(this.replayLeft, NON_TTY_REPLAY_BYTES - s.replayBytes);
    if (r.omittedBytes > 0 || bytes.length > room) {
      r.omittedBytes += bytes.length;
      return;
    }
    this.replayLeft -= bytes.length;
    s.replayBytes += bytes.length;
    r.chunks.push([t, stream, base64(bytes)]);
  }

  private flowControl(s: SessionState, t: number, ev: Extract<TimelineEvent, { kind: 'flow-control' }>): void {
    const l = ev.streamId === 0 ? this.sessionLane(s) : this.streamLane(s, ev.streamId, 'unknown');
    const key = `${ev.direction}/${ev.streamId}`;
    const which = ev.streamId === 0 ? 'session window' : `stream ${ev.streamId} window`;
    if (ev.state === 'exhausted') {
      s.stalls.set(key, { t, lane: l.lane.key, d: dir(ev.direction), window: ev.window });
    } else if (ev.state === 'resumed') {
      const start = s.stalls.get(key);
      s.stalls.delete(key);
      const t0 = start?.t ?? Math.max(0, t - (ev.stalledUs ?? 0));
      this.other(l, { k: 'stall', t: t0, t1: t, d: dir(ev.direction), x: `flow-control stall: the ${side(ev.direction)}'s ${which} at zero for ${((t - t0) / 1000).toFixed(1)} ms, until a WINDOW_UPDATE` });
    } else if (ev.state === 'overrun' && ev.violation) {
      // Only from a sender that does flow control: spdystream never looks at windows, its overruns are how it works.
      this.other(l, { k: 'overrun', t, d: dir(ev.direction), x: `the ${side(ev.direction)} sent past its ${which} (window ${ev.window}), though it does flow control` });
    }
  }

  /** The report, with the decode's summary for the sessions list. */
  finish(summary: DecodeSummary, generator: string, input: string): ReportData {
    const kept = this.filter.summary(summary);
    const sessions: ReportSession[] = [];
    for (const sum of kept.sessions) {
      const s = this.sessions.get(sum.session);
      if (!s) continue;
      const end = sum.endTime !== null ? sum.endTime - s.start.time : 0;
      const durationUs = Math.max(end, s.lastT);
      for (const st of s.stalls.values()) {
        const l = s.lanes.get(st.lane)!;
        this.other(l, { k: 'stall', t: st.t, t1: durationUs, d: st.d, x: `flow-control stall: window at zero from here and never reopened (window ${st.window})` });
      }
      // A joined capture may learn a stream's role only after its events were drawn: the summary has the final word.
      for (const st of sum.streams) {
        if (s.lanes.has(`stream${st.id}`)) this.streamLane(s, st.id, st.role);
      }
      let keptBytes = 0;
      const lanes = [...s.lanes.values()]
        .sort((a, b) => laneOrder(a.lane) - laneOrder(b.lane) || (a.lane.streamId ?? -1) - (b.lane.streamId ?? -1))
        .map((l) => {
          const marks = [...l.data[0].marks, ...l.data[1].marks, ...l.other].sort((a, b) => a.t - b.t);
          for (const m of marks) if (m.b) keptBytes += Buffer.byteLength(m.b, 'base64');
          if (l.otherDropped > 0) marks.push({ k: 'diagnostic', t: durationUs, d: -1, x: `${l.otherDropped} more events on this lane not drawn` });
          return { ...l.lane, marks };
        });
      sessions.push({
        summary: printableDeep(sum),
        durationUs,
        lanes,
        replay: s.replay && s.replay.chunks.length + s.replay.omittedBytes > 0 ? s.replay : null,
        dataEvents: s.dataEvents,
        dataBytes: s.dataBytes,
        omittedBytes: s.dataBytes - keptBytes,
      });
    }
    // paths: added to the summary by `decode` when it linked sessions across hops
    const linked = summary as DecodeSummary & { paths?: PathSummary[]; clockOffsets?: ClockOffset[] };
    const shown = new Map(sessions.map((r) => [r.summary.session, r]));
    return {
      version: 1,
      generator,
      input,
      sessions,
      paths: (linked.paths ?? []).map((p) => printableDeep(reportPath(p, shown))),
      // Files by name, as the page names the input: the folders they were in are the decoding machine's business.
      clockOffsets: printableDeep((linked.clockOffsets ?? []).map((o) => ({ ...o, file: basename(o.file), reference: basename(o.reference) }))),
      diagnostics: this.diagnostics,
      moreDiagnostics: this.moreDiagnostics,
      connections: kept.connections,
      requests: kept.requests.length,
      limits: { ...REPORT_LIMITS },
    };
  }
}

function laneOrder(l: Lane): number {
  return l.key === 'session' ? -1 : ROLE_ORDER[l.role] ?? 7;
}

/**
 * A path for the Paths view: its hops' times put on one axis (each file's
 * clock corrected by its offset, zero at the earliest request), and each
 * hop's stream names tied to its session's lanes.
 */
export function reportPath(p: PathSummary, shown: Map<number, ReportSession>): ReportPath {
  const fix = (h: PathSummary['hops'][number], t: number) => t - (h.clockOffsetUs ?? 0);
  const zero = Math.min(...p.hops.map((h) => fix(h, Math.min(h.requestTime ?? h.startTime, h.startTime))));
  const on = (h: PathSummary['hops'][number], t: number | null) => (t === null ? null : fix(h, t) - zero);
  // Longest first, so that no name is cut inside a longer one.
  const files = [...new Set([...p.hops.map((h) => h.file), ...p.links.flatMap((l) => l.alternatives.map((a) => a.file))])].filter((f) => f !== basename(f)).sort((a, b) => b.length - a.length);
  let durationUs = 0;
  const hops = p.hops.map((h) => {
    const r = shown.get(h.session);
    const startUs = fix(h, h.startTime) - zero;
    const endUs = on(h, h.endTime);
    durationUs = Math.max(durationUs, endUs ?? 0, startUs + (r?.durationUs ?? 0));
    return {
      hop: h.hop,
      session: r ? h.session : null,
      file: basename(h.file),
      transport: h.transport,
      protocol: h.protocol,
      client: h.client,
      server: h.server,
      startUs,
      requestUs: on(h, h.requestTime),
      upgradeUs: on(h, h.upgradeTime),
      endUs,
      setupUs: h.setupUs,
      end: h.end,
      clockOffsetUs: h.clockOffsetUs,
      lanes: r ? laneKeys(r.summary) : {},
      streams: h.streams.map((s) => ({ stream: s.stream, direction: s.direction, bytes: s.bytes })),
      exit: h.exit ? { status: h.exit.status, code: h.exit.code, message: h.exit.message, timeUs: on(h, h.exit.time) } : null,
      stalls: h.stalls.map((s) => ({ direction: s.direction, streamId: s.streamId, sinceUs: fix(h, s.since) - zero, stalledUs: s.stalledUs })),
    };
  });
  return {
    path: p.path,
    kind: p.kind,
    namespace: p.namespace,
    pod: p.pod,
    container: p.container,
    command: p.command,
    tty: p.tty,
    hops,
    links: p.links.map((l) => ({
      outer: l.outer,
      inner: l.inner,
      confidence: l.confidence,
      evidence: l.evidence,
      why: files.reduce((w, f) => w.split(f).join(basename(f)), l.why),
      partial: l.partial,
      ambiguous: l.ambiguous,
      alternatives: l.alternatives.map((a) => ({ file: basename(a.file), session: a.session })),
      delays: l.delays,
      exitTravelUs: l.exitTravelUs,
    })),
    exit: p.exit,
    stopped: p.stopped,
    durationUs,
  };
}

/** The path's stream names (the same at every hop) → the lane that shows the stream in this session. */
function laneKeys(s: SessionSummary): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, st] of namedStreams(s)) out[name] = `stream${st.summary.id}`;
  return out;
}
