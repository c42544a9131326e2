/**
 * The timeline: what `SessionDecoder` emits while it decodes connections,
 * one event per fact, in decode order. This file is the contract between the
 * decoder, the CLI renderers and the live tap; field names are stable.
 *
 * Every event has `time` (µs since the Unix epoch, from the capture or the
 * tap's clock) and `connection` (the TCP connection number from `tcp/`).
 * Events that belong to an upgraded connection also carry `session`; events
 * that belong to one direction carry `direction`; stream events carry
 * `streamId` (SPDY stream id, or WebSocket channel number) and `role`.
 *
 * Byte lifetime: `bytes` of `stream-data` is a view into the input chunk
 * (or into a small buffer the decoder owns for tunnelled/base64 payloads); it
 * is valid until the next call into the decoder. Copy it to keep it.
 */
import type { Direction, KubewireError } from '../common/errors.js';
import type { CloseReason, Endpoint, Timestamp } from '../tcp/types.js';
import type { TlsDescription } from '../tls/types.js';

export type SessionKind = 'exec' | 'attach' | 'portforward' | 'unknown';

/**
 * What runs on an upgraded connection. `raw`: an upgrade to something that is
 * neither SPDY nor WebSocket (Docker's `Upgrade: tcp` attach), its bytes as they are.
 */
export type Transport = 'spdy/3.1' | 'websocket' | 'websocket+spdy/3.1' | 'raw';

/**
 * Whose protocol a session carries: `kubernetes` (exec, attach,
 * port-forward channels and streams), `websocket` (a WebSocket session of
 * other software: its messages as they are), `raw` (a raw upgrade).
 */
export type SessionApplication = 'kubernetes' | 'websocket' | 'raw';

/** What a stream (SPDY) or channel (WebSocket) carries. `unknown`: not known (yet). */
export type StreamRole = 'stdin' | 'stdout' | 'stderr' | 'error' | 'resize' | 'data' | 'unknown';

/**
 * Which hop of the exec path a connection is, from the request path:
 * - `client-apiserver`: `/api/v1/namespaces/{ns}/pods/{pod}/exec|attach|portforward`, or
 *   the node proxy `/api/v1/nodes/{node}/proxy/{kubelet path}`; either after any
 *   prefix the server URL's path puts in front
 * - `apiserver-kubelet`: `/exec/{ns}/{pod}/{container}`, `/attach/…`, `/portForward/{ns}/{pod}`
 * - `kubelet-runtime`: `/exec/{token}`, `/attach/{token}`, `/portforward/{token}`
 */
export type Hop = 'client-apiserver' | 'apiserver-kubelet' | 'kubelet-runtime' | 'unknown';

/** How a connection's bytes are read, after classification (or forced with `decodeAs`). */
/** `socks5`: a SOCKS5 proxy's handshake (its tunnel is then classified again, on the same connection). */
export type ConnectionProtocol = 'http' | 'http2' | 'spdy' | 'websocket' | 'websocket+spdy' | 'socks5' | 'opaque';

/** Header lines in wire order; secrets already redacted unless `showSecrets`. */
export type HeaderList = Array<[name: string, value: string]>;

interface Base {
  /** µs since the Unix epoch. */
  time: Timestamp;
  connection: number;
}

interface SessionBase extends Base {
  session: number;
}

/** A TCP connection appeared. */
export interface ConnectionOpenEvent extends Base {
  kind: 'connection-open';
  client: Endpoint;
  server: Endpoint;
  /** No SYN: the capture began late; client/server may have been guessed (see `connection-swap`). */
  startedLate: boolean;
}

/** The client/server guess was wrong (content showed the other side is the client); endpoints swapped from now on. */
export interface ConnectionSwapEvent extends Base {
  kind: 'connection-swap';
  client: Endpoint;
  server: Endpoint;
  why: string;
}

/** What the connection was found to carry (by content, or forced). */
export interface ConnectionClassifiedEvent extends Base {
  kind: 'connection-classified';
  protocol: ConnectionProtocol;
  /** True when found without an HTTP handshake (capture joined mid-connection) or forced by `decodeAs`. */
  inferred: boolean;
  forced: boolean;
}

/** A complete HTTP/1.1 request (head and body). */
export interface HttpRequestEvent extends Base {
  kind: 'http-request';
  direction: 'clientToServer';
  /** 0-based index of this request on its connection. */
  index: number;
  method: string;
  /** Request target as sent (secrets in it are not redacted: tokens in URLs are single-use). */
  target: string;
  path: string;
  /** Raw query string without `?`, '' when none. */
  query: string;
  version: string;
  headers: HeaderList;
  /** `Upgrade` header value when the request asks for an upgrade. */
  upgrade: string | null;
  /** Offered subprotocols: `X-Stream-Protocol-Version` lines (SPDY) or `Sec-WebSocket-Protocol` entries. */
  offeredProtocols: string[];
  bodyLength: number;
  /** Offset of the request line in the client→server byte stream (HTTP/2: of its HEADERS frame). */
  offset: number;
  /** HTTP/2 only: the stream it went on (an addition). */
  streamId?: number;
}

/** A complete HTTP/1.1 response. For a 101, emitted at the end of the head. */
export interface HttpResponseEvent extends Base {
  kind: 'http-response';
  direction: 'serverToClient';
  /** Index of the request it answers. */
  index: number;
  status: number;
  reason: string;
  version: string;
  headers: HeaderList;
  /** Chosen subprotocol (`X-Stream-Protocol-Version` or `Sec-WebSocket-Protocol`), null when none. */
  chosenProtocol: string | null;
  bodyLength: number;
  /** The body when it is small (≤ 64 KiB; refusals carry a `metav1.Status` here), else null. A copy. */
  body: Uint8Array | null;
  offset: number;
  /** HTTP/2 only: the stream it went on (an addition). */
  streamId?: number;
}

/** An upgrade request was answered with 101: the connection becomes a session. */
export interface UpgradeEvent extends SessionBase {
  kind: 'upgrade';
  transport: Transport;
  protocol: string | null;
}

/** An upgrade request was refused (non-101). Not a session. */
export interface UpgradeRefusedEvent extends Base {
  kind: 'upgrade-refused';
  /** Index of the request on the connection. */
  index: number;
  status: number;
  /** What the client asked for: 'websocket' or 'SPDY/3.1'. */
  upgrade: string;
  path: string;
  /** The refusal's `metav1.Status` message if the body had one. */
  message: string | null;
}

/** Where an exec, attach or port-forward goes and what it asked for, from its upgrade request. */
export interface ExecTarget {
  /** Which hop of the exec path, from the request path. */
  hop: Hop;
  /**
   * The node whose `proxy` subresource carried the request
   * (`/api/v1/nodes/{node}/proxy/exec/…`): the API server authorizes it as
   * `nodes/proxy` (verb `get` for a WebSocket GET), not as `pods/exec`, and
   * passes the rest of the path on to that node's kubelet; null otherwise
   * (an addition).
   */
  nodeProxy: string | null;
  namespace: string | null;
  pod: string | null;
  container: string | null;
  /** argv from the repeated `command` query parameters. */
  command: string[];
  /**
   * Options as the API server reads them (absent, "0", "false" → false); on a
   * kubelet URL (the kubelet hop, the node proxy) as the kubelet reads them
   * (`input`, `output`, `error`, `tty`, set only when "1"); on the runtime
   * hop, whose URL carries none, from the streams the client opened.
   */
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** A session begins (after an upgrade, or on the first recognised frame of a mid-session join). */
export interface SessionStartEvent extends SessionBase, ExecTarget {
  kind: 'session-start';
  sessionKind: SessionKind;
  transport: Transport;
  protocol: string | null;
  /** Whose protocol it carries; not `kubernetes`: no Kubernetes interpretation (an addition). */
  application: SessionApplication;
  /** Joined mid-session: no handshake seen; kind, protocol and roles are guesses. */
  inferred: boolean;
  /** Connection number of the refused WebSocket upgrade this session retries (kubectl's WebSocket→SPDY fallback), or null. */
  retryOf: number | null;
}

/** One frame as decoded (SPDY frame, or WebSocket frame). */
export interface FrameEvent extends SessionBase {
  kind: 'frame';
  direction: Direction;
  /** Which framing: `spdy` (also inside the WebSocket tunnel) or `websocket`. */
  layer: 'spdy' | 'websocket';
  /** SPDY: data, syn_stream, syn_reply, headers, rst_stream, settings, ping, goaway, window_update, unknown. WebSocket: text, binary, continuation, close, ping, pong, reserved. */
  type: string;
  /** SPDY stream id, or WebSocket channel (binary/text with channel byte); null when none. */
  streamId: number | null;
  role: StreamRole | null;
  /** Payload length (SPDY: the frame's length field; WebSocket: payload length). */
  length: number;
  flags: number;
  fin: boolean;
  /** Offset of the frame's first byte in its byte stream (the tunnelled SPDY stream for websocket+spdy). */
  offset: number;
  /** Type-specific facts: headers (redacted), window delta, ping id, status, close code, masked, … */
  detail?: Record<string, unknown>;
}

/**
 * A stream (SPDY SYN_STREAM, or the first message on a WebSocket channel)
 * opened. Joined mid-session, also the first frame of a stream whose opening
 * was not captured (`inferred`; `direction` is then clientToServer).
 */
export interface StreamOpenEvent extends SessionBase {
  kind: 'stream-open';
  direction: Direction;
  streamId: number;
  role: StreamRole;
  /** Role was guessed (mid-session join: client-go's stream opening order). */
  inferred: boolean;
  port: number | null;
  requestId: string | null;
}

/** Application bytes of a stream in one direction (without channel byte / port prefix, base64 decoded). */
export interface StreamDataEvent extends SessionBase {
  kind: 'stream-data';
  direction: Direction;
  streamId: number;
  role: StreamRole;
  /** A view; valid until the next call into the decoder. */
  bytes: Uint8Array;
  /** Offset of bytes[0] within this stream's application bytes in this direction. */
  offset: number;
  /**
   * Only with the decoder's `dataPieces`: the bytes are a piece of a SPDY
   * DATA frame that straddles segments; true while more of the frame is to
   * come, false on its last piece (whose `time` is the frame's, as a whole
   * frame's event would have). Absent when the event carries a whole frame.
   */
  more?: boolean;
}

/** One side finished sending on a stream (SPDY FIN, WebSocket v5 close signal). */
export interface HalfCloseEvent extends SessionBase {
  kind: 'half-close';
  direction: Direction;
  streamId: number;
  role: StreamRole;
}

/** Both sides finished a stream. */
export interface StreamCloseEvent extends SessionBase {
  kind: 'stream-close';
  streamId: number;
  role: StreamRole;
}

/** RST_STREAM. */
export interface StreamResetEvent extends SessionBase {
  kind: 'stream-reset';
  direction: Direction;
  streamId: number;
  role: StreamRole;
  status: number;
  statusName: string;
}

/** A terminal size change the client sent on the resize stream. */
export interface ResizeEvent extends SessionBase {
  kind: 'resize';
  direction: Direction;
  streamId: number;
  width: number;
  height: number;
}

/** The exit status from the error stream. */
export interface ExitEvent extends SessionBase {
  kind: 'exit';
  status: 'Success' | 'Failure';
  /** Exit code: 0 on Success, the ExitCode cause on NonZeroExitCode, null when the status has none. */
  code: number | null;
  reason: string | null;
  message: string | null;
  /** µs between the last stdout/stderr byte and the status; null when no output. */
  sinceLastOutputUs: number | null;
}

/** SPDY GOAWAY. */
export interface GoawayEvent extends SessionBase {
  kind: 'goaway';
  direction: Direction;
  lastGoodStreamId: number;
  status: number;
  statusName: string;
}

/** SPDY PING, or WebSocket ping/pong. */
export interface PingEvent extends SessionBase {
  kind: 'ping';
  direction: Direction;
  /** SPDY ping id; null for WebSocket. */
  id: number | null;
  /** True for an answer (SPDY: even/odd id from the other side; WebSocket: pong). */
  reply: boolean;
}

/** SPDY WINDOW_UPDATE (also shown as a frame; this event adds the resulting window). */
export interface WindowUpdateEvent extends SessionBase {
  kind: 'window-update';
  direction: Direction;
  /** 0 = session window. */
  streamId: number;
  delta: number;
  /** The sender-side window of the *other* direction after the update. */
  window: number;
}

/**
 * SPDY flow control: a sender used up its send window (stream or session).
 * Real Go clients ignore windows, so a stall that never resumes is normal for
 * them; `resumed` events say when a WINDOW_UPDATE reopened it. Which side
 * does flow control at all: `not-used`, `violation`, and the summary's
 * `flowControl`.
 */
export interface FlowControlEvent extends SessionBase {
  kind: 'flow-control';
  direction: Direction;
  /** 0 = session window. */
  streamId: number;
  /**
   * exhausted: window used up; resumed: a WINDOW_UPDATE reopened it;
   * overrun: DATA sent past it anyway; not-used (once per sender, before its
   * first overrun, `streamId` 0): the sender shows no flow control at all
   * (no WINDOW_UPDATE, no SETTINGS, never waited at a window), as Kubernetes'
   * spdystream, so its overruns are how it works, not a broken rule.
   */
  state: 'exhausted' | 'resumed' | 'overrun' | 'not-used';
  window: number;
  /** For `resumed`: µs since it was exhausted. */
  stalledUs: number | null;
  /**
   * For `overrun`: the sender does flow control (it sent WINDOW_UPDATE or
   * SETTINGS, or waited at a used-up window before), so going past the
   * window broke the rule. False for every other state.
   */
  violation: boolean;
}

/**
 * A frame cut by the connection's own close (RST or FIN) after the session
 * was over (exit status in, every stream closed, or a WebSocket close seen):
 * client-go's closing GOAWAY answered by a RST, a close frame cut by the
 * close. A normal end, not a diagnostic; a frame cut before that stays one.
 */
export interface TeardownEvent extends SessionBase {
  kind: 'teardown';
  direction: Direction;
  layer: 'spdy' | 'websocket';
  /**
   * What the frame was, as far as its bytes tell: a SPDY frame type
   * (`goaway`, `rst_stream`, `data`, …; `control` when its type had not
   * arrived) or a WebSocket opcode name (`close`, `binary`, …).
   */
  frame: string;
  /** Bytes of the frame that arrived. */
  have: number;
  /** Its full size (header included); null when its length had not arrived. */
  need: number | null;
  cutBy: 'rst' | 'fin';
  /** Offset of the frame's first byte in its byte stream. */
  offset: number;
}

/**
 * A whole data message of a WebSocket session that is not Kubernetes (one
 * event per message, however many frames it came in).
 */
export interface WebSocketMessageEvent extends SessionBase {
  kind: 'websocket-message';
  direction: Direction;
  type: 'text' | 'binary';
  /** Payload bytes of the whole message. */
  length: number;
  /** Frames it arrived in (1 unless fragmented). */
  frames: number;
  /** Text messages: the start of the text (up to 200 characters, as sent: outputs escape control characters); null for binary. */
  text: string | null;
  /** The first bytes (up to 16) as hex, for binary messages; null for text. */
  head: string | null;
  /** Offset of its first frame in its byte stream. */
  offset: number;
}

/** A WebSocket close frame of a session that is not Kubernetes. */
export interface WebSocketCloseEvent extends SessionBase {
  kind: 'websocket-close';
  direction: Direction;
  /** Status code, null when the frame had none. */
  code: number | null;
  reason: string;
}

/** Bytes lost in the capture. */
export interface GapEvent extends Base {
  kind: 'gap';
  session: number | null;
  direction: Direction;
  offset: number;
  size: number;
}

/** How a session ended. */
export interface SessionEndEvent extends SessionBase {
  kind: 'session-end';
  reason: SessionEndReason;
}

export type SessionEndReason =
  | 'exit'
  | 'goaway'
  | 'websocket-close'
  | 'tcp-fin'
  | 'tcp-rst'
  | 'end-of-input'
  | 'evicted'
  | 'timeout';

/** The TCP connection ended. */
export interface ConnectionCloseEvent extends Base {
  kind: 'connection-close';
  reason: CloseReason;
  direction: Direction | null;
  /** When several capture files are decoded together: the ones the connection came from (see `SessionSummary.files`). */
  files?: string[];
}

/**
 * The connection carries TLS: what its handshake said, and whether it is
 * decrypted (then its plaintext is decoded like any other connection, with
 * plaintext offsets). Once per TLS connection, when that is known.
 */
export interface TlsConnectionEvent extends Base, TlsDescription {
  kind: 'tls';
}

/** Something odd; never an exception. */
export interface DiagnosticEvent extends Base {
  kind: 'diagnostic';
  /** The session it belongs to, null when none (`connection` is 0 when not tied to a connection). */
  session: number | null;
  direction: Direction | null;
  streamId: number | null;
  error: KubewireError;
}

/**
 * A rule of the protocol that other software broke while its bytes still
 * read as they should: wstunnel's unmasked client frames, a server's wrong
 * `Sec-WebSocket-Accept`. Only in sessions that are not Kubernetes: there it
 * describes the peer, not a fault in the traffic kubewire inspects, so it is
 * shown and counted (`notes`) but is not a diagnostic and does not change the
 * exit code. In a Kubernetes session the same finding is a diagnostic.
 */
export interface NoteEvent extends SessionBase {
  kind: 'note';
  direction: Direction;
  /** Code, message and offset, as a diagnostic would carry them. */
  error: KubewireError;
}

export type TimelineEvent =
  | ConnectionOpenEvent
  | ConnectionSwapEvent
  | ConnectionClassifiedEvent
  | HttpRequestEvent
  | HttpResponseEvent
  | UpgradeEvent
  | UpgradeRefusedEvent
  | SessionStartEvent
  | FrameEvent
  | StreamOpenEvent
  | StreamDataEvent
  | HalfCloseEvent
  | StreamCloseEvent
  | StreamResetEvent
  | ResizeEvent
  | ExitEvent
  | GoawayEvent
  | PingEvent
  | WebSocketMessageEvent
  | WebSocketCloseEvent
  | WindowUpdateEvent
  | FlowControlEvent
  | GapEvent
  | TeardownEvent
  | SessionEndEvent
  | ConnectionCloseEvent
  | TlsConnectionEvent
  | NoteEvent
  | DiagnosticEvent;

export type TimelineEventKind = TimelineEvent['kind'];
