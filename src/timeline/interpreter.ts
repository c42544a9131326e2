/**
 * What a connection asks of the session on its upgraded bytes, whatever
 * protocol that session speaks: Kubernetes streams (`Session`), a WebSocket
 * session of other software (`PlainWebSocketSession`), a raw upgrade
 * (`RawUpgradeSession`). The connection dispatches; each interpreter keeps
 * one protocol's state.
 */
import type { Direction, KubewireError } from '../common/errors.js';
import type { SessionApplication, TimelineEvent, Transport } from './events.js';
import type { SessionSetup } from './session.js';
import type { InterpretedSessionSummary, SessionSummary } from './summary-types.js';
import { endpointText } from './session.js';
import { noExecTarget } from './request-info.js';

export interface SessionInterpreter {
  readonly id: number;
  /** The `session-start` event. */
  start(out: TimelineEvent[]): void;
  /** Bytes after the upgrade, in order, for one direction. */
  bytes(d: Direction, chunk: Uint8Array, time: number, out: TimelineEvent[]): void;
  gap(d: Direction, size: number, time: number, out: TimelineEvent[]): void;
  /** TCP closed (by `closedBy`, when known) or input ended. */
  end(time: number, tcp: SessionSummary['tcpClose'], out: TimelineEvent[], closedBy?: Direction | null): void;
  summary(): InterpretedSessionSummary;
  /**
   * A finding of the connection about this session (a handshake the
   * session's bytes cannot show): the session emits it and counts it, as a
   * diagnostic or, in software that is not Kubernetes, as a note.
   */
  report(d: Direction, error: KubewireError, time: number, out: TimelineEvent[]): void;
  /** Mid-session: the first whole frame of `d` starts at `offset`. */
  rebase(d: Direction, offset: number): void;
  summaryTransport(): Transport;
}

/** The `session-start` event of a session that is not Kubernetes: no pod, no command, no flags. */
export function otherSessionStart(setup: SessionSetup, application: SessionApplication, out: TimelineEvent[]): void {
  out.push({
    kind: 'session-start',
    time: setup.time,
    connection: setup.connection,
    session: setup.id,
    sessionKind: 'unknown',
    transport: setup.transport,
    protocol: setup.protocol,
    application,
    ...noExecTarget(),
    inferred: setup.inferred,
    retryOf: null,
  });
}

/** The fields every session summary has, filled for a session that is not Kubernetes. */
export function otherSessionSummary(
  setup: SessionSetup,
  application: SessionApplication,
  rest: Pick<SessionSummary, 'streams' | 'endTime' | 'end' | 'pings' | 'websocketClose' | 'tcpClose' | 'gaps' | 'diagnostics' | 'notes' | 'messages'>,
): InterpretedSessionSummary {
  return {
    kind: 'unknown',
    transport: setup.transport,
    protocol: setup.protocol,
    client: endpointText(setup.client),
    server: endpointText(setup.server),
    request: setup.request ? { ...setup.request } : null,
    streams: rest.streams,
    resizes: [],
    exit: null,
    session: setup.id,
    connection: setup.connection,
    ...noExecTarget(),
    offeredProtocols: [...setup.offeredProtocols],
    inferred: setup.inferred,
    retryOf: null,
    startTime: setup.time,
    endTime: rest.endTime,
    end: rest.end,
    stdinClosed: false,
    goaway: [],
    pings: rest.pings,
    lastOutputToExitUs: null,
    flowControlStalls: 0,
    flowControlOverruns: 0,
    flowControl: null,
    websocketClose: rest.websocketClose,
    tcpClose: rest.tcpClose,
    teardown: null,
    gaps: rest.gaps,
    diagnostics: rest.diagnostics,
    notes: rest.notes,
    application,
    messages: rest.messages,
  };
}

/** How a session without an exit status ended. */
export function endReasonOf(wsClosed: boolean, tcp: SessionSummary['tcpClose']): NonNullable<SessionSummary['end']> {
  if (wsClosed) return 'websocket-close';
  if (tcp === 'rst') return 'tcp-rst';
  if (tcp === 'fin') return 'tcp-fin';
  if (tcp === 'evicted' || tcp === 'timeout') return tcp;
  return 'end-of-input';
}
