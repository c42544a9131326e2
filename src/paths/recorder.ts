/**
 * PathRecorder: takes timeline events as they stream by and keeps, per
 * session, what path linking needs beyond the summary: when the upgrade was
 * asked for and answered, when the exit status came, flow-control stalls,
 * and per stream and direction a `DirectionRecord`. Sans-IO; memory bounded
 * by the number of sessions kept (oldest dropped first) and, per stream, by
 * the record's own limits.
 */
import type { Direction } from '../common/errors.js';
import type { TimelineEvent } from '../timeline/events.js';
import { DirectionRecord } from './stream-record.js';

/** Sessions whose records are kept (the decoder keeps at most 100,000 closed connections). */
const MAX_SESSIONS_KEPT = 100_000;
/** Flow-control stalls kept per session. */
const MAX_STALLS = 64;

export interface StreamRecords {
  clientToServer: DirectionRecord | null;
  serverToClient: DirectionRecord | null;
}

export interface StallRecord {
  direction: Direction;
  streamId: number;
  /** When the window reached zero (µs). */
  since: number;
  /** µs until a WINDOW_UPDATE reopened it; null: never reopened. */
  stalledUs: number | null;
}

export interface SessionRecord {
  session: number;
  connection: number;
  /** The upgrade request (µs); null when the capture joined later. */
  requestTime: number | null;
  /** The 101 (µs); null when not seen. */
  upgradeTime: number | null;
  /** The first exit status event (µs). */
  exitTime: number | null;
  streams: Map<number, StreamRecords>;
  stalls: StallRecord[];
  /** Capture gaps inside the session, per direction: bytes that passed but are not in the capture. */
  gaps: { clientToServer: number; serverToClient: number };
}

export class PathRecorder {
  private readonly sessions = new Map<number, SessionRecord>();
  /** Per connection: time of its last upgrade request not yet answered. */
  private readonly pendingUpgrade = new Map<number, number>();
  /** The stream direction of the last data event: a stream's data comes in runs, and two map lookups per event are most of the cost. */
  private lastSession = -1;
  private lastStream = -1;
  private lastDirection: Direction | null = null;
  private lastRecord: DirectionRecord | null = null;

  /** One event; byte views are read before this returns. */
  event(ev: TimelineEvent): void {
    switch (ev.kind) {
      case 'stream-data': {
        if (ev.session === this.lastSession && ev.streamId === this.lastStream && ev.direction === this.lastDirection) {
          this.lastRecord!.add(ev.offset, ev.bytes, ev.time, ev.more);
          return;
        }
        const s = this.sessions.get(ev.session);
        if (!s) return;
        let st = s.streams.get(ev.streamId);
        if (!st) s.streams.set(ev.streamId, (st = { clientToServer: null, serverToClient: null }));
        const r = (st[ev.direction] ??= new DirectionRecord());
        this.lastSession = ev.session;
        this.lastStream = ev.streamId;
        this.lastDirection = ev.direction;
        this.lastRecord = r;
        r.add(ev.offset, ev.bytes, ev.time, ev.more);
        return;
      }
      case 'http-request':
        if (ev.upgrade !== null) this.pendingUpgrade.set(ev.connection, ev.time);
        return;
      case 'upgrade': {
        const requestTime = this.pendingUpgrade.get(ev.connection) ?? null;
        this.pendingUpgrade.delete(ev.connection);
        this.open(ev.session, ev.connection, requestTime, ev.time);
        return;
      }
      case 'session-start':
        // a session joined mid-way has no upgrade
        if (!this.sessions.has(ev.session)) this.open(ev.session, ev.connection, null, null);
        return;
      case 'exit': {
        const s = this.sessions.get(ev.session);
        if (s && s.exitTime === null) s.exitTime = ev.time;
        return;
      }
      case 'flow-control': {
        const s = this.sessions.get(ev.session);
        if (!s) return;
        if (ev.state === 'exhausted' && s.stalls.length < MAX_STALLS) {
          s.stalls.push({ direction: ev.direction, streamId: ev.streamId, since: ev.time, stalledUs: null });
        } else if (ev.state === 'overrun') {
          // the sender went on past the window (spdystream honours none): no stall after all
          for (let i = s.stalls.length - 1; i >= 0; i--) {
            const st = s.stalls[i]!;
            if (st.stalledUs === null && st.direction === ev.direction && (st.streamId === ev.streamId || st.streamId === 0 || ev.streamId === 0)) {
              s.stalls.splice(i, 1);
              break;
            }
          }
        } else if (ev.state === 'resumed') {
          for (let i = s.stalls.length - 1; i >= 0; i--) {
            const st = s.stalls[i]!;
            if (st.stalledUs === null && st.streamId === ev.streamId && st.direction === ev.direction) {
              st.stalledUs = ev.stalledUs ?? ev.time - st.since;
              break;
            }
          }
        }
        return;
      }
      case 'gap': {
        const s = ev.session === null ? undefined : this.sessions.get(ev.session);
        if (!s) return;
        s.gaps[ev.direction]++;
        // the offsets of what comes after may not be the streams' own
        for (const st of s.streams.values()) st[ev.direction]?.cut();
        return;
      }
      case 'connection-close':
        this.pendingUpgrade.delete(ev.connection);
        return;
      default:
        return;
    }
  }

  /** What was recorded for a session, if anything. */
  record(session: number): SessionRecord | undefined {
    return this.sessions.get(session);
  }

  private open(session: number, connection: number, requestTime: number | null, upgradeTime: number | null): void {
    // a session number recorded afresh (or one dropped below) must not be written through the cache
    this.lastSession = -1;
    this.lastRecord = null;
    this.sessions.set(session, { session, connection, requestTime, upgradeTime, exitTime: null, streams: new Map(), stalls: [], gaps: { clientToServer: 0, serverToClient: 0 } });
    if (this.sessions.size > MAX_SESSIONS_KEPT) {
      const oldest = this.sessions.keys().next().value as number;
      this.sessions.delete(oldest);
    }
  }
}
