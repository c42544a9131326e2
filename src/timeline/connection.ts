/**
 * Per-connection state: classification, HTTP until an upgrade, then the
 * session. (In progress: HTTP and session layers are being filled in.)
 */
import type { ConnectionClose, ConnectionData, ConnectionGap, ConnectionOpen } from '../tcp/types.js';
import type { TimelineEvent } from './events.js';
import type { DecodeAs, TimelineLimits } from './options.js';
import type { RequestSummary, SessionSummary } from './summary-types.js';

/** Shared across connections of one SessionDecoder. */
export interface DecoderContext {
  limits: TimelineLimits;
  showSecrets: boolean;
  frameEvents: boolean;
  nextSession: number;
  /** Refused upgrades, most recent last, so that a retry on a new connection can link to them. */
  refusedUpgrades: Array<{ connection: number; client: string; server: string; path: string; time: number; request: RequestSummary }>;
}

export class ConnectionDecoder {
  readonly id: number;
  lastTime: number;
  sessionId: number | null = null;
  private disabled = false;

  constructor(
    private readonly openEv: ConnectionOpen,
    private readonly ctx: DecoderContext,
    private readonly decodeAs: DecodeAs | undefined,
  ) {
    this.id = openEv.connection;
    this.lastTime = openEv.time;
  }

  open(out: TimelineEvent[]): void {
    out.push({
      kind: 'connection-open',
      time: this.openEv.time,
      connection: this.id,
      client: this.openEv.client,
      server: this.openEv.server,
      startedLate: this.openEv.startedLate,
    });
  }

  data(ev: ConnectionData, _out: TimelineEvent[]): void {
    this.lastTime = ev.time;
    if (this.disabled) return;
  }

  gap(ev: ConnectionGap, out: TimelineEvent[]): void {
    this.lastTime = ev.time;
    out.push({ kind: 'gap', time: ev.time, connection: this.id, session: this.sessionId, direction: ev.direction, offset: ev.offset, size: ev.size });
  }

  close(ev: ConnectionClose, out: TimelineEvent[]): void {
    this.lastTime = ev.time;
    this.finish(out);
    out.push({ kind: 'connection-close', time: ev.time, connection: this.id, reason: ev.reason, direction: ev.direction ?? null });
  }

  finish(_out: TimelineEvent[]): void {}

  /** Stop decoding this connection (after an internal error). */
  disable(): void {
    this.disabled = true;
  }

  sessionSummaries(): SessionSummary[] {
    return [];
  }

  requestSummaries(): RequestSummary[] {
    return [];
  }
}
