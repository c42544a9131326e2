/**
 * One session: an upgraded connection (or one joined mid-session). Takes the
 * bytes after the upgrade per direction, runs the framing (SPDY, WebSocket,
 * or SPDY inside WebSocket) and the Kubernetes stream semantics on top, and
 * emits timeline events. Keeps counters and hashes, never stream bytes.
 */
import { KubewireError, oppositeDirection, type Direction } from '../common/errors.js';
import { SpdyFrameDecoder, type SpdyDecodeEvent, type SpdyFrame, RST_STATUS, GOAWAY_STATUS, SETTINGS_ID } from '../spdy/index.js';
import { WebSocketFrameDecoder, type WebSocketFrameEvent, type WebSocketFrame } from '../websocket/index.js';
import type { Endpoint } from '../tcp/types.js';
import type { SessionEndReason, StreamRole, TimelineEvent, Transport } from './events.js';
import type { DecoderContext } from './connection.js';
import type { RequestInfo } from './request-info.js';
import type { SessionSummary } from './summary-types.js';
import { StreamState } from './stream-state.js';
import {
  CHANNEL_ROLES,
  CLOSE_CHANNEL,
  ResizeReader,
  looksLikeResize,
  looksLikeStatus,
  parseStatusJson,
  parseStatusText,
  protocolTraits,
  type ParsedStatus,
  type ProtocolTraits,
} from './k8s-adapter.js';

export interface SessionSetup {
  id: number;
  connection: number;
  client: Endpoint;
  server: Endpoint;
  transport: Transport;
  protocol: string | null;
  request: { method: string; path: string; query: string } | null;
  info: RequestInfo;
  offeredProtocols: string[];
  /** No handshake seen (mid-session join) or forced: roles are inferred. */
  inferred: boolean;
  retryOf: number | null;
  time: number;
  /** Absolute offsets (in each direction's TCP byte stream) of the first session byte. */
  baseOffset: Record<Direction, number>;
}

const INITIAL_WINDOW = 65536;
const RST_NAMES = nameTable(RST_STATUS);
const GOAWAY_NAMES = nameTable(GOAWAY_STATUS);

interface WindowState {
  initial: number;
  session: number;
  streams: Map<number, number>;
  /** key: stream id (0 = session) → when it ran out, and whether DATA went past it. */
  exhausted: Map<number, { since: number; overrun: boolean }>;
}

export class Session {
  readonly id: number;
  /** A codec of this direction failed for good. */
  readonly dead: Record<Direction, boolean> = { clientToServer: false, serverToClient: false };
  private readonly traits: ProtocolTraits;
  private readonly streams = new Map<number, StreamState>();
  private readonly spdy: Partial<Record<Direction, SpdyFrameDecoder>> = {};
  private readonly ws: Partial<Record<Direction, WebSocketFrameDecoder>> = {};
  /** s2c WebSocket: channel of the message a continuation frame belongs to. */
  private lastChannel: Record<Direction, number | null> = { clientToServer: null, serverToClient: null };
  private readonly windows: Record<Direction, WindowState> = { clientToServer: newWindow(), serverToClient: newWindow() };
  private resizeReader: ResizeReader;
  private readonly resizes: Array<{ width: number; height: number }> = [];
  private exit: ParsedStatus | null = null;
  private lastOutputTime: number | null = null;
  private lastOutputToExitUs: number | null = null;
  private readonly goaways: SessionSummary['goaway'] = [];
  private readonly pings = { clientToServer: 0, serverToClient: 0 };
  private stalls = 0;
  private overruns = 0;
  private gaps = 0;
  private diagnostics = 0;
  private wsClose: SessionSummary['websocketClose'] = null;
  private tcpClose: SessionSummary['tcpClose'] = null;
  private endReason: SessionEndReason | null = null;
  private endTime: number | null = null;
  private stdinClosed = false;
  private streamLimitReported = false;
  private time: number;
  private kind: SessionSummary['kind'];
  /** Mid-session WebSocket: base64 channel protocol detected from text frames. */
  private base64: boolean;
  private stdoutId: number | null = null;

  constructor(
    private readonly setup: SessionSetup,
    private readonly ctx: DecoderContext,
  ) {
    this.id = setup.id;
    this.time = setup.time;
    this.kind = setup.info.kind;
    this.traits = protocolTraits(setup.protocol, setup.info.kind);
    if (this.traits.portforward && this.kind === 'unknown') this.kind = 'portforward';
    this.base64 = this.traits.base64;
    this.resizeReader = new ResizeReader(ctx.limits.maxResizeBytes);
    for (const d of ['clientToServer', 'serverToClient'] as const) {
      if (setup.transport === 'spdy/3.1') this.spdy[d] = this.newSpdy(d, setup.baseOffset[d]);
      else {
        this.ws[d] = this.newWs(d, setup.baseOffset[d]);
        if (setup.transport === 'websocket+spdy/3.1') this.spdy[d] = this.newSpdy(d, 0);
      }
    }
    if (this.kind === 'portforward' && setup.transport === 'websocket' && !setup.inferred) {
      // native WebSocket port-forward: channel pairs per requested port
      setup.info.ports.forEach((port, i) => {
        for (const ch of [2 * i, 2 * i + 1]) {
          const s = new StreamState(ch, ch % 2 === 0 ? 'data' : 'error', false, null);
          s.port = port;
          s.portPrefixPending = true;
          this.streams.set(ch, s);
        }
      });
    }
  }

  /** Mid-session: the first whole frame of `d` starts at `offset` (before any byte of `d` was fed). */
  rebase(d: Direction, offset: number): void {
    if (this.ws[d]) this.ws[d] = this.newWs(d, offset);
    else if (this.spdy[d]) this.spdy[d] = this.newSpdy(d, offset);
  }

  summaryTransport(): Transport {
    return this.setup.transport;
  }

  start(out: TimelineEvent[]): void {
    const s = this.setup;
    out.push({
      kind: 'session-start',
      time: s.time,
      connection: s.connection,
      session: this.id,
      sessionKind: this.kind,
      transport: s.transport,
      protocol: s.protocol,
      hop: s.info.hop,
      namespace: s.info.namespace,
      pod: s.info.pod,
      container: s.info.container,
      command: s.info.command,
      stdin: s.info.stdin,
      stdout: s.info.stdout,
      stderr: s.info.stderr,
      tty: s.info.tty,
      inferred: s.inferred,
      retryOf: s.retryOf,
    });
  }

  /** Bytes after the upgrade, in order, for one direction. */
  bytes(d: Direction, chunk: Uint8Array, time: number, out: TimelineEvent[]): void {
    this.time = time;
    if (chunk.length === 0) return;
    const ws = this.ws[d];
    if (ws) {
      this.onWsEvents(d, safe(() => ws.push(chunk), d, this, out), out);
      return;
    }
    const spdy = this.spdy[d];
    if (spdy) this.onSpdyEvents(d, safe(() => spdy.push(chunk), d, this, out), out);
  }

  gap(d: Direction, size: number, time: number, out: TimelineEvent[]): void {
    this.time = time;
    this.gaps++;
    const ws = this.ws[d];
    if (ws) {
      this.onWsEvents(d, safe(() => ws.gap(size), d, this, out), out);
      // the tunnelled SPDY stream lost an unknown number of bytes with it
      const inner = this.setup.transport === 'websocket+spdy/3.1' ? this.spdy[d] : undefined;
      if (inner) this.onSpdyEvents(d, safe(() => inner.gap(size), d, this, out), out);
      return;
    }
    const spdy = this.spdy[d];
    if (spdy) this.onSpdyEvents(d, safe(() => spdy.gap(size), d, this, out), out);
  }

  /** TCP closed or input ended: flush decoders, settle the exit status and the end reason. */
  end(time: number, tcp: SessionSummary['tcpClose'], out: TimelineEvent[]): void {
    if (this.endTime !== null) return;
    this.time = time;
    this.tcpClose = tcp;
    for (const d of ['clientToServer', 'serverToClient'] as const) {
      const ws = this.ws[d];
      if (ws) this.onWsEvents(d, safe(() => ws.end(), d, this, out), out);
      const spdy = this.spdy[d];
      if (spdy) {
        this.onSpdyEvents(d, safe(() => spdy.end(), d, this, out), out);
        spdy.close();
      }
    }
    this.settleExit(out, true);
    for (const [, w] of [['c', this.windows.clientToServer], ['s', this.windows.serverToClient]] as const) {
      for (const e of w.exhausted.values()) if (!e.overrun) this.stalls++;
      w.exhausted.clear();
    }
    this.endTime = time;
    this.endReason = this.exit
      ? 'exit'
      : this.goaways.length > 0
        ? 'goaway'
        : this.wsClose
          ? 'websocket-close'
          : tcp === 'rst'
            ? 'tcp-rst'
            : tcp === 'fin'
              ? 'tcp-fin'
              : tcp === 'evicted' || tcp === 'timeout'
                ? tcp
                : 'end-of-input';
    out.push({ kind: 'session-end', time, connection: this.setup.connection, session: this.id, reason: this.endReason });
  }

  summary(): SessionSummary {
    const s = this.setup;
    const streams = [...this.streams.values()].sort((a, b) => a.id - b.id).map((x) => x.summary());
    return {
      kind: this.kind,
      transport: s.transport,
      protocol: s.protocol,
      client: endpointText(s.client),
      server: endpointText(s.server),
      request: s.request ? { ...s.request } : null,
      streams,
      resizes: this.resizes.map((r) => ({ ...r })),
      exit: this.exit ? { status: this.exit.status, code: this.exit.code, reason: this.exit.reason, message: this.exit.message } : null,
      session: this.id,
      connection: s.connection,
      hop: s.info.hop,
      namespace: s.info.namespace,
      pod: s.info.pod,
      container: s.info.container,
      command: [...s.info.command],
      stdin: s.info.stdin,
      stdout: s.info.stdout,
      stderr: s.info.stderr,
      tty: s.info.tty,
      offeredProtocols: [...s.offeredProtocols],
      inferred: s.inferred,
      retryOf: s.retryOf,
      startTime: s.time,
      endTime: this.endTime,
      end: this.endReason,
      stdinClosed: this.stdinClosed,
      goaway: this.goaways.map((g) => ({ ...g })),
      pings: { ...this.pings },
      lastOutputToExitUs: this.lastOutputToExitUs,
      flowControlStalls: this.stalls,
      flowControlOverruns: this.overruns,
      websocketClose: this.wsClose ? { ...this.wsClose } : null,
      tcpClose: this.tcpClose,
      gaps: this.gaps,
      diagnostics: this.diagnostics,
    };
  }

  /** Count a diagnostic that belongs to this session. */
  noteDiagnostic(): void {
    this.diagnostics++;
  }

  diag(out: TimelineEvent[], d: Direction | null, code: string, scope: 'stream' | 'channel' | 'session' | 'message', message: string, streamId: number | null, offset?: number): void {
    this.diagnostics++;
    out.push({
      kind: 'diagnostic',
      time: this.time,
      connection: this.setup.connection,
      session: this.id,
      direction: d,
      streamId,
      error: new KubewireError('timeline', code, scope, message, {
        connection: this.setup.connection,
        direction: d ?? undefined,
        streamId: streamId ?? undefined,
        offset,
      }),
    });
  }

  private newWs(d: Direction, baseOffset: number): WebSocketFrameDecoder {
    return new WebSocketFrameDecoder({
      mode: 'inspect',
      direction: d,
      baseOffset,
      connection: this.setup.connection,
      maxPayload: this.ctx.limits.maxWebSocketPayload,
      // a capture inspector must not touch the bytes it was given
      unmask: 'copy',
    });
  }

  private newSpdy(d: Direction, baseOffset: number): SpdyFrameDecoder {
    return new SpdyFrameDecoder({
      mode: 'inspect',
      direction: d,
      baseOffset,
      headerContext: this.setup.inferred && !this.setup.request ? 'unknown' : 'fresh',
      limits: this.ctx.limits.spdy,
    });
  }

  // --- SPDY ----------------------------------------------------------------

  private onSpdyEvents(d: Direction, events: SpdyDecodeEvent[], out: TimelineEvent[]): void {
    for (const ev of events) {
      if (ev.kind === 'diagnostic') {
        this.diagnostics++;
        out.push({ kind: 'diagnostic', time: this.time, connection: this.setup.connection, session: this.id, direction: d, streamId: ev.error.streamId ?? null, error: ev.error });
        continue;
      }
      this.onSpdyFrame(d, ev, out);
    }
  }

  private onSpdyFrame(d: Direction, f: SpdyFrame, out: TimelineEvent[]): void {
    const conn = this.setup.connection;
    const base = { time: this.time, connection: conn, session: this.id };
    const streamId = 'streamId' in f ? f.streamId : null;
    if (this.ctx.frameEvents) {
      out.push({
        kind: 'frame',
        ...base,
        direction: d,
        layer: 'spdy',
        type: f.kind,
        streamId,
        role: streamId !== null && streamId !== 0 ? (this.streams.get(streamId)?.role ?? null) : null,
        length: spdyLength(f),
        flags: f.flags,
        fin: 'fin' in f ? f.fin : false,
        offset: f.offset ?? 0,
        detail: this.spdyDetail(f),
      });
    }
    switch (f.kind) {
      case 'syn_stream': {
        let role: StreamRole = 'unknown';
        let inferred = false;
        let port: number | null = null;
        let requestId: string | null = null;
        if (f.headers) {
          for (const [k, v] of f.headers) {
            const n = k.toLowerCase();
            if (n === 'streamtype') role = streamTypeRole(v);
            else if (n === 'port') port = Number.isInteger(Number(v)) ? Number(v) : null;
            else if (n === 'requestid') requestId = v;
          }
          if (role === 'unknown') this.diag(out, d, 'TIMELINE_UNKNOWN_STREAM_TYPE', 'stream', 'SYN_STREAM without a known streamtype header', f.streamId, f.offset);
        } else {
          role = this.inferSpdyRole(f.streamId, d, null);
          inferred = true;
        }
        const s = this.openStream(f.streamId, role, inferred, d, out);
        if (s) {
          if (port !== null) s.port = port;
          if (requestId !== null) s.requestId = requestId;
          if (port !== null || requestId !== null) {
            // the stream-open event went out already: refresh its facts
            const last = out[out.length - 1];
            if (last && last.kind === 'stream-open' && last.streamId === f.streamId) {
              last.port = port;
              last.requestId = requestId;
            }
          }
          if (port !== null && this.kind === 'unknown') this.kind = 'portforward';
          if (f.fin) this.halfClose(s, d, out);
        }
        return;
      }
      case 'syn_reply':
      case 'headers': {
        const s = this.streams.get(f.streamId);
        if (s && f.fin) this.halfClose(s, d, out);
        return;
      }
      case 'data': {
        const s = this.streamFor(f.streamId, d, f.data, out);
        this.flowData(d, f.streamId, f.data.length, out);
        if (s) {
          this.streamData(s, d, f.data, out);
          if (f.fin) this.halfClose(s, d, out);
        }
        return;
      }
      case 'rst_stream': {
        const s = this.streams.get(f.streamId) ?? this.streamFor(f.streamId, d, null, out);
        const statusName = RST_NAMES[f.status] ?? `UNKNOWN_${f.status}`;
        if (s) {
          if (!s.reset) s.reset = { direction: d, status: f.status, statusName };
          if (s.role === 'error') this.settleExit(out, false);
        }
        out.push({ kind: 'stream-reset', ...base, direction: d, streamId: f.streamId, role: s?.role ?? 'unknown', status: f.status, statusName });
        return;
      }
      case 'settings': {
        for (const e of f.entries) {
          if (e.id === SETTINGS_ID.INITIAL_WINDOW_SIZE) {
            // the sender of SETTINGS receives: it sets the window of the other direction
            const w = this.windows[oppositeDirection(d)];
            const delta = e.value - w.initial;
            w.initial = e.value;
            for (const [id, v] of w.streams) w.streams.set(id, v + delta);
          }
        }
        return;
      }
      case 'ping': {
        this.pings[d]++;
        // client ids are odd, server ids even; an id of the other side's parity is an answer
        const reply = (f.id % 2 === 1) === (d === 'serverToClient');
        out.push({ kind: 'ping', ...base, direction: d, id: f.id, reply });
        return;
      }
      case 'goaway': {
        this.goaways.push({ direction: d, lastGoodStreamId: f.lastGoodStreamId, status: f.status });
        out.push({ kind: 'goaway', ...base, direction: d, lastGoodStreamId: f.lastGoodStreamId, status: f.status, statusName: GOAWAY_NAMES[f.status] ?? `UNKNOWN_${f.status}` });
        return;
      }
      case 'window_update': {
        const other = oppositeDirection(d);
        const w = this.windows[other];
        let now: number;
        if (f.streamId === 0) now = w.session += f.delta;
        else {
          now = (w.streams.get(f.streamId) ?? w.initial) + f.delta;
          w.streams.set(f.streamId, now);
        }
        out.push({ kind: 'window-update', ...base, direction: d, streamId: f.streamId, delta: f.delta, window: now });
        const ex = w.exhausted.get(f.streamId);
        if (ex && now > 0) {
          w.exhausted.delete(f.streamId);
          if (!ex.overrun) {
            this.stalls++;
            out.push({ kind: 'flow-control', ...base, direction: other, streamId: f.streamId, state: 'resumed', window: now, stalledUs: this.time - ex.since });
          }
        }
        return;
      }
      case 'unknown':
        return;
      default: {
        const never: never = f;
        throw new Error(`unhandled SPDY frame ${(never as { kind: string }).kind}`);
      }
    }
  }

  private spdyDetail(f: SpdyFrame): Record<string, unknown> | undefined {
    switch (f.kind) {
      case 'syn_stream':
        return { headers: f.headers, associatedStreamId: f.associatedStreamId, priority: f.priority, unidirectional: f.unidirectional };
      case 'syn_reply':
      case 'headers':
        return { headers: f.headers };
      case 'rst_stream':
        return { status: f.status, statusName: RST_NAMES[f.status] ?? null };
      case 'settings':
        return { entries: f.entries };
      case 'ping':
        return { id: f.id };
      case 'goaway':
        return { lastGoodStreamId: f.lastGoodStreamId, status: f.status };
      case 'window_update':
        return { delta: f.delta };
      case 'unknown':
        return { version: f.version, type: f.type };
      case 'data':
        return undefined;
      default:
        return undefined;
    }
  }

  /** DATA from `d` uses up `d`'s send windows. */
  private flowData(d: Direction, streamId: number, n: number, out: TimelineEvent[]): void {
    const w = this.windows[d];
    w.session -= n;
    const sw = (w.streams.get(streamId) ?? w.initial) - n;
    w.streams.set(streamId, sw);
    this.checkWindow(d, 0, w.session, n, out);
    this.checkWindow(d, streamId, sw, n, out);
  }

  private checkWindow(d: Direction, id: number, now: number, n: number, out: TimelineEvent[]): void {
    const w = this.windows[d];
    const ex = w.exhausted.get(id);
    if (ex) {
      if (!ex.overrun && n > 0 && now + n <= 0) {
        ex.overrun = true;
        this.overruns++;
        out.push({ kind: 'flow-control', time: this.time, connection: this.setup.connection, session: this.id, direction: d, streamId: id, state: 'overrun', window: now, stalledUs: null });
      }
      return;
    }
    if (now <= 0 && now + n > 0) {
      w.exhausted.set(id, { since: this.time, overrun: now < 0 });
      if (now < 0) this.overruns++;
      out.push({ kind: 'flow-control', time: this.time, connection: this.setup.connection, session: this.id, direction: d, streamId: id, state: now < 0 ? 'overrun' : 'exhausted', window: now, stalledUs: null });
    }
  }

  /** The stream a DATA/RST refers to; created (role inferred) when its SYN_STREAM was not seen. */
  private streamFor(id: number, d: Direction, firstBytes: Uint8Array | null, out: TimelineEvent[]): StreamState | null {
    const s = this.streams.get(id);
    if (s) return s;
    if (!this.setup.inferred) this.diag(out, d, 'TIMELINE_UNKNOWN_STREAM', 'stream', `frame for stream ${id}, which was never opened`, id);
    return this.openStream(id, this.inferSpdyRole(id, d, firstBytes), true, null, out);
  }

  /**
   * client-go opens streams in a fixed order (error, stdin, stdout, stderr;
   * with a TTY resize instead of stderr; port-forward: error then data per
   * request), so a stream's id and what it carries tell its likely role.
   */
  private inferSpdyRole(id: number, d: Direction, bytes: Uint8Array | null): StreamRole {
    if (this.kind === 'portforward') return ((id - 1) / 2) % 2 === 0 ? 'error' : 'data';
    if (id === 1) return 'error';
    if (bytes && bytes.length > 0) {
      if (d === 'clientToServer') return looksLikeResize(bytes) ? 'resize' : 'stdin';
      if (looksLikeStatus(bytes)) return 'error';
      if (this.stdoutId === null || this.stdoutId === id) {
        this.stdoutId = id;
        return 'stdout';
      }
      return id > this.stdoutId ? 'stderr' : 'stdout';
    }
    return 'unknown';
  }

  // --- WebSocket -------------------------------------------------------------

  private onWsEvents(d: Direction, events: WebSocketFrameEvent[], out: TimelineEvent[]): void {
    for (const ev of events) {
      if (ev.kind === 'diagnostic') {
        this.diagnostics++;
        out.push({ kind: 'diagnostic', time: this.time, connection: this.setup.connection, session: this.id, direction: d, streamId: null, error: ev.error });
        continue;
      }
      this.onWsFrame(d, ev, out);
    }
  }

  private onWsFrame(d: Direction, f: WebSocketFrame, out: TimelineEvent[]): void {
    const base = { time: this.time, connection: this.setup.connection, session: this.id };
    const tunnel = this.setup.transport === 'websocket+spdy/3.1';
    const isData = f.kind === 'binary' || f.kind === 'text' || f.kind === 'continuation';
    let channel: number | null = null;
    let payload = f.payload;
    if (isData && !tunnel) {
      const decoded = this.channelMessage(d, f);
      channel = decoded.channel;
      payload = decoded.payload;
    }
    if (this.ctx.frameEvents) {
      out.push({
        kind: 'frame',
        ...base,
        direction: d,
        layer: 'websocket',
        type: f.kind,
        streamId: channel,
        role: channel !== null ? (this.streams.get(channel)?.role ?? CHANNEL_ROLES[channel] ?? null) : null,
        length: f.payload.length,
        flags: (f.fin ? 0x80 : 0) | (f.rsv << 4) | f.opcode,
        fin: f.fin,
        offset: f.offset,
        detail: f.kind === 'close' ? { masked: f.masked, code: f.code, reason: f.reason } : { masked: f.masked },
      });
    }
    switch (f.kind) {
      case 'binary':
      case 'text':
      case 'continuation':
        if (tunnel) {
          if (f.kind === 'text') this.diag(out, d, 'TIMELINE_TUNNEL_TEXT_MESSAGE', 'session', 'text message in a SPDY tunnel (the server rejects these)', null, f.offset);
          const spdy = this.spdy[d]!;
          this.onSpdyEvents(d, safe(() => spdy.push(f.payload), d, this, out), out);
        } else if (channel !== null) {
          this.channelData(d, channel, payload, f.offset, out);
        }
        return;
      case 'ping':
      case 'pong':
        this.pings[d]++;
        out.push({ kind: 'ping', ...base, direction: d, id: null, reply: f.kind === 'pong' });
        return;
      case 'close':
        if (!this.wsClose) this.wsClose = { direction: d, code: f.code, reason: f.reason };
        if (!tunnel) this.settleExit(out, false);
        return;
      case 'reserved':
        return;
      default: {
        const never: never = f;
        throw new Error(`unhandled WebSocket frame ${(never as { kind: string }).kind}`);
      }
    }
  }

  /**
   * Channel byte and payload of one frame. Kubernetes servers take every
   * client frame as a message of its own; clients join fragments, so a
   * server continuation frame continues the previous channel.
   */
  private channelMessage(d: Direction, f: WebSocketFrame): { channel: number | null; payload: Uint8Array } {
    const p = f.payload;
    if (f.kind === 'continuation' && d === 'serverToClient' && this.lastChannel[d] !== null) {
      return { channel: this.lastChannel[d], payload: this.base64 ? base64Bytes(p) : p };
    }
    if (p.length === 0) return { channel: null, payload: p };
    if (f.kind === 'text' && (this.base64 || (this.setup.inferred && p[0]! >= 0x30 && p[0]! <= 0x39))) {
      this.base64 = true;
      const channel = p[0]! - 0x30;
      this.lastChannel[d] = f.fin ? null : channel;
      return { channel, payload: base64Bytes(p.subarray(1)) };
    }
    const channel = p[0]!;
    this.lastChannel[d] = f.fin ? null : channel;
    return { channel, payload: p.subarray(1) };
  }

  private channelData(d: Direction, channel: number, payload: Uint8Array, offset: number, out: TimelineEvent[]): void {
    if (channel === CLOSE_CHANNEL && this.kind !== 'portforward') {
      // v5 close signal: [255, channel]
      const target = payload.length === 1 ? payload[0]! : null;
      if (target === null) {
        this.diag(out, d, 'TIMELINE_BAD_CLOSE_SIGNAL', 'channel', `close signal of ${payload.length + 1} bytes (expected 2)`, channel, offset);
        return;
      }
      const s = this.streams.get(target) ?? this.openStream(target, CHANNEL_ROLES[target] ?? 'unknown', this.setup.inferred, d, out);
      if (s) this.halfClose(s, d, out);
      return;
    }
    let s = this.streams.get(channel);
    if (!s) {
      let role: StreamRole;
      if (this.kind === 'portforward') role = channel % 2 === 0 ? 'data' : 'error';
      else role = CHANNEL_ROLES[channel] ?? 'unknown';
      if (role === 'unknown') this.diag(out, d, 'TIMELINE_UNKNOWN_CHANNEL', 'channel', `message on unknown channel ${channel}`, channel, offset);
      s = this.openStream(channel, role, this.setup.inferred, d, out) ?? undefined;
      if (!s) return;
    }
    if (s.portPrefixPending && d === 'serverToClient') {
      // native WebSocket port-forward: the server's first message per channel starts with the port, little-endian
      let i = 0;
      while (i < payload.length && s.portPrefixPartial.length < 2) s.portPrefixPartial.push(payload[i++]!);
      if (s.portPrefixPartial.length === 2) {
        s.portPrefixPending = false;
        const port = s.portPrefixPartial[0]! | (s.portPrefixPartial[1]! << 8);
        if (s.port !== null && s.port !== port) this.diag(out, d, 'TIMELINE_PORT_MISMATCH', 'channel', `server announced port ${port} on channel ${channel}, the request asked for ${s.port}`, channel, offset);
        s.port ??= port;
      }
      payload = payload.subarray(i);
    }
    this.streamData(s, d, payload, out);
  }

  // --- streams ---------------------------------------------------------------

  private openStream(id: number, role: StreamRole, inferred: boolean, openedBy: Direction | null, out: TimelineEvent[]): StreamState | null {
    const existing = this.streams.get(id);
    if (existing) {
      if (openedBy) this.diag(out, openedBy, 'TIMELINE_STREAM_REOPENED', 'stream', `stream ${id} opened again`, id);
      return existing;
    }
    if (this.streams.size >= this.ctx.limits.maxStreamsPerSession) {
      if (!this.streamLimitReported) {
        this.streamLimitReported = true;
        this.diag(out, openedBy, 'TIMELINE_TOO_MANY_STREAMS', 'session', `more than ${this.ctx.limits.maxStreamsPerSession} streams; further streams are not tracked`, id);
      }
      return null;
    }
    const s = new StreamState(id, role, inferred, openedBy);
    this.streams.set(id, s);
    out.push({
      kind: 'stream-open',
      time: this.time,
      connection: this.setup.connection,
      session: this.id,
      direction: openedBy ?? 'clientToServer',
      streamId: id,
      role,
      inferred,
      port: s.port,
      requestId: s.requestId,
    });
    return s;
  }

  private streamData(s: StreamState, d: Direction, bytes: Uint8Array, out: TimelineEvent[]): void {
    if (bytes.length === 0) return;
    if (s.role === 'unknown' && s.inferred) {
      s.role = this.inferSpdyRole(s.id, d, bytes);
    }
    if (this.setup.inferred && this.kind !== 'portforward' && s.counters[oppositeDirection(d)].bytes > 0 && (s.role === 'stdin' || s.role === 'stdout' || s.role === 'stderr')) {
      // data both ways on one stream: only port-forward does that
      this.kind = 'portforward';
      for (const x of this.streams.values()) if (x.inferred) x.role = this.inferSpdyRole(x.id, d, null);
    }
    const counter = s.counters[d];
    const offset = counter.bytes;
    counter.add(bytes);
    out.push({ kind: 'stream-data', time: this.time, connection: this.setup.connection, session: this.id, direction: d, streamId: s.id, role: s.role, bytes, offset });
    switch (s.role) {
      case 'stdout':
      case 'stderr':
        if (d === 'serverToClient') this.lastOutputTime = this.time;
        return;
      case 'error':
        if (d === 'serverToClient' && this.kind !== 'portforward') {
          if (s.statusLength + bytes.length > this.ctx.limits.maxStatusBytes) {
            this.diag(out, d, 'TIMELINE_STATUS_TOO_LARGE', 'stream', `error stream content over ${this.ctx.limits.maxStatusBytes} bytes; not kept`, s.id);
            return;
          }
          s.statusBytes.push(bytes.slice());
          s.statusLength += bytes.length;
          if (this.statusIsJson(s)) this.trySettleJson(s, out);
        }
        return;
      case 'resize':
        if (d === 'clientToServer') {
          const r = this.resizeReader.push(bytes);
          for (const size of r.sizes) {
            this.resizes.push(size);
            out.push({ kind: 'resize', time: this.time, connection: this.setup.connection, session: this.id, direction: d, streamId: s.id, width: size.width, height: size.height });
          }
          for (const b of r.bad) this.diag(out, d, 'TIMELINE_BAD_RESIZE', 'stream', `resize message is not a size: ${JSON.stringify(b.slice(0, 60))}`, s.id);
        }
        return;
      default:
        return;
    }
  }

  private halfClose(s: StreamState, d: Direction, out: TimelineEvent[]): void {
    if (s.halfClosed[d]) return;
    s.halfClosed[d] = true;
    const base = { time: this.time, connection: this.setup.connection, session: this.id };
    out.push({ kind: 'half-close', ...base, direction: d, streamId: s.id, role: s.role });
    if (s.role === 'stdin' && d === 'clientToServer') this.stdinClosed = true;
    if (s.role === 'error' && d === 'serverToClient') this.settleExit(out, false);
    if (s.halfClosed.clientToServer && s.halfClosed.serverToClient && !s.closedEventSent) {
      s.closedEventSent = true;
      out.push({ kind: 'stream-close', ...base, streamId: s.id, role: s.role });
    }
  }

  // --- exit status -------------------------------------------------------------

  private statusIsJson(s: StreamState): boolean {
    if (this.traits.statusJson) return true;
    if (this.setup.protocol !== null) return false;
    // no protocol known: a JSON document says V4+
    const first = s.statusBytes[0];
    return first !== undefined && first[0] === 0x7b;
  }

  private trySettleJson(s: StreamState, out: TimelineEvent[]): void {
    if (this.exit) return;
    const text = Buffer.concat(s.statusBytes).toString('utf8');
    const st = parseStatusJson(text);
    if (st) this.setExit(st, out);
  }

  /**
   * The error stream ended (FIN, RST, WebSocket close, or end of input):
   * decide the exit status if it is not known yet.
   */
  private settleExit(out: TimelineEvent[], final: boolean): void {
    if (this.exit || this.kind === 'portforward') return;
    const err = [...this.streams.values()].find((x) => x.role === 'error');
    if (!err) return;
    if (err.statusLength > 0) {
      const text = Buffer.concat(err.statusBytes).toString('utf8');
      if (this.statusIsJson(err)) {
        const st = parseStatusJson(text);
        if (st) this.setExit(st, out);
        else if (final || err.halfClosed.serverToClient || err.reset) this.diag(out, 'serverToClient', 'TIMELINE_BAD_STATUS', 'stream', `error stream does not hold a status document: ${JSON.stringify(text.slice(0, 80))}`, err.id);
      } else this.setExit(parseStatusText(text), out);
      return;
    }
    // nothing on the error stream: success, when it ended cleanly
    const cleanWs = this.wsClose !== null && (this.wsClose.code === 1000 || this.wsClose.code === null);
    if ((err.halfClosed.serverToClient || cleanWs) && !this.traits.statusJson) {
      this.setExit({ status: 'Success', code: 0, reason: null, message: null }, out);
    }
  }

  private setExit(st: ParsedStatus, out: TimelineEvent[]): void {
    this.exit = st;
    this.lastOutputToExitUs = this.lastOutputTime !== null ? this.time - this.lastOutputTime : null;
    out.push({
      kind: 'exit',
      time: this.time,
      connection: this.setup.connection,
      session: this.id,
      status: st.status,
      code: st.code,
      reason: st.reason,
      message: st.message,
      sinceLastOutputUs: this.lastOutputToExitUs,
    });
  }
}

function newWindow(): WindowState {
  return { initial: INITIAL_WINDOW, session: INITIAL_WINDOW, streams: new Map(), exhausted: new Map() };
}

function streamTypeRole(v: string): StreamRole {
  switch (v.toLowerCase()) {
    case 'stdin':
    case 'stdout':
    case 'stderr':
    case 'error':
    case 'resize':
    case 'data':
      return v.toLowerCase() as StreamRole;
    default:
      return 'unknown';
  }
}

function spdyLength(f: SpdyFrame): number {
  switch (f.kind) {
    case 'data':
      return f.data.length;
    case 'syn_stream':
      return 10 + (f.headerBlock?.length ?? 0);
    case 'syn_reply':
    case 'headers':
      return 4 + (f.headerBlock?.length ?? 0);
    case 'rst_stream':
    case 'goaway':
    case 'window_update':
      return 8;
    case 'settings':
      return 4 + 8 * f.entries.length;
    case 'ping':
      return 4;
    case 'unknown':
      return f.payload.length;
    default:
      return 0;
  }
}

function nameTable(t: Record<string, number>): Record<number, string> {
  const out: Record<number, string> = {};
  for (const [k, v] of Object.entries(t)) out[v] = k;
  return out;
}

export function endpointText(e: Endpoint): string {
  return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

function base64Bytes(p: Uint8Array): Uint8Array {
  const b = Buffer.from(Buffer.from(p.buffer, p.byteOffset, p.length).toString('latin1'), 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/** Codecs in inspect mode should not throw; if one does anyway, the session reports it and goes on. */
function safe<T>(fn: () => T[], d: Direction, s: Session, out: TimelineEvent[]): T[] {
  if (s.dead[d]) return [];
  try {
    return fn();
  } catch (e) {
    // the codec is unusable from here on in this direction; say so once
    s.dead[d] = true;
    const msg = e instanceof Error ? e.message : String(e);
    s.diag(out, d, e instanceof KubewireError ? e.code : 'TIMELINE_CODEC_FAILED', 'session', `decoder stopped: ${msg}`, null);
    return [];
  }
}
