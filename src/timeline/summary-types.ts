/**
 * The summary document (`kubewire decode FILE --summary --json`). The fields
 * of the README contract are stable; the rest are additions.
 */
import type { Hop, SessionEndReason, SessionKind, StreamRole, Transport } from './events.js';

export interface DirectionBytes {
  bytes: number;
  /** sha256 (hex) of the stream's application bytes in this direction; of '' when none. */
  sha256: string;
}

export interface StreamSummary {
  role: StreamRole;
  /** SPDY stream id, or WebSocket channel. */
  id: number;
  /** Port-forward only. */
  port?: number;
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

export interface ExitSummary {
  status: 'Success' | 'Failure';
  code: number | null;
  reason: string | null;
  message: string | null;
}

export interface SessionSummary {
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
  session: number;
  connection: number;
  hop: Hop;
  namespace: string | null;
  pod: string | null;
  container: string | null;
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  offeredProtocols: string[];
  /** Joined mid-session: kind, protocol and roles are guesses. */
  inferred: boolean;
  /** Connection number of the refused upgrade this session retried, or null. */
  retryOf: number | null;
  startTime: number;
  endTime: number | null;
  end: SessionEndReason | null;
  stdinClosed: boolean;
  goaway: Array<{ direction: 'clientToServer' | 'serverToClient'; lastGoodStreamId: number; status: number }>;
  pings: { clientToServer: number; serverToClient: number };
  /** µs from the last stdout/stderr byte to the exit status, null when not applicable. */
  lastOutputToExitUs: number | null;
  /** Send windows used up where the sender then waited (resumed by WINDOW_UPDATE, or never sent again). */
  flowControlStalls: number;
  /** Send windows used up where the sender kept sending anyway (Go's spdystream ignores flow control). */
  flowControlOverruns: number;
  /** How the WebSocket was closed, when it was. */
  websocketClose: { direction: 'clientToServer' | 'serverToClient'; code: number | null; reason: string } | null;
  /** How the TCP connection ended. */
  tcpClose: 'fin' | 'rst' | 'end-of-input' | 'evicted' | 'timeout' | null;
  gaps: number;
  diagnostics: number;
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
}

export interface DecodeSummary {
  sessions: SessionSummary[];
  // additions
  requests: RequestSummary[];
  connections: number;
  diagnostics: number;
}
