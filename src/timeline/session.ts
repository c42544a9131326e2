/**
 * One session: an upgraded connection (or one joined mid-session). Takes the
 * bytes after the upgrade per direction, runs the framing (SPDY, WebSocket,
 * or SPDY inside WebSocket) and the Kubernetes stream semantics on top, and
 * emits timeline events. Keeps counters and hashes, never stream bytes.
 */
import { websocketFrameEvent } from './websocket-frame-event.js';
import { KubewireError, oppositeDirection, type Direction } from '../common/errors.js';
// The codec modules themselves, not the package barrels: those load encoders,
// sessions and handshakes a decode never runs, costing start-up time.
import { SpdyFrameDecoder, type SpdyDecodeEvent } from '../spdy/decoder.js';
import { type SpdyFrame, RST_STATUS, GOAWAY_STATUS, SETTINGS_ID } from '../spdy/types.js';
import type { WebSocketFrameDecoder } from '../websocket/decoder.js';
import { inspectingWebSocketDecoder } from './websocket-inspector.js';
import type { WebSocketFrameEvent, WebSocketFrame } from '../websocket/types.js';
import type { Endpoint } from '../tcp/types.js';
import type { SessionEndReason, StreamRole, TimelineEvent, Transport } from './events.js';
import type { DecoderContext } from './connection.js';
import type { RequestInfo } from './request-info.js';
import type { ExitSummary, InterpretedSessionSummary, SessionSummary } from './summary-types.js';
import { StreamState } from './stream-state.js';
import { FlowControl, type FlowChange } from './flow-control.js';
import { flowControlSummary } from './flow-evidence.js';
import { sessionOver, teardownOf, TRUNCATION_CODES, type PendingFrame } from './teardown.js';
import { guessFraming, tunnelVerdict, worthGuessing, type HeldBytes } from './sniff-framing.js';
import { concatBytes, copyBytes } from '../common/bytes.js';
import { ChannelDecoder, type ChannelEvent } from '../k8s/channel.js';
import { PortForwardChannelDecoder, type PortForwardChannelEvent } from '../k8s/portforward-ws.js';
import { ResizeDecoder } from '../k8s/resize.js';
import { parseStatus } from '../k8s/status.js';
import { remoteCommandProtocol, REMOTE_COMMAND_BASE64_V4, REMOTE_COMMAND_V5 } from '../k8s/protocols.js';
import { CHANNEL_ROLES, looksLikeResize, looksLikeStatus, protocolTraits, type ProtocolTraits } from './k8s-adapter.js';
import { SpdyRoleClues, inferSpdyRoles, inferSpdyRolesEitherWay, portForwardRole, type FirstBytes } from './spdy-roles.js';

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
  /** The bytes start at the beginning of the session, so SPDY header blocks can be inflated. */
  freshHeaders: boolean;
  /**
   * Joined without a SYN: content showed the other side is the client. The
   * owner swaps its direction mapping and endpoints (and says so); the
   * session has already swapped its own state.
   */
  onSwap?: (why: string, out: TimelineEvent[]) => void;
  /** Client and server are known (TCP saw the SYN, or content already told). */
  sidesKnown: boolean;
  /** The 101's `Sec-WebSocket-Extensions` (what RSV bits may mean), when seen. */
  websocketExtensions?: string | null;
}

/** Bytes of a port-forward error stream kept for the summary. */
const PORT_FORWARD_MESSAGE_MAX = 1024;
/** Data messages / bytes held at most before a joined WebSocket session is taken as channel messages. */
const TUNNEL_CHECK_MAX_MESSAGES = 64;
const TUNNEL_CHECK_MAX_BYTES = 64 * 1024;

const RST_NAMES = nameTable(RST_STATUS);
const GOAWAY_NAMES = nameTable(GOAWAY_STATUS);

export class Session {
  readonly id: number;
  /** A codec of this direction failed for good. */
  dead: Record<Direction, boolean> = { clientToServer: false, serverToClient: false };
  /** Content showed the sides the other way round from the setup's endpoints. */
  private swappedSides = false;
  private sidesKnown: boolean;
  private readonly traits: ProtocolTraits;
  private readonly streams = new Map<number, StreamState>();
  private spdy: Partial<Record<Direction, SpdyFrameDecoder>> = {};
  private ws: Partial<Record<Direction, WebSocketFrameDecoder>> = {};
  /** s2c WebSocket: channel of the message a continuation frame belongs to. */
  private lastChannel: Record<Direction, number | null> = { clientToServer: null, serverToClient: null };
  private readonly flow = new FlowControl();
  /** Per direction: the DATA frame being handed on in pieces (its stream, its bytes so far). */
  private piece: Record<Direction, { s: StreamState; bytes: number } | null> = { clientToServer: null, serverToClient: null };
  private resizeDecoder: ResizeDecoder;
  /** WebSocket remote command: channel decoding per direction (k8s layer). */
  private readonly chan: Partial<Record<Direction, ChannelDecoder>> = {};
  /** WebSocket native port-forward: channel pairs and port prefixes (k8s layer). */
  private readonly pf: Partial<Record<Direction, PortForwardChannelDecoder>> = {};
  private readonly resizes: Array<{ width: number; height: number }> = [];
  private exit: ExitSummary | null = null;
  private lastOutputTime: number | null = null;
  private lastOutputToExitUs: number | null = null;
  private readonly goaways: SessionSummary['goaway'] = [];
  private pings = { clientToServer: 0, serverToClient: 0 };
  private gaps = 0;
  private diagnostics = 0;
  private wsClose: SessionSummary['websocketClose'] = null;
  private tcpClose: SessionSummary['tcpClose'] = null;
  private teardown: SessionSummary['teardown'] = null;
  private endReason: SessionEndReason | null = null;
  private endTime: number | null = null;
  private stdinClosed = false;
  private streamLimitReported = false;
  private time: number;
  private kind: SessionSummary['kind'];
  /** Mid-session WebSocket: base64 channel protocol detected from text frames. */
  private base64: boolean;
  /** Joined SPDY session: what the streams showed, for their roles. */
  private readonly roleClues = new SpdyRoleClues();
  /** Joined SPDY session: a stream id above 7 was seen, which only port-forward uses. */
  private pastStream7 = false;
  /** May change once, when a joined WebSocket session turns out to carry a SPDY tunnel. */
  private transport: Transport;
  /**
   * Joined WebSocket session: data frames held until their payloads show
   * whether they are channel messages or a SPDY tunnel.
   */
  /** Joined tunnel: payloads held per direction until the first whole SPDY frame is found. */
  private tunnelAlign: Partial<Record<Direction, HeldBytes>> = {};
  private tunnelCheck: { frames: Array<{ d: Direction; f: WebSocketFrame }>; bytes: Record<Direction, Uint8Array[]>; count: number; held: number } | null = null;

  constructor(
    private readonly setup: SessionSetup,
    private readonly ctx: DecoderContext,
  ) {
    this.id = setup.id;
    this.time = setup.time;
    this.kind = setup.info.kind;
    this.transport = setup.transport;
    this.sidesKnown = setup.sidesKnown;
    if (setup.inferred && setup.transport === 'websocket' && setup.protocol === null) {
      this.tunnelCheck = { frames: [], bytes: { clientToServer: [], serverToClient: [] }, count: 0, held: 0 };
    }
    this.traits = protocolTraits(setup.protocol, setup.info.kind);
    if (this.traits.portforward && this.kind === 'unknown') this.kind = 'portforward';
    this.base64 = this.traits.base64;
    this.resizeDecoder = new ResizeDecoder({ mode: 'inspect', direction: 'clientToServer', maxBuffered: ctx.limits.maxResizeBytes });
    for (const d of ['clientToServer', 'serverToClient'] as const) {
      if (setup.transport === 'spdy/3.1') this.spdy[d] = this.newSpdy(d, setup.baseOffset[d]);
      else {
        this.ws[d] = this.newWs(d, setup.baseOffset[d]);
        if (setup.transport === 'websocket+spdy/3.1') this.spdy[d] = this.newSpdy(d, 0);
      }
    }
    if (setup.transport === 'websocket') {
      for (const d of ['clientToServer', 'serverToClient'] as const) {
        if (this.kind === 'portforward') {
          this.pf[d] = new PortForwardChannelDecoder({
            protocol: setup.protocol ?? '',
            direction: d,
            ports: setup.info.ports.length > 0 ? setup.info.ports : undefined,
            mode: 'inspect',
            connection: setup.connection,
          });
        } else {
          this.chan[d] = this.newChannelDecoder(d, this.channelProtocol());
        }
      }
      // native WebSocket port-forward: the channel pairs exist from the start
      if (this.kind === 'portforward') {
        setup.info.ports.forEach((port, i) => {
          for (const ch of [2 * i, 2 * i + 1]) {
            const st = new StreamState(ch, ch % 2 === 0 ? 'data' : 'error', false, null, this.ctx.digests);
            st.port = port;
            this.streams.set(ch, st);
          }
        });
      }
    }
  }

  /** The channel protocol to decode with: the negotiated one, or (joined mid-session) V5 binary. */
  private channelProtocol(): string {
    const p = this.setup.protocol;
    if (p !== null && remoteCommandProtocol(p)?.transports.includes('websocket')) return p;
    if (p === null && !this.setup.inferred) return ''; // none negotiated: V1 binary
    return this.base64 ? REMOTE_COMMAND_BASE64_V4 : REMOTE_COMMAND_V5;
  }

  private newChannelDecoder(d: Direction, protocol: string): ChannelDecoder {
    return new ChannelDecoder({ protocol, direction: d, mode: 'inspect', connection: this.setup.connection });
  }

  /** Mid-session: the first whole frame of `d` starts at `offset` (before any byte of `d` was fed). */
  rebase(d: Direction, offset: number): void {
    if (this.ws[d]) this.ws[d] = this.newWs(d, offset);
    else if (this.spdy[d]) this.spdy[d] = this.newSpdy(d, offset);
  }

  summaryTransport(): Transport {
    return this.transport;
  }

  start(out: TimelineEvent[]): void {
    const s = this.setup;
    out.push({
      kind: 'session-start',
      time: s.time,
      connection: s.connection,
      session: this.id,
      sessionKind: this.kind,
      transport: this.transport,
      protocol: s.protocol,
      application: 'kubernetes',
      hop: s.info.hop,
      nodeProxy: s.info.nodeProxy,
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
      const inner = this.transport === 'websocket+spdy/3.1' ? this.spdy[d] : undefined;
      if (inner) this.onSpdyEvents(d, safe(() => inner.gap(size), d, this, out), out);
      this.cutPiece(d);
      return;
    }
    const spdy = this.spdy[d];
    if (spdy) this.onSpdyEvents(d, safe(() => spdy.gap(size), d, this, out), out);
    this.cutPiece(d);
  }

  /** TCP closed (by `closedBy`, when known) or input ended: flush decoders, settle the exit status and the end reason. */
  end(time: number, tcp: SessionSummary['tcpClose'], out: TimelineEvent[], closedBy: Direction | null = null): void {
    if (this.endTime !== null) return;
    this.time = time;
    this.tcpClose = tcp;
    if (this.tunnelCheck) this.holdForTunnelCheck('clientToServer', null as unknown as WebSocketFrame, out, true);
    for (const d of ['clientToServer', 'serverToClient'] as const) if (this.tunnelAlign[d]) this.tunnelBytes(d, new Uint8Array(0), true, out);
    for (const d of ['clientToServer', 'serverToClient'] as const) {
      const ws = this.ws[d];
      if (ws) this.onWsEvents(d, this.unlessTeardown(d, 'websocket', ws.pendingFrame(), tcp, closedBy, safe(() => ws.end(), d, this, out), out), out);
      const spdy = this.spdy[d];
      if (spdy) {
        this.onSpdyEvents(d, this.unlessTeardown(d, 'spdy', spdy.pendingFrame(), tcp, closedBy, safe(() => spdy.end(), d, this, out), out), out);
        this.cutPiece(d);
        spdy.close();
      }
    }
    this.settleExit(out, true);
    this.inferSpdyRoles(tcp === 'fin' || tcp === 'rst' || this.goaways.length > 0);
    this.flow.finish();
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

  /**
   * A frame `pending` at the close, after the session was over (or a closing
   * frame of the side that closed), is teardown: its event replaces the
   * decoder's truncation diagnostic.
   */
  private unlessTeardown<E extends { kind: string; error?: KubewireError }>(
    d: Direction,
    layer: 'spdy' | 'websocket',
    pending: PendingFrame | null,
    tcp: SessionSummary['tcpClose'],
    closedBy: Direction | null,
    events: E[],
    out: TimelineEvent[],
  ): E[] {
    const over = sessionOver(this.exit !== null, this.streams.values(), this.wsClose !== null);
    const ev = teardownOf(layer, pending, over, tcp, { time: this.time, connection: this.setup.connection, session: this.id, direction: d }, closedBy);
    if (!ev) return events;
    this.teardown ??= { direction: d, layer, frame: ev.frame, have: ev.have, need: ev.need, cutBy: ev.cutBy };
    out.push(ev);
    return events.filter((e) => !(e.kind === 'diagnostic' && e.error && TRUNCATION_CODES.has(e.error.code)));
  }

  /**
   * stdin/stdout/stderr/tty as requested. The runtime's `/exec/{token}` URL
   * (and a capture joined after the upgrade) carries no options, so there the
   * streams the client opened say it: client-go opens a stream per option,
   * and a resize stream only with a TTY.
   */
  private streamFlags(streams: ReadonlyArray<{ role: string }>): Pick<SessionSummary, 'stdin' | 'stdout' | 'stderr' | 'tty'> {
    const info = this.setup.info;
    if (this.setup.request && info.hop !== 'kubelet-runtime') {
      return { stdin: info.stdin, stdout: info.stdout, stderr: info.stderr, tty: info.tty };
    }
    const has = (role: string) => streams.some((x) => x.role === role);
    return {
      stdin: info.stdin || has('stdin'),
      stdout: info.stdout || has('stdout'),
      stderr: info.stderr || has('stderr'),
      tty: info.tty || has('resize'),
    };
  }

  summary(): InterpretedSessionSummary {
    const s = this.setup;
    const streams = [...this.streams.values()]
      .sort((a, b) => a.id - b.id)
      .map((x) => {
        const sum = x.summary();
        if (this.kind === 'portforward' && x.role === 'error' && x.statusLength > 0) sum.message = Buffer.concat(x.statusBytes).toString('utf8');
        return sum;
      });
    return {
      kind: this.kind,
      transport: this.transport,
      protocol: s.protocol,
      client: endpointText(this.swappedSides ? s.server : s.client),
      server: endpointText(this.swappedSides ? s.client : s.server),
      request: s.request ? { ...s.request } : null,
      streams,
      resizes: this.resizes.map((r) => ({ ...r })),
      exit: this.exit ? { status: this.exit.status, code: this.exit.code, reason: this.exit.reason, message: this.exit.message } : null,
      session: this.id,
      connection: s.connection,
      hop: s.info.hop,
      nodeProxy: s.info.nodeProxy,
      namespace: s.info.namespace,
      pod: s.info.pod,
      container: s.info.container,
      command: [...s.info.command],
      ...this.streamFlags(streams),
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
      flowControlStalls: this.flow.stalls,
      flowControlOverruns: this.flow.overruns,
      flowControl: this.transport === 'websocket' ? null : flowControlSummary(this.flow.evidence),
      websocketClose: this.wsClose ? { ...this.wsClose } : null,
      tcpClose: this.tcpClose,
      teardown: this.teardown ? { ...this.teardown } : null,
      gaps: this.gaps,
      diagnostics: this.diagnostics,
      notes: 0,
      application: 'kubernetes',
      messages: null,
    };
  }

  report(d: Direction, error: KubewireError, time: number, out: TimelineEvent[]): void {
    this.diagnostics++;
    out.push({ kind: 'diagnostic', time, connection: this.setup.connection, session: this.id, direction: d, streamId: null, error });
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
    return inspectingWebSocketDecoder(this.ctx, this.setup.connection, d, baseOffset);
  }


  private newSpdy(d: Direction, baseOffset: number): SpdyFrameDecoder {
    return new SpdyFrameDecoder({
      mode: 'inspect',
      direction: d,
      baseOffset,
      headerContext: this.setup.freshHeaders ? 'fresh' : 'unknown',
      limits: this.ctx.limits.spdy,
      // Kubernetes clients open every stream, so stream ids are odd; once a
      // stream is known, prefer the known ones.
      resyncStreamId: (id) => (this.streams.size > 0 ? this.streams.has(id) : id % 2 === 1),
      dataPieces: this.ctx.dataPieces === true && !this.ctx.frameEvents ? (id) => this.inPieces(id) : false,
    });
  }

  /**
   * Whether a DATA frame of stream `id` that straddles segments may come in
   * pieces: only when nothing but its byte count and digest needs the whole
   * frame. The sides must be settled (no more swaps) and the stream known
   * (its SYN_STREAM seen), and its role one whose bytes are not read.
   */
  private inPieces(id: number): boolean {
    if (!this.sidesKnown || this.setup.inferred || this.transport !== 'spdy/3.1') return false;
    const s = this.streams.get(id);
    if (s === undefined || s.inferred || s.role === 'error' || s.role === 'resize') return false;
    // a cut frame's pieces must be taken back: only with digests that can
    return s.counters.clientToServer.rewindable && s.counters.serverToClient.rewindable;
  }

  /** A piece of a DATA frame (see `inPieces`): counted now, the frame's other effects once it is whole. */
  private dataPiece(d: Direction, f: SpdyFrame & { kind: 'data' }, out: TimelineEvent[]): void {
    let p = this.piece[d];
    if (p === null) {
      const s = this.streams.get(f.streamId)!;
      s.counters[d].mark();
      p = this.piece[d] = { s, bytes: 0 };
    }
    const s = p.s;
    p.bytes += f.data.length;
    if (f.data.length > 0) {
      const counter = s.counters[d];
      const offset = counter.bytes;
      counter.add(f.data);
      out.push({ kind: 'stream-data', time: this.time, connection: this.setup.connection, session: this.id, direction: d, streamId: s.id, role: s.role, bytes: f.data, offset, more: f.more });
    }
    if (f.more) return;
    // the frame is whole: what a whole frame does besides counting
    this.piece[d] = null;
    this.flowData(d, f.streamId, p.bytes, out);
    this.checkAfterFin(s, d, f, p.bytes, out);
    if ((s.role === 'stdout' || s.role === 'stderr') && d === 'serverToClient') this.lastOutputTime = this.time;
    if (f.fin) this.halfClose(s, d, out);
  }

  /** SPDY/3.1 §2.3.7: a sender must not send on a stream after its FIN (`bytes`: the whole frame's). */
  private checkAfterFin(s: StreamState, d: Direction, f: SpdyFrame & { kind: 'data' }, bytes: number, out: TimelineEvent[]): void {
    if (s.halfClosed[d] && (bytes > 0 || f.fin)) {
      this.diag(out, d, 'TIMELINE_DATA_AFTER_FIN', 'stream', `DATA on stream ${f.streamId} after this side's FIN`, f.streamId, f.offset);
    }
  }

  /** The decoder of `d` lost the frame it was handing on in pieces (a gap, the end): it counts for nothing. */
  private cutPiece(d: Direction): void {
    const p = this.piece[d];
    if (p === null) return;
    p.s.counters[d].rewind();
    this.piece[d] = null;
  }

  // --- SPDY ----------------------------------------------------------------

  private onSpdyEvents(dir: Direction, events: SpdyDecodeEvent[], out: TimelineEvent[]): void {
    let d = dir;
    for (const ev of events) {
      if (ev.kind === 'diagnostic') {
        this.diagnostics++;
        out.push({ kind: 'diagnostic', time: this.time, connection: this.setup.connection, session: this.id, direction: d, streamId: ev.error.streamId ?? null, error: ev.error });
        continue;
      }
      // a frame may show the sides were the other way round: the rest of the batch follows
      d = this.onSpdyFrame(d, ev, out);
    }
  }

  /** Returns the frame's direction, corrected when it showed the sides were swapped. */
  private onSpdyFrame(dir: Direction, f: SpdyFrame, out: TimelineEvent[]): Direction {
    let d = dir;
    if (!this.sidesKnown && this.sideEvidence(d, f, out)) {
      // this frame and all that follow under the corrected direction
      d = oppositeDirection(d);
    }
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
        role: streamId !== null && streamId !== 0 ? (this.streams.get(streamId)?.role ?? synStreamRole(f)) : null,
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
          this.roleClues.opened(f.streamId, d);
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
        return d;
      }
      case 'syn_reply':
      case 'headers': {
        const s = this.streams.get(f.streamId);
        if (s && f.fin) this.halfClose(s, d, out);
        return d;
      }
      case 'data': {
        if (f.more !== undefined) {
          this.dataPiece(d, f, out);
          return d;
        }
        const clue = this.setup.inferred && this.roleClues.bytes(f.streamId, d, f.data, firstBytesLook);
        const s = this.streamFor(f.streamId, d, out, f.offset);
        if (clue && s?.inferred) this.inferSpdyRoles(false, s);
        this.flowData(d, f.streamId, f.data.length, out);
        if (s) this.checkAfterFin(s, d, f, f.data.length, out);
        if (s) {
          this.streamData(s, d, f.data, out);
          if (f.fin) this.halfClose(s, d, out);
        }
        return d;
      }
      case 'rst_stream': {
        const s = this.streams.get(f.streamId) ?? this.streamFor(f.streamId, d, out, f.offset);
        const statusName = RST_NAMES[f.status] ?? `UNKNOWN_${f.status}`;
        if (s) {
          if (!s.reset) {
            s.reset = { direction: d, status: f.status, statusName };
            if (s.inferred) this.inferSpdyRoles(false, s);
          }
          if (s.role === 'error') this.settleExit(out, false);
        }
        out.push({ kind: 'stream-reset', ...base, direction: d, streamId: f.streamId, role: s?.role ?? 'unknown', status: f.status, statusName });
        return d;
      }
      case 'settings': {
        for (const e of f.entries) if (e.id === SETTINGS_ID.INITIAL_WINDOW_SIZE) this.flow.initialWindow(d, e.value);
        return d;
      }
      case 'ping': {
        this.pings[d]++;
        // client ids are odd, server ids even; an id of the other side's parity is an answer
        const reply = (f.id % 2 === 1) === (d === 'serverToClient');
        out.push({ kind: 'ping', ...base, direction: d, id: f.id, reply });
        return d;
      }
      case 'goaway': {
        this.goaways.push({ direction: d, lastGoodStreamId: f.lastGoodStreamId, status: f.status });
        out.push({ kind: 'goaway', ...base, direction: d, lastGoodStreamId: f.lastGoodStreamId, status: f.status, statusName: GOAWAY_NAMES[f.status] ?? `UNKNOWN_${f.status}` });
        return d;
      }
      case 'window_update': {
        const changes: FlowChange[] = [];
        const window = this.flow.windowUpdate(d, f.streamId, f.delta, this.time, changes);
        out.push({ kind: 'window-update', ...base, direction: d, streamId: f.streamId, delta: f.delta, window });
        this.flowEvents(changes, out);
        return d;
      }
      case 'unknown':
        return d;
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
    const changes: FlowChange[] = [];
    this.flow.data(d, streamId, n, this.time, changes);
    this.flowEvents(changes, out);
  }

  private flowEvents(changes: FlowChange[], out: TimelineEvent[]): void {
    for (const c of changes) out.push({ kind: 'flow-control', time: this.time, connection: this.setup.connection, session: this.id, ...c });
  }

  /** The stream a DATA/RST refers to; created (role inferred) when its SYN_STREAM was not seen. */
  private streamFor(id: number, d: Direction, out: TimelineEvent[], offset?: number): StreamState | null {
    const s = this.streams.get(id);
    if (s) return s;
    if (!this.setup.inferred) this.diag(out, d, 'TIMELINE_UNKNOWN_STREAM', 'stream', `frame for stream ${id}, which was never opened`, id, offset);
    return this.openStream(id, 'unknown', true, null, out);
  }

  /**
   * Joined without a SYN: does this frame tell who the client is? Clients
   * open streams with odd ids, servers answer with SYN_REPLY, the status
   * document comes from the server and terminal sizes from the client.
   * Returns true when the sides were swapped.
   */
  private sideEvidence(d: Direction, f: SpdyFrame, out: TimelineEvent[]): boolean {
    let sender: 'client' | 'server' | null = null;
    let why = '';
    if (f.kind === 'syn_stream') {
      sender = f.streamId % 2 === 1 ? 'client' : 'server';
      why = `SYN_STREAM ${f.streamId}`;
    } else if (f.kind === 'syn_reply') {
      sender = 'server';
      why = `SYN_REPLY ${f.streamId}`;
    } else if (f.kind === 'data' && f.data.length > 0 && this.kind !== 'portforward' && f.streamId <= 9) {
      // only where exec puts them (error is stream 1; resize is among the first five): a
      // port-forwarded stream may carry any JSON either way
      if (f.streamId === 1 && looksLikeStatus(f.data)) {
        sender = 'server';
        why = 'a status document';
      } else if (looksLikeResize(f.data)) {
        sender = 'client';
        why = 'a terminal size';
      }
    }
    if (sender === null) return false;
    this.sidesKnown = true;
    const isClient = d === 'clientToServer';
    if ((sender === 'client') === isClient) {
      this.inferSpdyRoles(false);
      return false;
    }
    this.swapSides();
    this.setup.onSwap?.(`${why} came from the side taken for the ${isClient ? 'client' : 'server'}`, out);
    return true;
  }

  /** Exchange everything kept per direction. */
  private swapSides(): void {
    this.swappedSides = !this.swappedSides;
    const flip = <T>(r: Record<Direction, T>): Record<Direction, T> => ({ clientToServer: r.serverToClient, serverToClient: r.clientToServer });
    this.spdy = flip(this.spdy as Record<Direction, SpdyFrameDecoder>);
    this.ws = flip(this.ws as Record<Direction, WebSocketFrameDecoder>);
    for (const x of [this.spdy, this.ws] as Array<Partial<Record<Direction, unknown>>>) {
      for (const k of ['clientToServer', 'serverToClient'] as const) if (x[k] === undefined) delete x[k];
    }
    this.dead = flip(this.dead);
    this.flow.swap();
    this.pings = flip(this.pings);
    this.lastChannel = flip(this.lastChannel);
    this.tunnelAlign = flip(this.tunnelAlign as Record<Direction, HeldBytes>);
    for (const k of ['clientToServer', 'serverToClient'] as const) if (this.tunnelAlign[k] === undefined) delete this.tunnelAlign[k];
    for (const g of this.goaways) g.direction = oppositeDirection(g.direction);
    if (this.wsClose) this.wsClose.direction = oppositeDirection(this.wsClose.direction);
    for (const st of this.streams.values()) st.swapDirections();
    // roles guessed from which way bytes went: guess again
    this.roleClues.swap();
    this.inferSpdyRoles(false);
  }

  /**
   * Joined SPDY session: the roles of the streams whose headers could not be
   * read, from everything they showed so far (see `spdy-roles.ts`). Roles may
   * sharpen as clues arrive; `ended`: the session's end is in the capture;
   * `changed`: the stream that showed something new.
   */
  private inferSpdyRoles(ended: boolean, changed?: StreamState): void {
    if (!this.setup.inferred || this.transport === 'websocket') return;
    const pf = this.transport === 'websocket+spdy/3.1' || this.traits.portforward || this.setup.info.kind === 'portforward';
    const rc = !pf && (this.setup.info.kind === 'exec' || this.setup.info.kind === 'attach' || (this.setup.protocol !== null && this.traits.version > 0));
    if (!rc && changed && changed.id > 7 && changed.id % 2 === 1) this.pastStream7 = true;
    if (pf || (!rc && this.pastStream7)) {
      // port-forward for sure (exec never gets past stream 7): each stream's role is its own, and long sessions stay linear
      const again = !changed || this.kind !== 'portforward';
      this.kind = 'portforward';
      for (const x of again ? this.streams.values() : [changed]) {
        if (x.inferred) x.role = x.id % 2 === 1 ? portForwardRole(this.roleClues.of(x), this.sidesKnown) : 'unknown';
      }
      return;
    }
    const streams = [...this.streams.values()];
    if (!streams.some((x) => x.inferred)) return;
    const verdict = (this.sidesKnown ? inferSpdyRoles : inferSpdyRolesEitherWay)(
      streams.map((x) => this.roleClues.of(x)),
      { family: pf ? 'portforward' : rc ? 'remotecommand' : 'unknown', version: rc && this.setup.protocol !== null ? this.traits.version : null, ended },
    );
    if (!pf && !rc) this.kind = verdict.family === 'portforward' ? 'portforward' : this.setup.info.kind;
    for (const x of streams) if (x.inferred) x.role = verdict.roles.get(x.id) ?? 'unknown';
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
    const isData = f.kind === 'binary' || f.kind === 'text' || f.kind === 'continuation';
    if (isData && this.tunnelCheck && this.holdForTunnelCheck(d, f, out)) return;
    const tunnel = this.transport === 'websocket+spdy/3.1';
    const continued = isData && f.kind === 'continuation' && d === 'serverToClient' ? this.lastChannel[d] : null;
    if (isData && !tunnel && this.setup.inferred && !this.base64 && f.kind === 'text' && isDigit(f.payload[0])) {
      // joined mid-session: text messages that start with a digit are a base64 protocol
      this.base64 = true;
      if (this.kind !== 'portforward') for (const x of ['clientToServer', 'serverToClient'] as const) this.chan[x] = this.newChannelDecoder(x, REMOTE_COMMAND_BASE64_V4);
    }
    let channel: number | null = null;
    if (isData && !tunnel && f.payload.length > 0) channel = continued ?? (this.base64 ? f.payload[0]! - 0x30 : f.payload[0]!);
    if (isData && !tunnel && continued === null) this.lastChannel[d] = f.fin || channel === null ? null : channel;
    if (this.ctx.frameEvents) {
      const role = channel !== null ? (this.streams.get(channel)?.role ?? (this.kind === 'portforward' ? null : (CHANNEL_ROLES[channel] ?? null))) : null;
      out.push(websocketFrameEvent(base, d, f, channel, role));
    }
    switch (f.kind) {
      case 'binary':
      case 'text':
      case 'continuation':
        if (tunnel) {
          if (f.kind === 'text') this.diag(out, d, 'TIMELINE_TUNNEL_TEXT_MESSAGE', 'session', 'text message in a SPDY tunnel (the server rejects these)', null, f.offset);
          this.tunnelBytes(d, f.payload, false, out);
        } else if (continued !== null) {
          // a server message in several frames: the client joins them, so the channel byte is not repeated
          const s = this.streams.get(continued);
          if (s) this.streamData(s, d, f.payload, out);
        } else if (this.pf[d]) {
          for (const ev of this.pf[d]!.decode(f.payload, f.offset)) this.onPortForwardEvent(d, ev, out);
        } else if (this.chan[d]) {
          this.onChannelEvent(d, this.chan[d]!.decode(f.payload, f.kind === 'text', f.offset), out);
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
   * Returns true when the frame was held. Decides after a few messages (or
   * at the end) by looking for SPDY frames in the joined payloads.
   */
  private holdForTunnelCheck(d: Direction, f: WebSocketFrame, out: TimelineEvent[], final = false): boolean {
    const tc = this.tunnelCheck!;
    let tunnelStart: Record<Direction, number> | null = null;
    if (!final) {
      // payloads of unmasked frames are views into the input: keep copies
      const copy = { ...f, payload: copyBytes(f.payload) } as WebSocketFrame;
      tc.frames.push({ d, f: copy });
      tc.bytes[d].push(copy.payload);
      tc.count++;
      tc.held += copy.payload.length;
      const verdict = tunnelVerdict(tc.bytes, tc.count >= TUNNEL_CHECK_MAX_MESSAGES || tc.held >= TUNNEL_CHECK_MAX_BYTES);
      if (verdict === null) return true;
      if (verdict === 'tunnel') tunnelStart = { clientToServer: 0, serverToClient: 0 };
    } else if (tunnelVerdict(tc.bytes, true) === 'tunnel') {
      tunnelStart = { clientToServer: 0, serverToClient: 0 };
    }
    this.tunnelCheck = null;
    if (tunnelStart) {
      this.transport = 'websocket+spdy/3.1';
      this.kind = 'portforward';
      for (const x of ['clientToServer', 'serverToClient'] as const) {
        this.spdy[x] = this.newSpdy(x, 0);
        // the tunnelled stream may begin inside a SPDY frame: find the first whole one per direction
        this.tunnelAlign[x] = { chunks: [], bytes: 0, guessedAt: 0 };
      }
    }
    // replay what was held (the current frame included)
    for (const h of tc.frames) this.onWsFrame(h.d, h.f, out);
    return true;
  }

  /** Tunnel payload bytes into the SPDY decoder of `d` (after finding a frame start when joined mid-session). */
  private tunnelBytes(d: Direction, payload: Uint8Array, final: boolean, out: TimelineEvent[]): void {
    const spdy = this.spdy[d]!;
    const held = this.tunnelAlign[d];
    if (held) {
      if (payload.length > 0) {
        held.chunks.push(copyBytes(payload));
        held.bytes += payload.length;
      }
      if (held.bytes === 0) {
        if (final) delete this.tunnelAlign[d];
        return;
      }
      // kubectl's tunnel sends 1-byte messages: a look at every one was quadratic.
      if (!worthGuessing(held, final, TUNNEL_CHECK_MAX_BYTES)) return;
      held.guessedAt = held.bytes;
      const buf = concatBytes(held.chunks);
      const g = guessFraming(buf, final || held.bytes >= TUNNEL_CHECK_MAX_BYTES, 'spdy');
      if (g === null) return;
      delete this.tunnelAlign[d];
      const start = g === 'none' ? 0 : g.start;
      // offsets in the tunnelled SPDY stream, which starts at the first byte the capture has
      if (g === 'none') this.diag(out, d, 'TIMELINE_NO_FRAME_START', 'session', `no SPDY frame found in the first ${buf.length} tunnelled bytes; decoding from the first byte`, null, 0);
      else if (start > 0) this.diag(out, d, 'TIMELINE_JOINED_MID_FRAME', 'session', `tunnelled SPDY starts inside a frame; ${start} bytes skipped`, null, 0);
      this.spdy[d] = this.newSpdy(d, start);
      const fresh = this.spdy[d]!;
      this.onSpdyEvents(d, safe(() => fresh.push(buf.subarray(start)), d, this, out), out);
      return;
    }
    if (payload.length > 0) this.onSpdyEvents(d, safe(() => spdy.push(payload), d, this, out), out);
  }

  /** The stream of a WebSocket channel, opened on its first message. */
  private channelStream(channel: number, role: StreamRole, d: Direction, out: TimelineEvent[]): StreamState | null {
    return this.streams.get(channel) ?? this.openStream(channel, role, this.setup.inferred, d, out);
  }

  private onChannelEvent(d: Direction, ev: ChannelEvent, out: TimelineEvent[]): void {
    switch (ev.kind) {
      case 'data': {
        const s = this.channelStream(ev.channel, ev.role, d, out);
        if (s) this.streamData(s, d, ev.data, out);
        return;
      }
      case 'close': {
        const s = this.channelStream(ev.channel, ev.role, d, out);
        if (s) this.halfClose(s, d, out);
        return;
      }
      case 'empty':
        return;
      case 'diagnostic':
        this.k8sDiag(d, ev.error, out);
        return;
      default: {
        const never: never = ev;
        throw new Error(`unhandled channel event ${(never as { kind: string }).kind}`);
      }
    }
  }

  private onPortForwardEvent(d: Direction, ev: PortForwardChannelEvent, out: TimelineEvent[]): void {
    switch (ev.kind) {
      case 'port':
      case 'data': {
        const s = this.channelStream(ev.channel, ev.role, d, out);
        if (!s) return;
        if (ev.kind === 'port') s.port ??= ev.port;
        else this.streamData(s, d, ev.data, out);
        return;
      }
      case 'empty':
        return;
      case 'diagnostic':
        this.k8sDiag(d, ev.error, out);
        return;
      default: {
        const never: never = ev;
        throw new Error(`unhandled port-forward event ${(never as { kind: string }).kind}`);
      }
    }
  }

  private k8sDiag(d: Direction, error: KubewireError, out: TimelineEvent[]): void {
    this.diagnostics++;
    out.push({ kind: 'diagnostic', time: this.time, connection: this.setup.connection, session: this.id, direction: d, streamId: error.channel ?? error.streamId ?? null, error });
  }

  // --- streams ---------------------------------------------------------------

  private openStream(id: number, role: StreamRole, inferred: boolean, openedBy: Direction | null, out: TimelineEvent[]): StreamState | null {
    const existing = this.streams.get(id);
    if (existing) {
      if (existing.openedBy === null && openedBy !== null) {
        // first seen by its data (the other direction was still finding its first frame): this is its opening
        existing.openedBy = openedBy;
        if (!inferred && role !== 'unknown') {
          existing.role = role;
          existing.inferred = false;
        }
      } else if (openedBy) this.diag(out, openedBy, 'TIMELINE_STREAM_REOPENED', 'stream', `stream ${id} opened again`, id);
      return existing;
    }
    if (this.streams.size >= this.ctx.limits.maxStreamsPerSession) {
      if (!this.streamLimitReported) {
        this.streamLimitReported = true;
        this.diag(out, openedBy, 'TIMELINE_TOO_MANY_STREAMS', 'session', `more than ${this.ctx.limits.maxStreamsPerSession} streams; further streams are not tracked`, id);
      }
      return null;
    }
    const s = new StreamState(id, role, inferred, openedBy, this.ctx.digests);
    this.streams.set(id, s);
    if (inferred && this.spdy.clientToServer) this.inferSpdyRoles(false, s);
    out.push({
      kind: 'stream-open',
      time: this.time,
      connection: this.setup.connection,
      session: this.id,
      direction: openedBy ?? 'clientToServer',
      streamId: id,
      role: s.role,
      inferred,
      port: s.port,
      requestId: s.requestId,
    });
    return s;
  }

  private streamData(s: StreamState, d: Direction, bytes: Uint8Array, out: TimelineEvent[]): void {
    if (bytes.length === 0) return;
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
          s.statusBytes.push(copyBytes(bytes));
          s.statusLength += bytes.length;
          if (this.statusIsJson(s)) this.trySettleJson(s, out);
        } else if (d === 'serverToClient' && s.statusLength < PORT_FORWARD_MESSAGE_MAX) {
          // port-forward: the server's reason for failing this request ("error forwarding port …")
          const keep = copyBytes(bytes, 0, PORT_FORWARD_MESSAGE_MAX - s.statusLength);
          s.statusBytes.push(keep);
          s.statusLength += keep.length;
        }
        return;
      case 'resize':
        if (d === 'clientToServer') {
          for (const r of this.resizeDecoder.push(bytes)) {
            if (r.kind === 'diagnostic') {
              this.k8sDiag(d, r.error, out);
              continue;
            }
            const size = { width: r.width, height: r.height };
            this.resizes.push(size);
            out.push({ kind: 'resize', time: this.time, connection: this.setup.connection, session: this.id, direction: d, streamId: s.id, width: size.width, height: size.height });
          }
        }
        return;
      default:
        return;
    }
  }

  private halfClose(s: StreamState, d: Direction, out: TimelineEvent[]): void {
    if (s.halfClosed[d]) return;
    s.halfClosed[d] = true;
    if (s.inferred) this.inferSpdyRoles(false, s);
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
    const bytes = Buffer.concat(s.statusBytes);
    try {
      JSON.parse(bytes.toString('utf8'));
    } catch {
      return; // not complete yet
    }
    this.setExit(this.readStatus(s, bytes, 'json', out), out);
  }

  /** The status document through the k8s layer, as the summary's exit. */
  private readStatus(s: StreamState, bytes: Uint8Array, format: 'json' | 'text', out: TimelineEvent[]): ExitSummary {
    const r = parseStatus(bytes, format, { direction: 'serverToClient', streamId: s.id, connection: this.setup.connection });
    for (const e of r.diagnostics) this.k8sDiag('serverToClient', e, out);
    const st = r.status;
    const success = st.outcome === 'success';
    return {
      status: success ? 'Success' : 'Failure',
      code: success ? 0 : st.exitCode,
      reason: st.reason,
      message: st.message,
    };
  }

  /**
   * The error stream ended (FIN, RST, WebSocket close, or end of input):
   * decide the exit status if it is not known yet.
   */
  private settleExit(out: TimelineEvent[], final: boolean): void {
    if (this.exit || this.kind === 'portforward') return;
    const err = [...this.streams.values()].find((x) => x.role === 'error');
    if (!err) return;
    const ended = final || err.halfClosed.serverToClient || err.reset !== null || this.wsClose !== null;
    if (err.statusLength > 0) {
      if (!ended) return;
      this.setExit(this.readStatus(err, Buffer.concat(err.statusBytes), this.statusIsJson(err) ? 'json' : 'text', out), out);
      return;
    }
    // nothing on the error stream: success, when it ended cleanly (every protocol version)
    const cleanWs = this.wsClose !== null && (this.wsClose.code === 1000 || this.wsClose.code === null);
    // (joined mid-session, the status may have gone by before the capture began: no guess)
    if ((err.halfClosed.serverToClient || cleanWs) && !this.setup.inferred) this.setExit({ status: 'Success', code: 0, reason: null, message: null }, out);
  }

  private setExit(st: ExitSummary, out: TimelineEvent[]): void {
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


/** The role a SYN_STREAM announces (before the stream exists), or null. */
function synStreamRole(f: SpdyFrame): StreamRole | null {
  if (f.kind !== 'syn_stream' || !f.headers) return null;
  for (const [k, v] of f.headers) if (k.toLowerCase() === 'streamtype') return streamTypeRole(v);
  return null;
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

/** What a joined stream's first bytes look like (a clue to its role, whichever side sent them). */
function firstBytesLook(data: Uint8Array): FirstBytes {
  if (looksLikeResize(data)) return 'resize';
  if (looksLikeStatus(data)) return 'status';
  // port-forward's error stream: "error forwarding port …", "unable to …", "failed to …"
  return /^(error|unable|failed)\b/i.test(Buffer.from(data.subarray(0, 16)).toString('latin1')) ? 'message' : 'other';
}

function isDigit(b: number | undefined): boolean {
  return b !== undefined && b >= 0x30 && b <= 0x39;
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
