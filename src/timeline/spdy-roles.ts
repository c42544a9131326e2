/**
 * Roles of SPDY streams whose SYN_STREAM headers could not be read (a
 * capture joined after the upgrade): what each stream reveals, matched
 * against the stream layouts client-go can create.
 *
 * client-go (`tools/remotecommand`) opens every stream of an exec or attach
 * before it writes a byte, in a fixed order: error, then stdin, stdout,
 * stderr for the options that are on; with a TTY no stderr, and from
 * `v3.channel.k8s.io` on a resize stream last. So stream ids 1, 3, 5, 7 take
 * the roles of one of a dozen layouts, and a stream's id says which role
 * each layout gives it. Port-forward (`tools/portforward`) opens an error
 * stream and then a data stream per forwarded connection, closing its side
 * of the error stream at once.
 *
 * A role is given only when every layout that fits what was seen gives the
 * stream the same one; otherwise the stream stays `unknown`. So two streams
 * never share a single-instance role, and a guess is never a coin toss.
 */
import type { Direction } from '../common/errors.js';
import type { StreamRole } from './events.js';

/** What the first bytes of one direction looked like (a terminal size, a status document, anything else). */
export type FirstBytes = 'resize' | 'status' | 'message' | 'other';

/** What a stream showed in the capture. */
export interface StreamClues {
  id: number;
  /** Read from its SYN_STREAM (not inferred); null when unknown. */
  known: StreamRole | null;
  /** Application bytes seen per direction. */
  bytes: Record<Direction, boolean>;
  fin: Record<Direction, boolean>;
  /** Who reset it, if anyone. */
  reset: Direction | null;
  /** The look of each direction's first bytes (null: none seen). */
  look: Record<Direction, FirstBytes | null>;
  /** Its SYN_STREAM came after its sender had sent DATA (exec opens every stream first). */
  openedLate: boolean;
}

export interface SessionClues {
  /** Known from the request or the negotiated protocol; 'unknown' when joined mid-session. */
  family: 'remotecommand' | 'portforward' | 'unknown';
  /** Remote command protocol version when negotiated (1–4), else null. */
  version: number | null;
  /** The session's end was seen (TCP FIN/RST or GOAWAY), so the error stream's end would be in the capture. */
  ended: boolean;
}

export interface RoleVerdict {
  /** Which kind of session the streams show; null while both still fit. */
  family: 'remotecommand' | 'portforward' | null;
  /** Role per stream id: 'unknown' where the fitting layouts disagree. */
  roles: Map<number, StreamRole>;
  /** Clues against the best fit (0: everything fits). */
  misfit: number;
}

const OUTPUT = new Set<StreamRole>(['error', 'stdout', 'stderr']);
const INPUT = new Set<StreamRole>(['stdin', 'resize']);

/** Every stream layout client-go's remote command protocols can create, in creation order. */
const LAYOUTS: readonly (readonly StreamRole[])[] = (() => {
  const out: StreamRole[][] = [];
  for (const tty of [false, true]) {
    for (let mask = 0; mask < 8; mask++) {
      const l: StreamRole[] = ['error'];
      if (mask & 1) l.push('stdin');
      if (mask & 2) l.push('stdout');
      // a TTY merges stderr into stdout; v3+ adds the resize stream instead
      if (tty) {
        if (mask & 4) continue;
        l.push('resize');
      } else if (mask & 4) l.push('stderr');
      out.push(l);
    }
  }
  return out;
})();

const NO_FIT = Number.POSITIVE_INFINITY;

/**
 * How badly role `r` fits stream `s`: NO_FIT when it cannot be (bytes the
 * role never carries that way, another role in the headers), else the
 * number of softer clues against it (half-closes and resets by the side
 * that would not send them, content that reads as another role).
 */
function execMisfit(r: StreamRole, s: StreamClues): number {
  if (s.known !== null && s.known !== 'unknown' && s.known !== r) return NO_FIT;
  // stdin and resize go client → server only; error, stdout, stderr server → client only
  if (s.bytes.clientToServer && !INPUT.has(r)) return NO_FIT;
  if (s.bytes.serverToClient && !OUTPUT.has(r)) return NO_FIT;
  let n = 0;
  if (s.look.clientToServer === 'resize' && r !== 'resize') n++;
  const c2s = s.look.clientToServer;
  if (c2s !== null && c2s !== 'resize' && r === 'resize') n++; // the resize stream carries JSON sizes only
  if (s.look.serverToClient === 'status' && r !== 'error') n++;
  // the client half-closes stdin and resets the streams it reads; the server half-closes those
  if (s.fin.clientToServer && !INPUT.has(r)) n++;
  if (s.fin.serverToClient && !OUTPUT.has(r)) n++;
  if (s.reset === 'clientToServer' && !OUTPUT.has(r)) n++;
  if (s.reset === 'serverToClient' && !INPUT.has(r)) n++;
  if (s.openedLate) n++;
  return n;
}

/**
 * Port-forward: data when the client wrote on it, else the pair order
 * (error, data, error, …). With the sides not known, only what both
 * orientations give.
 */
export function portForwardRole(s: StreamClues, sidesKnown = true): StreamRole {
  if (s.known === 'error' || s.known === 'data') return s.known;
  const pair: StreamRole = ((s.id - 1) / 2) % 2 === 0 ? 'error' : 'data';
  if (sidesKnown) return s.bytes.clientToServer ? 'data' : pair;
  if (s.bytes.clientToServer && s.bytes.serverToClient) return 'data';
  return s.bytes.clientToServer || s.bytes.serverToClient ? (pair === 'data' ? 'data' : 'unknown') : pair;
}

function portForwardMisfit(s: StreamClues): number {
  if (s.known !== null && s.known !== 'unknown' && s.known !== 'error' && s.known !== 'data') return NO_FIT;
  let n = 0;
  // a status document or a terminal size is exec's; resets are exec's teardown
  if (s.look.serverToClient === 'status') n++;
  if (s.look.clientToServer === 'resize') n++;
  if (s.reset !== null) n++;
  // the server writes an error stream only to say why forwarding failed
  if (!s.bytes.clientToServer && portForwardRole(s) === 'error' && s.look.serverToClient === 'other') n++;
  return n;
}

interface Fit {
  misfit: number;
  layouts: Array<readonly StreamRole[]>;
}

function bestExecLayouts(all: readonly StreamClues[], version: number | null, ended: boolean, known: boolean): Fit {
  let best: Fit = { misfit: NO_FIT, layouts: [] };
  // a known exec has only ids 1–7; other ids are noise (they get no role), not a reason to give up
  const streams = known ? all.filter((s) => s.id % 2 === 1 && s.id <= 7) : all;
  for (const layout of LAYOUTS) {
    if (version !== null && version < 3 && layout.includes('resize')) continue;
    let misfit = 0;
    for (const s of streams) {
      const pos = (s.id - 1) / 2;
      const r = s.id % 2 === 1 ? layout[pos] : undefined;
      misfit += r === undefined ? NO_FIT : execMisfit(r, s);
      if (misfit === NO_FIT) break;
    }
    if (misfit === NO_FIT) continue;
    if (misfit < best.misfit) best = { misfit, layouts: [layout] };
    else if (misfit === best.misfit) best.layouts.push(layout);
  }
  // the server ends an exec with the error stream (status, FIN): a seen end without stream 1 speaks against exec
  if (best.misfit !== NO_FIT && ended && !streams.some((s) => s.id === 1)) best.misfit++;
  return best;
}

/** The roles the streams show, given what is known of the session. */
export function inferSpdyRoles(all: readonly StreamClues[], session: SessionClues): RoleVerdict {
  const roles = new Map<number, StreamRole>();
  // Kubernetes clients open every stream, so ids are odd: an even one is a misread frame, not a clue
  for (const s of all) if (s.id % 2 === 0) roles.set(s.id, 'unknown');
  const streams = all.filter((s) => s.id % 2 === 1);
  if (streams.length === 0) return { family: session.family === 'unknown' ? null : session.family, roles, misfit: 0 };
  const exec: Fit =
    session.family === 'portforward' ? { misfit: NO_FIT, layouts: [] } : bestExecLayouts(streams, session.version, session.ended, session.family === 'remotecommand');
  let pfMisfit = NO_FIT;
  if (session.family !== 'remotecommand') {
    pfMisfit = 0;
    for (const s of streams) pfMisfit += portForwardMisfit(s);
  }
  let family: RoleVerdict['family'] = session.family === 'unknown' ? null : session.family;
  if (family === null) {
    if (exec.misfit < pfMisfit) family = 'remotecommand';
    else if (pfMisfit < exec.misfit) family = 'portforward';
  }
  for (const s of streams) {
    const candidates = new Set<StreamRole>();
    if (family !== 'portforward') for (const l of exec.layouts) candidates.add(l[(s.id - 1) / 2] ?? 'unknown');
    if (family !== 'remotecommand' && pfMisfit !== NO_FIT) candidates.add(portForwardRole(s, true));
    roles.set(s.id, candidates.size === 1 ? [...candidates][0]! : 'unknown');
  }
  const misfit = family === 'portforward' ? pfMisfit : family === 'remotecommand' ? exec.misfit : Math.min(pfMisfit, exec.misfit);
  return { family, roles, misfit };
}

/**
 * The same, when it is not known which side is the client (no SYN, no
 * telling frame yet): the orientation the streams fit better wins; when
 * both fit as well, only the roles both give are kept.
 */
export function inferSpdyRolesEitherWay(streams: readonly StreamClues[], session: SessionClues): RoleVerdict {
  const asIs = inferSpdyRoles(streams, session);
  const flipped = inferSpdyRoles(streams.map(flipClues), session);
  if (asIs.misfit < flipped.misfit) return asIs;
  if (flipped.misfit < asIs.misfit) return flipped;
  const roles = new Map<number, StreamRole>();
  for (const [id, r] of asIs.roles) roles.set(id, flipped.roles.get(id) === r ? r : 'unknown');
  return { family: asIs.family === flipped.family ? asIs.family : null, roles, misfit: asIs.misfit };
}

function flipClues(s: StreamClues): StreamClues {
  const flip = <T>(r: Record<Direction, T>): Record<Direction, T> => ({ clientToServer: r.serverToClient, serverToClient: r.clientToServer });
  const reset = s.reset === null ? null : s.reset === 'clientToServer' ? 'serverToClient' : 'clientToServer';
  return { ...s, bytes: flip(s.bytes), fin: flip(s.fin), look: flip(s.look), reset };
}

/** The per-stream facts a session keeps anyway (`StreamState`). */
export interface StreamFacts {
  readonly id: number;
  readonly role: StreamRole;
  readonly inferred: boolean;
  readonly halfClosed: Record<Direction, boolean>;
  readonly reset: { direction: Direction } | null;
}

/**
 * The clues a session keeps beyond its streams' state: the look of each
 * direction's first bytes, and which streams were opened after data flowed.
 * Bounded: a few bytes of state per stream.
 */
export class SpdyRoleClues {
  private readonly looks = new Map<number, Record<Direction, FirstBytes | null>>();
  private readonly late = new Set<number>();
  /** Per direction: DATA went before. Only the SYN_STREAM's own direction orders it (the two are decoded apart). */
  private dataSeen: Record<Direction, boolean> = { clientToServer: false, serverToClient: false };

  /** A SYN_STREAM whose headers could not be read, sent in direction `d`. */
  opened(id: number, d: Direction): void {
    if (this.dataSeen[d]) this.late.add(id);
  }

  /** Application bytes on a stream. True when they are its first in `d` (a new clue). */
  bytes(id: number, d: Direction, data: Uint8Array, look: (data: Uint8Array) => FirstBytes): boolean {
    if (data.length === 0) return false;
    this.dataSeen[d] = true;
    let l = this.looks.get(id);
    if (!l) this.looks.set(id, (l = { clientToServer: null, serverToClient: null }));
    if (l[d] !== null) return false;
    l[d] = look(data);
    return true;
  }

  /** The sides were the other way round. */
  swap(): void {
    this.dataSeen = { clientToServer: this.dataSeen.serverToClient, serverToClient: this.dataSeen.clientToServer };
    for (const l of this.looks.values()) [l.clientToServer, l.serverToClient] = [l.serverToClient, l.clientToServer];
  }

  of(s: StreamFacts): StreamClues {
    const look = this.looks.get(s.id) ?? { clientToServer: null, serverToClient: null };
    return {
      id: s.id,
      known: s.inferred ? null : s.role,
      bytes: { clientToServer: look.clientToServer !== null, serverToClient: look.serverToClient !== null },
      fin: { ...s.halfClosed },
      reset: s.reset?.direction ?? null,
      look: { ...look },
      openedLate: this.late.has(s.id),
    };
  }
}
