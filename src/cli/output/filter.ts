/**
 * `--session`, `--stream`, `--role`: which events and summary parts to show.
 * Session filters drop everything of other sessions (and connection-level
 * events of connections that are not one of the sessions); stream and role
 * filters drop stream-level events of other streams but keep session-level
 * facts (start, exit, end) so the output still tells the story.
 */
import type { DecodeSummary, SessionSummary, TimelineEvent } from '../../timeline/index.js';
import type { DecodeSummaryWithPaths } from '../paths-run.js';
import type { OutputFilters } from './types.js';

export interface EventFilter {
  keep(ev: TimelineEvent): boolean;
  summary(s: DecodeSummary): DecodeSummary;
  /** True when any filter is set. */
  readonly active: boolean;
}

export function createFilter(f: OutputFilters): EventFilter {
  const sessions = f.session && f.session.length ? new Set(f.session) : null;
  const streams = f.stream && f.stream.length ? new Set(f.stream) : null;
  const roles = f.role && f.role.length ? new Set(f.role) : null;
  // Connections that carry a kept session, learnt from session events, so that
  // connection-level events (open, HTTP, close) of those connections stay.
  const sessionConnections = new Set<number>();

  const streamKept = (streamId: number | null | undefined, role: string | null | undefined): boolean => {
    if (streams && (streamId === null || streamId === undefined || !streams.has(streamId))) return false;
    if (roles && (role === null || role === undefined || !roles.has(role))) return false;
    return true;
  };

  const keep = (ev: TimelineEvent): boolean => {
    const session = 'session' in ev ? ev.session : null;
    if (sessions) {
      if (session !== null && session !== undefined) {
        if (!sessions.has(session)) return false;
        sessionConnections.add(ev.connection);
      } else if (!sessionConnections.has(ev.connection)) {
        // Before its upgrade a connection has no session number yet; its HTTP
        // request is repeated in the session-start event, so dropping it loses nothing.
        return false;
      }
    }
    if (!streams && !roles) return true;
    switch (ev.kind) {
      case 'frame':
        return ev.streamId === null ? !streams && !roles : streamKept(ev.streamId, ev.role);
      case 'stream-open':
      case 'stream-data':
      case 'half-close':
      case 'stream-close':
      case 'stream-reset':
        return streamKept(ev.streamId, ev.role);
      case 'resize':
        return streamKept(ev.streamId, 'resize');
      case 'window-update':
      case 'flow-control':
        return ev.streamId === 0 || streamKept(ev.streamId, null);
      case 'diagnostic':
        return ev.streamId === null || streamKept(ev.streamId, null) || !!roles;
      default:
        return true;
    }
  };

  const summary = (s: DecodeSummary): DecodeSummary => {
    if (!sessions && !streams && !roles) return s;
    const kept: SessionSummary[] = [];
    for (const sess of s.sessions) {
      if (sessions && !sessions.has(sess.session)) continue;
      kept.push({ ...sess, streams: sess.streams.filter((st) => streamKept(st.id, st.role)) });
    }
    const out = { ...s, sessions: kept };
    // --session: the paths those sessions are hops of (whole, with their other hops), not every path
    const paths = (s as Partial<DecodeSummaryWithPaths>).paths;
    if (sessions && paths) (out as DecodeSummaryWithPaths).paths = paths.filter((p) => p.hops.some((h) => sessions.has(h.session)));
    return out;
  };

  return { keep, summary, active: !!(sessions || streams || roles) };
}
