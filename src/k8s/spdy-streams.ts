/**
 * Kubernetes meaning of SPDY streams: each stream is opened by the client
 * with a `streamtype` header (error, stdin, stdout, stderr, resize; data for
 * port-forward), plus `port` and `requestid` for port-forward. Header names
 * are lower case on the wire.
 *
 * `SpdyStreamInterpreter` watches the frames of both directions of one
 * session (a capture decoder) or of one side (a server), and reports what
 * they mean: streams opened with their roles, application bytes per role,
 * half-closes and resets, the remote command status, resize events,
 * port-forward errors. It keeps no bytes except the error stream's (small,
 * bounded) and a partial resize message.
 */
import { KubewireError } from '../common/errors.js';
import { concatBytes, copyBytes } from '../common/bytes.js';
import type { Direction, ErrorMode } from '../common/errors.js';
import type { SpdyFrame, SpdyHeaders } from '../spdy/types.js';
import { remoteCommandProtocol } from './protocols.js';
import type { RemoteCommandRole } from './channel.js';
import { ResizeDecoder } from './resize.js';
import { parseStatus } from './status.js';
import type { RemoteCommandStatus } from './status.js';

export const HEADER_STREAM_TYPE = 'streamtype';
export const HEADER_PORT = 'port';
export const HEADER_REQUEST_ID = 'requestid';

export type StreamRole = RemoteCommandRole | 'data';

const ROLES: readonly StreamRole[] = ['error', 'stdin', 'stdout', 'stderr', 'resize', 'data'];

export interface StreamHeaderInfo {
  role: StreamRole | null;
  /** The raw `streamtype` value (also when unknown). */
  streamType: string | null;
  port: number | null;
  requestId: string | null;
}

function header(headers: SpdyHeaders, name: string): string | null {
  for (const [k, v] of headers) if (k.toLowerCase() === name) return v;
  return null;
}

/** Role, port and request id from a SYN_STREAM's headers. */
export function streamInfoFromHeaders(headers: SpdyHeaders): StreamHeaderInfo {
  const streamType = header(headers, HEADER_STREAM_TYPE);
  const portText = header(headers, HEADER_PORT);
  const port = portText !== null && /^[0-9]{1,5}$/.test(portText) && Number(portText) >= 1 && Number(portText) <= 65535 ? Number(portText) : null;
  return {
    role: streamType !== null && (ROLES as readonly string[]).includes(streamType) ? (streamType as StreamRole) : null,
    streamType,
    port,
    requestId: header(headers, HEADER_REQUEST_ID),
  };
}

/** Headers of a remote command stream's SYN_STREAM. */
export function remoteCommandStreamHeaders(role: RemoteCommandRole): SpdyHeaders {
  return [[HEADER_STREAM_TYPE, role]];
}

/** Headers of a port-forward stream's SYN_STREAM. */
export function portForwardStreamHeaders(role: 'error' | 'data', port: number, requestId: number | string): SpdyHeaders {
  return [
    [HEADER_STREAM_TYPE, role],
    [HEADER_PORT, String(port)],
    [HEADER_REQUEST_ID, String(requestId)],
  ];
}

interface StreamFields {
  streamId: number;
  role: StreamRole | null;
  /**
   * The role was guessed from the stream's direction and bytes, not read
   * from its SYN_STREAM (a capture that began mid-session, or a header
   * block that could not be inflated).
   */
  inferred: boolean;
  port: number | null;
  requestId: string | null;
  direction: Direction;
  offset: number | undefined;
}

export type SpdyStreamEvent =
  | ({ kind: 'stream-open' } & StreamFields)
  | ({ kind: 'stream-data'; data: Uint8Array } & StreamFields)
  | ({ kind: 'stream-end'; how: 'fin' | 'reset' } & StreamFields)
  | ({ kind: 'status'; status: RemoteCommandStatus } & StreamFields)
  | ({ kind: 'resize'; width: number; height: number } & StreamFields)
  | ({ kind: 'portforward-error'; message: string } & StreamFields)
  | { kind: 'diagnostic'; error: KubewireError };

export interface SpdyStreamInterpreterOptions {
  /** Negotiated protocol: a remote command protocol or `portforward.k8s.io`. */
  protocol: string;
  mode?: ErrorMode;
  connection?: number;
  /** Error-stream bytes kept for the status (default 64 KiB). */
  maxStatusBytes?: number;
}

interface StreamState {
  info: StreamHeaderInfo;
  inferred: boolean;
  /** SYN_STREAM seen with readable headers. */
  known: boolean;
  /** Error stream bytes from the server. */
  errorBytes: Uint8Array[];
  errorSize: number;
  finished: boolean;
  resize: ResizeDecoder | null;
  /** Which directions sent FIN. */
  fin: { clientToServer: boolean; serverToClient: boolean };
}

/** A stream before any of its bytes: what its SYN_STREAM headers said, or (null) nothing known yet. */
function newStreamState(info: StreamHeaderInfo | null): StreamState {
  return {
    info: info ?? { role: null, streamType: null, port: null, requestId: null },
    inferred: false,
    known: info !== null,
    errorBytes: [],
    errorSize: 0,
    finished: false,
    resize: null,
    fin: { clientToServer: false, serverToClient: false },
  };
}

export class SpdyStreamInterpreter {
  private readonly strict: boolean;
  private readonly portForward: boolean;
  private readonly statusFormat: 'json' | 'text';
  private readonly streams = new Map<number, StreamState>();
  private readonly maxStatusBytes: number;
  /** Lowest stream id opened by a SYN_STREAM we saw; streams below it began before the capture. */
  private firstSynId: number | null = null;

  constructor(private readonly opts: SpdyStreamInterpreterOptions) {
    this.strict = (opts.mode ?? 'strict') === 'strict';
    this.portForward = opts.protocol === 'portforward.k8s.io';
    const rc = remoteCommandProtocol(opts.protocol);
    if (!this.portForward && rc === null) throw new RangeError(`unknown SPDY sub-protocol ${JSON.stringify(opts.protocol)}`);
    this.statusFormat = rc?.statusFormat ?? 'text';
    this.maxStatusBytes = opts.maxStatusBytes ?? 64 * 1024;
  }

  /** Role of an open stream (null: unknown, or already closed both ways or reset). */
  roleOf(streamId: number): StreamRole | null {
    return this.streams.get(streamId)?.info.role ?? null;
  }

  push(frame: SpdyFrame, direction: Direction): SpdyStreamEvent[] {
    const out: SpdyStreamEvent[] = [];
    switch (frame.kind) {
      case 'syn_stream':
        this.open(frame.streamId, frame.headers, direction, frame.offset, out);
        if (frame.fin) this.finish(frame.streamId, direction, 'fin', frame.offset, out);
        break;
      case 'syn_reply':
      case 'headers':
        if (frame.fin) this.finish(frame.streamId, direction, 'fin', frame.offset, out);
        break;
      case 'data':
        this.data(frame.streamId, frame.data, frame.fin, direction, frame.offset, out);
        break;
      case 'rst_stream':
        this.finish(frame.streamId, direction, 'reset', frame.offset, out);
        break;
      case 'goaway':
        // Error streams still open carry whatever they hold.
        for (const [id, s] of this.streams) if (s.info.role === 'error' && !s.finished) this.flushError(id, s, direction, frame.offset, out);
        break;
      case 'settings':
      case 'ping':
      case 'window_update':
      case 'unknown':
        break;
      default: {
        const never: never = frame;
        throw new Error(`unknown SPDY frame ${JSON.stringify(never)}`);
      }
    }
    return out;
  }

  private fields(streamId: number, s: StreamState | undefined, direction: Direction, offset: number | undefined): StreamFields {
    return {
      streamId,
      role: s?.info.role ?? null,
      inferred: s?.inferred ?? false,
      port: s?.info.port ?? null,
      requestId: s?.info.requestId ?? null,
      direction,
      offset,
    };
  }

  private open(streamId: number, headers: SpdyHeaders | null, direction: Direction, offset: number | undefined, out: SpdyStreamEvent[]): void {
    if (this.firstSynId === null || streamId < this.firstSynId) this.firstSynId = streamId;
    const s = newStreamState(headers === null ? null : streamInfoFromHeaders(headers));
    const info = s.info;
    this.streams.set(streamId, s);
    if (headers !== null) {
      if (info.role === null) {
        this.report(out, 'K8S_UNKNOWN_STREAM_TYPE', `stream ${streamId} has streamtype ${JSON.stringify(info.streamType)}`, direction, offset, streamId);
      } else if (this.portForward) {
        if (info.role !== 'data' && info.role !== 'error') {
          this.report(out, 'K8S_UNKNOWN_STREAM_TYPE', `port-forward stream ${streamId} has streamtype ${info.role}`, direction, offset, streamId);
        }
        if (info.port === null) {
          this.report(out, 'K8S_PORT_INVALID', `port-forward stream ${streamId} has no valid port header`, direction, offset, streamId);
        }
        if (info.requestId === null) {
          // Old clients: the server derives a pseudo id from the stream id.
          info.requestId = String(info.role === 'data' ? streamId - 2 : streamId);
        }
        const partner = [...this.streams.entries()].find(
          ([id, o]) => id !== streamId && o.info.requestId === info.requestId && o.info.role !== info.role,
        );
        if (partner && partner[1].info.port !== info.port) {
          this.report(out, 'K8S_PORT_MISMATCH', `request ${info.requestId}: data and error streams name different ports`, direction, offset, streamId);
        }
      } else if (info.role === 'data') {
        this.report(out, 'K8S_UNKNOWN_STREAM_TYPE', `remote command stream ${streamId} has streamtype data`, direction, offset, streamId);
      }
      if (info.role === 'resize') s.resize = new ResizeDecoder({ mode: 'inspect', direction, streamId });
    }
    // Unreadable headers: the role is inferred (and the open reported) with the first data.
    if (headers !== null) out.push({ kind: 'stream-open', ...this.fields(streamId, s, direction, offset) });
  }

  private data(streamId: number, data: Uint8Array, fin: boolean, direction: Direction, offset: number | undefined, out: SpdyStreamEvent[]): void {
    let s = this.streams.get(streamId);
    // Streams at or above the first SYN_STREAM seen that are not in the map were closed: no guessing.
    const forgotten = s === undefined && this.firstSynId !== null && streamId >= this.firstSynId;
    if (!forgotten && (s === undefined || !s.known) && data.length > 0 && (s === undefined || s.info.role === null)) {
      s = this.infer(streamId, s, data, direction, offset, out);
    }
    if (data.length > 0) {
      out.push({ kind: 'stream-data', data, ...this.fields(streamId, s, direction, offset) });
      if (s?.info.role === 'error' && direction === 'serverToClient') {
        if (s.errorSize + data.length <= this.maxStatusBytes) {
          s.errorBytes.push(copyBytes(data));
          s.errorSize += data.length;
        } else {
          this.report(out, 'K8S_STATUS_TOO_LARGE', `error stream longer than ${this.maxStatusBytes} bytes`, direction, offset, streamId);
        }
      } else if (s?.resize) {
        for (const ev of s.resize.push(data, offset)) {
          if (ev.kind === 'resize') out.push({ kind: 'resize', width: ev.width, height: ev.height, ...this.fields(streamId, s, direction, offset) });
          else this.emitDiagnostic(out, ev.error);
        }
      }
    }
    if (fin) this.finish(streamId, direction, 'fin', offset, out);
  }

  /**
   * Guess the role of a stream whose SYN_STREAM we could not read, from the
   * direction of its first data and what the bytes look like: client data is
   * stdin (resize when it is a terminal size), server data is the status
   * when it is a Status object, else stdout (stderr for a later stream when
   * stdout is taken). Port-forward streams carrying data are `data`.
   */
  private infer(
    streamId: number,
    existing: StreamState | undefined,
    data: Uint8Array,
    direction: Direction,
    offset: number | undefined,
    out: SpdyStreamEvent[],
  ): StreamState {
    const head = new TextDecoder().decode(data.subarray(0, 256));
    let role: StreamRole;
    if (this.portForward) role = 'data';
    else if (direction === 'clientToServer') role = /^\s*\{\s*"(width|height)"\s*:/i.test(head) ? 'resize' : 'stdin';
    else if (/^\s*\{/.test(head) && /"status"\s*:/.test(head)) role = 'error';
    else {
      const stdoutTaken = [...this.streams.entries()].some(([id, o]) => id < streamId && o.info.role === 'stdout');
      role = stdoutTaken ? 'stderr' : 'stdout';
    }
    const s = existing ?? newStreamState(null);
    s.info.role = role;
    s.inferred = true;
    if (role === 'resize') s.resize = new ResizeDecoder({ mode: 'inspect', direction, streamId });
    this.streams.set(streamId, s);
    out.push({ kind: 'stream-open', ...this.fields(streamId, s, direction, offset) });
    return s;
  }

  private finish(streamId: number, direction: Direction, how: 'fin' | 'reset', offset: number | undefined, out: SpdyStreamEvent[]): void {
    const s = this.streams.get(streamId);
    out.push({ kind: 'stream-end', how, ...this.fields(streamId, s, direction, offset) });
    if (!s) return;
    if (how === 'fin') s.fin[direction] = true;
    // The error stream is done when the server finishes it (FIN or reset by either side).
    if (s.info.role === 'error' && !s.finished && (how === 'reset' || direction === 'serverToClient')) {
      this.flushError(streamId, s, 'serverToClient', offset, out);
    }
    // A stream closed both ways (or reset) is forgotten, so long sessions with
    // many port-forward connections keep no state for finished ones.
    if (how === 'reset' || (s.fin.clientToServer && s.fin.serverToClient)) this.streams.delete(streamId);
  }

  private flushError(streamId: number, s: StreamState, direction: Direction, offset: number | undefined, out: SpdyStreamEvent[]): void {
    s.finished = true;
    const bytes = concatBytes(s.errorBytes);
    s.errorBytes = [];
    if (this.portForward) {
      if (bytes.length > 0) {
        out.push({ kind: 'portforward-error', message: new TextDecoder().decode(bytes), ...this.fields(streamId, s, direction, offset) });
      }
      return;
    }
    const parsed = parseStatus(bytes, this.statusFormat, { streamId, direction, offset, connection: this.opts.connection });
    for (const e of parsed.diagnostics) this.emitDiagnostic(out, e);
    out.push({ kind: 'status', status: parsed.status, ...this.fields(streamId, s, direction, offset) });
  }

  private report(out: SpdyStreamEvent[], code: string, message: string, direction: Direction, offset: number | undefined, streamId: number): void {
    this.emitDiagnostic(out, new KubewireError('k8s', code, 'stream', message, { offset, direction, streamId, connection: this.opts.connection }));
  }

  private emitDiagnostic(out: SpdyStreamEvent[], error: KubewireError): void {
    if (this.strict) throw error;
    out.push({ kind: 'diagnostic', error });
  }
}
