/**
 * A raw upgrade: `101 Switching Protocols` to something that is neither SPDY
 * nor WebSocket (Docker's `Upgrade: tcp` attach hijacks the connection and
 * then carries the container's stdio as it is). Nothing to frame: each
 * direction's bytes are one `data` stream (id 0), counted and hashed, and
 * `--follow` shows them.
 */
import type { Direction } from '../common/errors.js';
import type { TimelineEvent, Transport } from './events.js';
import type { DecoderContext } from './connection.js';
import type { SessionSetup } from './session.js';
import type { InterpretedSessionSummary, SessionSummary } from './summary-types.js';
import { StreamState } from './stream-state.js';
import { endReasonOf, otherSessionStart, otherSessionSummary, type SessionInterpreter } from './interpreter.js';

/** The one stream of a raw session. */
export const RAW_STREAM_ID = 0;

export class RawUpgradeSession implements SessionInterpreter {
  readonly id: number;
  private readonly stream: StreamState;
  private opened = false;
  private tcpClose: SessionSummary['tcpClose'] = null;
  private endReason: SessionSummary['end'] = null;
  private endTime: number | null = null;
  private gaps = 0;
  private diagnostics = 0;
  private time: number;

  constructor(
    private readonly setup: SessionSetup,
    ctx: DecoderContext,
  ) {
    this.id = setup.id;
    this.time = setup.time;
    this.stream = new StreamState(RAW_STREAM_ID, 'data', false, null, ctx.digests);
  }

  start(out: TimelineEvent[]): void {
    otherSessionStart(this.setup, 'raw', out);
  }

  bytes(d: Direction, chunk: Uint8Array, time: number, out: TimelineEvent[]): void {
    this.time = time;
    if (chunk.length === 0) return;
    const base = { time, connection: this.setup.connection, session: this.id };
    if (!this.opened) {
      this.opened = true;
      this.stream.openedBy = d;
      out.push({ kind: 'stream-open', ...base, direction: d, streamId: RAW_STREAM_ID, role: 'data', inferred: false, port: null, requestId: null });
    }
    const counter = this.stream.counters[d];
    const offset = counter.bytes;
    counter.add(chunk);
    out.push({ kind: 'stream-data', ...base, direction: d, streamId: RAW_STREAM_ID, role: 'data', bytes: chunk, offset });
  }

  gap(_d: Direction, _size: number, time: number, _out: TimelineEvent[]): void {
    this.time = time;
    this.gaps++;
  }

  end(time: number, tcp: SessionSummary['tcpClose'], out: TimelineEvent[]): void {
    if (this.endTime !== null) return;
    this.time = time;
    this.tcpClose = tcp;
    this.endTime = time;
    this.endReason = endReasonOf(false, tcp);
    out.push({ kind: 'session-end', time, connection: this.setup.connection, session: this.id, reason: this.endReason });
  }

  summary(): InterpretedSessionSummary {
    return otherSessionSummary(this.setup, 'raw', {
      streams: this.opened ? [this.stream.summary()] : [],
      endTime: this.endTime,
      end: this.endReason,
      pings: { clientToServer: 0, serverToClient: 0 },
      websocketClose: null,
      tcpClose: this.tcpClose,
      gaps: this.gaps,
      diagnostics: this.diagnostics,
      messages: null,
    });
  }

  noteDiagnostic(): void {
    this.diagnostics++;
  }

  rebase(_d: Direction, _offset: number): void {
    // no framing: every byte counts from where it is
  }

  summaryTransport(): Transport {
    return 'raw';
  }
}
