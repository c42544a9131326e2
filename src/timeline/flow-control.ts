/**
 * SPDY/3.1 flow control as seen from outside: the send window of each
 * direction, per stream and for the session, moved by DATA, WINDOW_UPDATE
 * and SETTINGS INITIAL_WINDOW_SIZE. Reports when a sender uses up a window
 * (`exhausted`), when a WINDOW_UPDATE reopens it (`resumed`, a stall), and
 * when a sender goes on past it (`overrun`: Go's spdystream ignores windows).
 */
import { oppositeDirection, type Direction } from '../common/errors.js';
import type { FlowControlEvent } from './events.js';
import { doesFlowControl, newEvidence, type SenderEvidence } from './flow-evidence.js';

/** SPDY/3.1 initial window, stream and session (spdy31.md). */
export const INITIAL_WINDOW = 65536;

/** What a `flow-control` event says, before the session adds when and where. */
export type FlowChange = Omit<FlowControlEvent, 'kind' | 'time' | 'connection' | 'session'>;

interface WindowState {
  initial: number;
  session: number;
  streams: Map<number, number>;
  /** stream id (0 = session) → when it ran out, and whether DATA went past it. */
  exhausted: Map<number, { since: number; overrun: boolean }>;
}

function newWindow(): WindowState {
  return { initial: INITIAL_WINDOW, session: INITIAL_WINDOW, streams: new Map(), exhausted: new Map() };
}

export class FlowControl {
  private windows: Record<Direction, WindowState> = { clientToServer: newWindow(), serverToClient: newWindow() };
  private notUsedSaid: Record<Direction, boolean> = { clientToServer: false, serverToClient: false };
  /** Windows used up where the sender then waited. */
  stalls = 0;
  /** Windows used up where the sender went on sending. */
  overruns = 0;
  /** Per sending direction: what its sender showed of flow control. */
  evidence: Record<Direction, SenderEvidence> = { clientToServer: newEvidence(), serverToClient: newEvidence() };

  /** SETTINGS INITIAL_WINDOW_SIZE from `d`: its sender receives, so it sets the other direction's windows. */
  initialWindow(d: Direction, value: number): void {
    this.evidence[d].settings = true;
    const w = this.windows[oppositeDirection(d)];
    const delta = value - w.initial;
    w.initial = value;
    for (const [id, v] of w.streams) w.streams.set(id, v + delta);
  }

  /** DATA of `n` bytes from `d` uses up `d`'s send windows. */
  data(d: Direction, streamId: number, n: number, time: number, out: FlowChange[]): void {
    const w = this.windows[d];
    w.session -= n;
    const sw = (w.streams.get(streamId) ?? w.initial) - n;
    w.streams.set(streamId, sw);
    this.check(d, 0, w.session, n, time, out);
    this.check(d, streamId, sw, n, time, out);
  }

  /** WINDOW_UPDATE from `d` opens the other direction's window; returns that window. */
  windowUpdate(d: Direction, streamId: number, delta: number, time: number, out: FlowChange[]): number {
    const other = oppositeDirection(d);
    this.evidence[d].windowUpdates++;
    const w = this.windows[other];
    let now: number;
    if (streamId === 0) now = w.session += delta;
    else {
      now = (w.streams.get(streamId) ?? w.initial) + delta;
      w.streams.set(streamId, now);
    }
    const ex = w.exhausted.get(streamId);
    if (ex && now > 0) {
      w.exhausted.delete(streamId);
      if (!ex.overrun) {
        this.stalls++;
        this.evidence[other].stalls++;
        this.evidence[other].waited = true;
        out.push({ direction: other, streamId, state: 'resumed', window: now, stalledUs: time - ex.since, violation: false });
      }
    }
    return now;
  }

  /** End of the session: a window still used up with a sender that waited is a stall too. */
  finish(): void {
    for (const d of ['clientToServer', 'serverToClient'] as const) {
      const w = this.windows[d];
      for (const e of w.exhausted.values()) {
        if (e.overrun) continue;
        this.stalls++;
        this.evidence[d].stalls++;
      }
      w.exhausted.clear();
    }
  }

  /** The sides were the other way round (a joined capture). */
  swap(): void {
    this.windows = { clientToServer: this.windows.serverToClient, serverToClient: this.windows.clientToServer };
    this.evidence = { clientToServer: this.evidence.serverToClient, serverToClient: this.evidence.clientToServer };
    this.notUsedSaid = { clientToServer: this.notUsedSaid.serverToClient, serverToClient: this.notUsedSaid.clientToServer };
  }

  private check(d: Direction, id: number, now: number, n: number, time: number, out: FlowChange[]): void {
    const w = this.windows[d];
    const ex = w.exhausted.get(id);
    if (ex) {
      if (!ex.overrun && n > 0 && now + n <= 0) {
        ex.overrun = true;
        this.overrun(d, id, now, out);
      }
      return;
    }
    if (now <= 0 && now + n > 0) {
      this.evidence[d].reachedWindow = true;
      w.exhausted.set(id, { since: time, overrun: now < 0 });
      if (now < 0) this.overrun(d, id, now, out);
      else out.push({ direction: d, streamId: id, state: 'exhausted', window: now, stalledUs: null, violation: false });
    }
  }

  /**
   * DATA went past a window. From a sender that shows no flow control at all
   * that is how it works: said once per sender (`not-used`), never flagged.
   */
  private overrun(d: Direction, id: number, now: number, out: FlowChange[]): void {
    const e = this.evidence[d];
    this.overruns++;
    e.overruns++;
    const violation = doesFlowControl(e);
    if (violation) e.violations++;
    else if (!this.notUsedSaid[d]) {
      this.notUsedSaid[d] = true;
      out.push({ direction: d, streamId: 0, state: 'not-used', window: now, stalledUs: null, violation: false });
    }
    out.push({ direction: d, streamId: id, state: 'overrun', window: now, stalledUs: null, violation });
  }
}
