/**
 * The summary document (`kubewire decode FILE --summary --json`,
 * `SessionDecoder.summary()`). The fields of the summary contract
 * (kind, transport, protocol, client, server, request, streams with role/id/
 * port/requestId/clientToServer/serverToClient, resizes, exit) are stable and
 * come first, in that order; the rest are additions, also stable by name.
 *
 * Secrets: `request.query` and `offeredProtocols` are redacted unless the
 * decoder was made with `showSecrets`.
 */
import type { TlsDescription } from '../tls/types.js';
import type { ExecTarget, SessionApplication, SessionEndReason, SessionKind, StreamRole, Transport } from './events.js';

export interface DirectionBytes {
  /** Application bytes: SPDY DATA payloads; WebSocket channel payloads without the channel byte or port prefix, base64 decoded. */
  bytes: number;
  /**
   * sha256 (hex) of the stream's application bytes in this direction; of ''
   * when none. Null only from a decoder made with `digests: false`.
   */
  sha256: string | null;
}

export interface StreamSummary {
  role: StreamRole;
  /** SPDY stream id, or WebSocket channel. */
  id: number;
  /** Port-forward only: the remote port (SPDY `port` header, or the WebSocket port prefix / query). */
  port?: number;
  /** Port-forward over SPDY only: the `requestid` header pairing error and data streams. */
  requestId?: string;
  clientToServer: DirectionBytes;
  serverToClient: DirectionBytes;
  // additions
  /** Role guessed (mid-session join). */
  inferred: boolean;
  /** Which sides sent FIN / the v5 close signal. */
  halfClosed: { clientToServer: boolean; serverToClient: boolean };
  /** Port-forward error streams: what the server wrote there (first KiB), when anything. */
  message?: string;
  /** RST_STREAM seen, with who sent it. */
  reset: { direction: 'clientToServer' | 'serverToClient'; status: number; statusName: string } | null;
}

/** From the error stream/channel: a `metav1.Status` (V4, V5) or text (V1–V3); an empty, cleanly closed error stream is Success. */
export interface ExitSummary {
  status: 'Success' | 'Failure';
  /** 0 on Success; the `ExitCode` cause on NonZeroExitCode; null when the status carries none. */
  code: number | null;
  reason: string | null;
  message: string | null;
}

export interface SessionSummary extends ExecTarget {
  kind: SessionKind;
  transport: Transport;
  protocol: string | null;
  client: string;
  server: string;
  request: { method: string; path: string; query: string } | null;
  streams: StreamSummary[];
  resizes: Array<{ width: number; height: number }>;
  exit: ExitSummary | null;
  // additions
  /** 1-based, in order of the upgrades (or joins). */
  session: number;
  /** The TCP connection (numbering of the capture pipeline or the tap). */
  connection: number;
  /**
   * The capture files whose packets make up the session's connection, as
   * named on the command line (`-` for standard input), in command-line
   * order: one file, or several when the same connection was captured in
   * more than one. From the tap: its recording (`--write FILE`) when it
   * makes one, else [].
   */
  files: string[];
  // hop, namespace, pod, container, command, stdin, stdout, stderr, tty: see ExecTarget
  /** What the client offered (`X-Stream-Protocol-Version` lines, `Sec-WebSocket-Protocol` entries). */
  offeredProtocols: string[];
  /** Joined mid-session: kind, protocol and roles are guesses. */
  inferred: boolean;
  /** Connection number of the refused upgrade this session retried, or null. */
  retryOf: number | null;
  /** µs since the epoch, from the capture. */
  startTime: number;
  endTime: number | null;
  /** How it ended: exit status seen, else GOAWAY, WebSocket close, TCP RST/FIN, end of input. */
  end: SessionEndReason | null;
  /** The client half-closed stdin (SPDY FIN, or the v5 close signal). */
  stdinClosed: boolean;
  goaway: Array<{ direction: 'clientToServer' | 'serverToClient'; lastGoodStreamId: number; status: number }>;
  pings: { clientToServer: number; serverToClient: number };
  /** µs from the last stdout/stderr byte to the exit status, null when not applicable. */
  lastOutputToExitUs: number | null;
  /** Send windows used up where the sender then waited (resumed by WINDOW_UPDATE, or never sent again). */
  flowControlStalls: number;
  /** Send windows used up where the sender kept sending anyway (Go's spdystream ignores flow control). */
  flowControlOverruns: number;
  /**
   * SPDY flow control per direction and per endpoint; null for a WebSocket
   * session (no SPDY). Kubernetes' spdystream honours no window and sends no
   * WINDOW_UPDATE: its overruns are counted, not `violations`.
   */
  flowControl: FlowControlSummary | null;
  /** How the WebSocket was closed, when it was. */
  websocketClose: { direction: 'clientToServer' | 'serverToClient'; code: number | null; reason: string } | null;
  /** How the TCP connection ended. */
  tcpClose: 'fin' | 'rst' | 'end-of-input' | 'evicted' | 'timeout' | null;
  /** A frame cut by the connection's close after the session was over (see the `teardown` event); null when none. Not a diagnostic. */
  teardown: { direction: 'clientToServer' | 'serverToClient'; layer: 'spdy' | 'websocket'; frame: string; have: number; need: number | null; cutBy: 'rst' | 'fin' } | null;
  /** Capture gaps inside the session. */
  gaps: number;
  /** Diagnostics about this session. */
  diagnostics: number;
  /**
   * Rules that other software broke in a session that is not Kubernetes
   * while its bytes still read right (`note` events: unmasked client frames,
   * a wrong Sec-WebSocket-Accept). Not diagnostics; always 0 for Kubernetes.
   */
  notes: number;
  /**
   * Whose protocol the session carries: `kubernetes`; `websocket` (a
   * WebSocket session of other software, shown as its messages: `kind`
   * `unknown`, no streams, no exit); `raw` (a raw upgrade such as Docker's
   * `Upgrade: tcp`: one `data` stream, id 0, with each direction's bytes).
   */
  application: SessionApplication;
  /** WebSocket sessions that are not Kubernetes: their data messages per direction; null otherwise. */
  messages: { clientToServer: MessageCounts; serverToClient: MessageCounts } | null;
}

/** Data messages of one direction of a WebSocket session that is not Kubernetes. */
export interface MessageCounts {
  text: number;
  binary: number;
  /** Frames they came in (more than the messages when fragmented). */
  frames: number;
  /** Payload bytes of all the messages. */
  bytes: number;
}

/** One direction of a SPDY session's flow control. */
export interface FlowDirectionSummary {
  /** Does the sender keep to its send windows? `no`: it sent past one; `yes`: it used one up and went no further; `unknown`: it never reached one. */
  senderRespectsWindows: 'yes' | 'no' | 'unknown';
  /** WINDOW_UPDATE frames the receiver sent (0 from Kubernetes' spdystream). */
  receiverWindowUpdates: number;
  /** Windows used up where the sender waited. */
  stalls: number;
  /** Windows the sender went past. */
  overruns: number;
  /** Of those, by a sender that does flow control (it sent WINDOW_UPDATE or SETTINGS INITIAL_WINDOW_SIZE, or waited at a window before): broken rules. */
  violations: number;
}

export interface FlowControlSummary {
  clientToServer: FlowDirectionSummary;
  serverToClient: FlowDirectionSummary;
  /**
   * Does the endpoint do flow control? `yes`: it sent WINDOW_UPDATE or
   * SETTINGS, or waited at a window; `no`: it went past a window and showed
   * none of that (Kubernetes' spdystream); `unknown`: nothing either way.
   */
  client: 'yes' | 'no' | 'unknown';
  server: 'yes' | 'no' | 'unknown';
}

/** A plain (non-upgrade) request, or a refused upgrade, for the record. */
export interface RequestSummary {
  connection: number;
  client: string;
  server: string;
  method: string;
  path: string;
  query: string;
  status: number | null;
  upgrade: string | null;
  /** For a refused upgrade: the session that retried it, when one did. */
  retriedBy: number | null;
  time: number;
  /** The capture files the connection came from, as for sessions (always set by `SessionDecoder.summary()`). */
  files?: string[];
}

/** A connection that carries TLS (summary contract addition). */
export interface TlsConnectionSummary extends TlsDescription {
  connection: number;
  client: string;
  server: string;
  /** The `CONNECT` target when the TLS runs in a proxy's tunnel (`client` and `server` are then the proxy's connection); null otherwise (an addition). */
  tunnel: string | null;
  /** The capture files the connection came from, as for sessions (always set by `SessionDecoder.summary()`). */
  files?: string[];
}

/** A session's summary as its interpreter knows it; the decoder adds what the connection knows. */
export type InterpretedSessionSummary = Omit<SessionSummary, 'files'>;

export interface DecodeSummary {
  sessions: SessionSummary[];
  // additions
  /** Every HTTP request seen (discovery, GET pod, upgrades and refusals), at most 10,000. */
  requests: RequestSummary[];
  /** TCP connections seen. */
  connections: number;
  /** Diagnostics in all (what makes the CLI exit with 1). */
  diagnostics: number;
  /** Closed connections left out of `sessions` and `requests` to bound memory (see `maxClosedConnectionsKept`). */
  dropped: { connections: number; sessions: number; requests: number };
  /** Connections that carry TLS, decrypted or not (at most 10,000); always set by `SessionDecoder`. */
  tlsConnections?: TlsConnectionSummary[];
}
