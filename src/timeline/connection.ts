/**
 * Per-connection state: what the connection carries (found by content, on
 * any port), HTTP/1.1 until an upgrade, then the session. Without a
 * handshake (a capture joined mid-session) the framing is recognised by
 * frame shape and the session's roles are inferred.
 *
 * Client vs server: TCP says who sent the SYN; without one, content decides
 * (the side that sends an HTTP request, masked WebSocket frames or a
 * client's SYN_STREAM is the client) and the endpoints are swapped when the
 * guess was wrong.
 */
import { KubewireError, oppositeDirection, type Direction } from '../common/errors.js';
import type { ConnectionClose, ConnectionData, ConnectionGap, ConnectionOpen, Endpoint } from '../tcp/types.js';
import { HttpParser, switchesProtocol, type HttpParseEvent, type HttpRequestHead, type HttpResponseHead } from '../http/parser.js';
import { headerTokens, headerValue, type HeaderList } from '../http/headers.js';
import { redactHeaders, redactProtocol, redactQuery } from '../http/redact.js';
import { sniffHttp } from '../http/sniff.js';
import type { ConnectionProtocol, TimelineEvent, Transport } from './events.js';
import type { DecodeAs, TimelineLimits } from './options.js';
import type { RequestSummary, SessionSummary } from './summary-types.js';
import { requestInfo } from './request-info.js';
import { endpointText } from './session.js';
import type { SessionInterpreter } from './interpreter.js';
import { createSession, type SessionChoice } from './session-factory.js';
import { websocketApplication } from './websocket-application.js';
import { checkAccept } from '../websocket/handshake.js';
import { Http2Connection } from './http2-connection.js';
import { CLIENT_PREFACE_BYTES } from '../http2/frames.js';
import { guessFraming, looksLikeTls, worthGuessing, type FramingGuess, type GuessConstraints, type HeldBytes } from './sniff-framing.js';
import { concatBytes, copyBytes } from '../common/bytes.js';
import type { DigestEngine } from './digests.js';
import type { TlsKeyLog } from '../tls/keylog.js';
import { ConnectTunnel } from './connect-tunnel.js';
import { readSocks5, type Socks5Reading } from '../socks/index.js';

/** Shared across connections of one SessionDecoder. */
export interface DecoderContext {
  limits: TimelineLimits;
  showSecrets: boolean;
  frameEvents: boolean;
  /** Hand DATA payloads of bulk streams on in pieces as they arrive (see SessionDecoderOptions). */
  dataPieces?: boolean;
  digests: DigestEngine | null;
  nextSession: number;
  /** Refused WebSocket upgrades, so that a retry on a new connection can link to them (bounded). */
  refusedUpgrades: Array<{ connection: number; clientAddress: string; path: string; time: number; request: RequestSummary }>;
  /** Requests kept for the summary (bounded by `maxRequestsKept`). */
  requestsKept: number;
  /** Several capture files are decoded together: `connection-close` names the connection's. */
  closeNamesFiles?: boolean;
  /** WebSocket decoders may unmask in the input chunks (`SessionDecoderOptions.ownsInput`). */
  unmask: 'copy' | 'in-place';
  /** Secrets for TLS that starts inside a connection (a CONNECT tunnel's). */
  tlsKeys?: TlsKeyLog | null;
}

/** How long after a refused WebSocket upgrade a SPDY upgrade to the same path still counts as its retry. */
const RETRY_WINDOW_US = 60_000_000;
const MAX_REFUSED_KEPT = 64;
export const MAX_REQUESTS_KEPT = 10_000;
/** Bytes kept per direction while the connection is not classified yet. */
const SNIFF_LIMIT = 256 * 1024;
/** Bytes of each direction a SOCKS5 handshake is looked for in (it is shorter). */
const SOCKS_HEAD_BYTES = 2048;
const SOCKS_VERSION = 5;
const NOTHING = new Uint8Array(0);

type Phase = 'sniff' | 'http' | 'http2' | 'session' | 'opaque' | 'tunnel';

interface SniffBuffer extends HeldBytes {
  /** Absolute offset of the first buffered byte. */
  offset: number;
}

interface RequestRecord {
  head: HttpRequestHead;
  index: number;
  time: number;
  bodyLength: number;
  summary: RequestSummary | null;
}

interface ResponseRecord {
  head: HttpResponseHead;
  index: number;
  body: Uint8Array[];
  bodyKept: number;
  bodyLength: number;
}

export class ConnectionDecoder {
  readonly id: number;
  lastTime: number;
  private client: Endpoint;
  private server: Endpoint;
  private swapped = false;
  private phase: Phase = 'sniff';
  private readonly sniff: Record<Direction, SniffBuffer> = { clientToServer: newSniff(0), serverToClient: newSniff(0) };
  /** Mid-session: a direction still looking for its first whole frame. */
  private align: Partial<Record<Direction, SniffBuffer>> = {};
  private req: HttpParser | null = null;
  private resp: HttpParser | null = null;
  private readonly requests: RequestRecord[] = [];
  private respIndex = 0;
  private response: ResponseRecord | null = null;
  private session: SessionInterpreter | null = null;
  /** HTTP/2 (issue 12 §3): h2c, or decrypted h2, found by the client's preface. */
  private h2: Http2Connection | null = null;
  private readonly summaries: RequestSummary[] = [];
  private disabled = false;
  private finished = false;
  /** The capture files the connection came from (set by the decoder; see `SessionSummary.files`). */
  files: string[] = [];
  /** Bytes of each direction seen so far (absolute offset of the next byte). */
  private readonly next: Record<Direction, number> = { clientToServer: 0, serverToClient: 0 };

  constructor(
    private readonly openEv: ConnectionOpen,
    private readonly ctx: DecoderContext,
    private readonly decodeAs: DecodeAs | undefined,
  ) {
    this.id = openEv.connection;
    this.lastTime = openEv.time;
    this.client = openEv.client;
    this.server = openEv.server;
  }

  get sessionId(): number | null {
    return this.tunnel ? this.tunnel.sessionId : (this.session?.id ?? null);
  }

  /** The TLS inside the connection's CONNECT tunnel, once its first record came; null otherwise. */
  get tunnelTls(): ConnectTunnel['tls'] {
    return this.tunnel?.tls ?? null;
  }

  open(out: TimelineEvent[]): void {
    out.push({
      kind: 'connection-open',
      time: this.openEv.time,
      connection: this.id,
      client: this.client,
      server: this.server,
      startedLate: this.openEv.startedLate,
    });
  }

  data(ev: ConnectionData, out: TimelineEvent[]): void {
    this.lastTime = ev.time;
    if (this.disabled || this.finished) return;
    const d = this.dir(ev.direction);
    let bytes = ev.bytes;
    let offset = ev.offset;
    if (offset > this.next[d]) {
      // the reassembler skipped bytes without a gap event: treat it as one
      this.gapAt(d, this.next[d], offset - this.next[d], ev.time, out);
    } else if (offset < this.next[d]) {
      // bytes seen already (a source that repeats itself): decode each byte once
      const seen = this.next[d] - offset;
      if (seen >= bytes.length) return;
      bytes = bytes.subarray(seen);
      offset += seen;
    }
    this.next[d] = offset + bytes.length;
    this.route(d, bytes, offset, ev.time, out);
  }

  gap(ev: ConnectionGap, out: TimelineEvent[]): void {
    this.lastTime = ev.time;
    if (this.disabled || this.finished) return;
    const d = this.dir(ev.direction);
    this.next[d] = Math.max(this.next[d], ev.offset + ev.size);
    this.gapAt(d, ev.offset, ev.size, ev.time, out);
  }

  close(ev: ConnectionClose, out: TimelineEvent[]): void {
    this.lastTime = ev.time;
    this.end(ev.time, ev.reason, out, ev.direction ? this.dir(ev.direction) : null);
    out.push({
      kind: 'connection-close',
      time: ev.time,
      connection: this.id,
      reason: ev.reason,
      direction: ev.direction ? this.dir(ev.direction) : null,
      ...(this.ctx.closeNamesFiles === true ? { files: [...this.files] } : {}),
    });
  }

  /** End of input without a close event. */
  finish(out: TimelineEvent[]): void {
    this.end(this.lastTime, 'end-of-input', out);
  }

  /** The connection carries TLS that is not decrypted: nothing of it will come. */
  tlsOpaque(time: number, out: TimelineEvent[]): void {
    if (this.phase === 'sniff') this.becomeOpaque(time, out);
  }

  /** Stop decoding this connection (after an internal error). */
  disable(): void {
    this.disabled = true;
  }

  sessionSummaries(): SessionSummary[] {
    if (this.tunnel) return this.tunnel.sessionSummaries().map((t) => ({ ...t, files: [...this.files] }));
    return this.session ? [{ ...this.session.summary(), files: [...this.files] }] : [];
  }

  requestSummaries(): RequestSummary[] {
    const own = this.summaries.map((r) => ({ ...r, files: [...this.files] }));
    return this.tunnel ? [...own, ...this.tunnel.requestSummaries().map((r) => ({ ...r, files: [...this.files] }))] : own;
  }

  // --- routing -----------------------------------------------------------------

  private dir(d: Direction): Direction {
    return this.swapped ? oppositeDirection(d) : d;
  }

  private route(d: Direction, bytes: Uint8Array, offset: number, time: number, out: TimelineEvent[]): void {
    switch (this.phase) {
      case 'sniff': {
        const s = this.sniff[d];
        if (s.bytes === 0) s.offset = offset;
        s.chunks.push(copyBytes(bytes)); // the input is a view valid only until the next event
        s.bytes += bytes.length;
        this.classify(time, false, out);
        return;
      }
      case 'http':
        this.httpData(d, bytes, time, out);
        return;
      case 'http2':
        this.h2!.bytes(d, bytes, time, out);
        return;
      case 'session': {
        const a = this.align[d];
        if (a) {
          if (a.bytes === 0) a.offset = offset;
          a.chunks.push(copyBytes(bytes));
          a.bytes += bytes.length;
          this.tryAlign(d, time, false, out);
          return;
        }
        this.session!.bytes(d, bytes, time, out);
        return;
      }
      case 'tunnel':
        this.tunnel!.data(d, bytes, offset, time, out);
        return;
      case 'opaque':
        return;
      default: {
        const never: never = this.phase;
        throw new Error(`bad phase ${String(never)}`);
      }
    }
  }

  private gapAt(d: Direction, offset: number, size: number, time: number, out: TimelineEvent[]): void {
    // the tunnel's decoder says it, at its own offsets
    if (this.phase === 'tunnel') return this.tunnel!.gap(d, offset, size, time, out);
    out.push({ kind: 'gap', time, connection: this.id, session: this.sessionId, direction: d, offset, size });
    switch (this.phase) {
      case 'sniff':
        // what came before the gap cannot be continued; classify what follows.
        // Lost bytes are a diagnostic in every phase that decodes (else a
        // joined capture with a loss decoded "cleanly", exit code 0).
        this.diag(out, time, d, 'TIMELINE_GAP', 'connection', `${size} bytes lost before the protocol was recognised; classifying what follows`, offset);
        this.sniff[d] = newSniff(offset + size);
        return;
      case 'http':
        this.diag(out, time, d, 'TIMELINE_HTTP_GAP', 'connection', `${size} bytes lost inside HTTP; looking at what follows as a joined connection`, offset);
        this.req = this.resp = null;
        this.phase = 'sniff';
        this.sniff.clientToServer = newSniff(this.next.clientToServer);
        this.sniff.serverToClient = newSniff(this.next.serverToClient);
        return;
      case 'http2':
        this.h2!.gap(d, size, time, out);
        return;
      case 'session': {
        const a = this.align[d];
        if (a) {
          this.diag(out, time, d, 'TIMELINE_GAP', 'connection', `${size} bytes lost while looking for the first whole frame`, offset);
          this.align[d] = newSniff(offset + size);
        } else this.session!.gap(d, size, time, out);
        return;
      }
      case 'opaque':
        return;
    }
  }

  /** End of the connection that carries this one as a tunnel (no close event: the outer connection has it). */
  endTunnelled(time: number, reason: ConnectionClose['reason'], out: TimelineEvent[]): void {
    this.end(time, reason, out);
  }

  private end(time: number, reason: ConnectionClose['reason'], out: TimelineEvent[], closedBy: Direction | null = null): void {
    if (this.finished) return;
    if (this.phase === 'sniff') this.classify(time, true, out);
    if (this.phase === 'http') {
      for (const p of [this.req, this.resp]) {
        if (p) this.httpEvents(p.type === 'request' ? 'clientToServer' : 'serverToClient', p.end(), time, out);
      }
    }
    if (this.phase === 'http2') this.h2!.end(time, out);
    if (this.phase === 'tunnel') this.tunnel!.end(time, reason, out);
    if (this.phase === 'session') {
      for (const d of ['clientToServer', 'serverToClient'] as const) if (this.align[d]) this.tryAlign(d, time, true, out);
      this.session!.end(time, reason, out, closedBy);
    }
    this.finished = true;
    // keep only what the summary needs: a long capture has many connections
    this.req = this.resp = null;
    this.response = null;
    this.requests.length = 0;
    this.align = {};
    this.h2 = null;
    this.sniff.clientToServer = newSniff(0);
    this.sniff.serverToClient = newSniff(0);
  }

  /** Requests kept for the summary. */
  get requestCount(): number {
    return this.summaries.length + (this.tunnel?.requestCount ?? 0);
  }

  /** Whether the summary has anything from this connection. */
  get hasSummary(): boolean {
    return this.session !== null || this.summaries.length > 0 || this.tunnel?.hasSummary === true;
  }

  // --- classification ------------------------------------------------------------

  private classify(time: number, final: boolean, out: TimelineEvent[]): void {
    const c2s = this.sniff.clientToServer;
    const s2c = this.sniff.serverToClient;
    const forced = forcedTransport(this.decodeAs);
    if (c2s.bytes > 0 && this.decodeAs === undefined) {
      const p = prefaceMatch(head(c2s, CLIENT_PREFACE_BYTES.length));
      if (p === 'yes') return this.startHttp2(time, null, out);
      if (p === 'maybe' && !final) return;
    }
    const hc = c2s.bytes ? sniffHttp(head(c2s, 16)) : 'maybe';
    const hs = s2c.bytes ? sniffHttp(head(s2c, 16)) : 'maybe';
    if (hc === 'request' || hs === 'response') return this.startHttp(time, false, out);
    if (hc === 'response' || hs === 'request') return this.startHttp(time, true, out);
    const hcWait = hc === 'maybe' && c2s.bytes > 0;
    const hsWait = hs === 'maybe' && s2c.bytes > 0;
    if ((hcWait || hsWait) && !final) return;
    if (c2s.bytes > 0 && c2s.chunks[0]![0] === SOCKS_VERSION && c2s.offset === 0 && s2c.offset === 0 && !this.openEv.startedLate && this.decodeAs === undefined) {
      // a SOCKS5 proxy's handshake, then its tunnel (its first byte tells before anything is copied)
      const socks = readSocks5(head(c2s, SOCKS_HEAD_BYTES), s2c.bytes > 0 ? head(s2c, SOCKS_HEAD_BYTES) : NOTHING);
      if (socks.kind === 'more' && !final) return;
      if (socks.kind === 'done') return this.startSocksTunnel(socks, time, out);
    }
    if ((c2s.bytes >= 3 && looksLikeTls(head(c2s, 3))) || (s2c.bytes >= 3 && looksLikeTls(head(s2c, 3)))) {
      // encrypted: nothing to decode, whatever `decodeAs` says
      return this.becomeOpaque(time, out);
    }
    if (this.decodeAs !== undefined && !this.openEv.startedLate && c2s.offset === 0 && s2c.offset === 0) {
      // the user said what it is and the capture saw the connection start: decode from the first byte
      let transport = forced;
      if (!transport) {
        // a channel protocol name leaves the framing open: look at the bytes
        const g = guessFraming(concatBytes(c2s.bytes > 0 ? c2s.chunks : s2c.chunks), final);
        if (g === null) return;
        transport = g !== 'none' && g.protocol === 'websocket' ? 'websocket' : 'spdy/3.1';
      }
      this.startJoinedSession(transport, true, time, out);
      for (const x of ['clientToServer', 'serverToClient'] as const) {
        const src = this.sniff[x];
        this.sniff[x] = newSniff(0);
        if (src.bytes > 0) this.session!.bytes(x, concatBytes(src.chunks), time, out);
      }
      return;
    }
    // not HTTP: a joined session (or something else). Look at both directions: SPDY control
    // frames in either one decide; otherwise wait while one of them is still undecided.
    const guesses: Array<{ d: Direction; g: FramingGuess }> = [];
    let undecided = false;
    for (const d of ['clientToServer', 'serverToClient'] as const) {
      const s = this.sniff[d];
      if (s.bytes === 0) continue;
      if (!worthGuessing(s, final, SNIFF_LIMIT)) {
        undecided = true;
        continue;
      }
      const g = guessFraming(concatBytes(s.chunks), final || s.bytes >= SNIFF_LIMIT, undefined, this.constraints(d, s));
      s.guessedAt = s.bytes;
      if (g === null) undecided = true;
      else if (g !== 'none') guesses.push({ d, g });
    }
    // Masked frames from the client are WebSocket beyond doubt (SPDY found in the other
    // direction is then the tunnel's payload); otherwise SPDY's control word decides.
    const pick =
      guesses.find((x) => x.g.protocol === 'websocket' && x.g.sender === 'client' && x.g.frames >= 2) ??
      guesses.find((x) => x.g.protocol === 'spdy') ??
      (undecided ? undefined : guesses[0]);
    if (!pick) {
      if (undecided) return;
    } else {
      const { d, g } = pick;
      if ((g.sender === 'client' && d === 'serverToClient') || (g.sender === 'server' && d === 'clientToServer')) {
        this.swap(time, `${g.protocol === 'websocket' ? (g.sender === 'client' ? 'masked' : 'unmasked') + ' WebSocket frames' : 'SPDY stream ids'} show the other side is the client`, out);
      }
      const transport: Transport = forced ?? (g.protocol === 'spdy' ? 'spdy/3.1' : 'websocket');
      this.startJoinedSession(transport, false, time, out);
      // replay what was buffered, each direction finding its first whole frame
      // (a swap above already exchanged the sniff buffers)
      for (const x of ['clientToServer', 'serverToClient'] as const) this.align[x] = this.sniff[x];
      this.sniff.clientToServer = newSniff(0);
      this.sniff.serverToClient = newSniff(0);
      // twice: the session may find the sides swapped while the first direction replays
      for (let pass = 0; pass < 2; pass++) for (const x of ['clientToServer', 'serverToClient'] as const) this.tryAlign(x, time, final, out);
      return;
    }
    if (final || c2s.bytes >= SNIFF_LIMIT || s2c.bytes >= SNIFF_LIMIT || (hc === 'no' && hs === 'no' && c2s.bytes > 0 && s2c.bytes > 0 && forced === undefined)) {
      if (forced) {
        // the user said what it is, but no frame start was found: decode from the first byte
        this.startJoinedSession(forced, false, time, out);
        for (const x of ['clientToServer', 'serverToClient'] as const) {
          const src = this.sniff[x];
          this.sniff[x] = newSniff(0);
          if (src.bytes > 0) this.session!.bytes(x, concatBytes(src.chunks), time, out);
        }
        return;
      }
      if (c2s.bytes + s2c.bytes === 0) return;
      this.becomeOpaque(time, out);
    }
  }

  private becomeOpaque(time: number, out: TimelineEvent[]): void {
    this.phase = 'opaque';
    this.sniff.clientToServer = newSniff(0);
    this.sniff.serverToClient = newSniff(0);
    out.push({ kind: 'connection-classified', time, connection: this.id, protocol: 'opaque', inferred: true, forced: false });
  }

  /**
   * What TCP tells about these bytes: with the SYN seen, who sent them is
   * known, and bytes from offset 0 are the start of the stream, so a first
   * frame must start there.
   */
  private constraints(d: Direction, s: SniffBuffer): GuessConstraints {
    if (this.openEv.startedLate) return {};
    return { sender: d === 'clientToServer' ? 'client' : 'server', maxStart: s.offset === 0 ? 0 : undefined };
  }

  /** The session found the sides the other way round: map directions the other way from now on. */
  private swapFromSession(time: number, why: string, out: TimelineEvent[]): void {
    this.swapped = !this.swapped;
    [this.client, this.server] = [this.server, this.client];
    [this.next.clientToServer, this.next.serverToClient] = [this.next.serverToClient, this.next.clientToServer];
    const a = this.align;
    this.align = {};
    if (a.clientToServer) this.align.serverToClient = a.clientToServer;
    if (a.serverToClient) this.align.clientToServer = a.serverToClient;
    out.push({ kind: 'connection-swap', time: this.lastTime || time, connection: this.id, client: this.client, server: this.server, why });
  }

  private swap(time: number, why: string, out: TimelineEvent[]): void {
    this.swapped = !this.swapped;
    [this.client, this.server] = [this.server, this.client];
    [this.sniff.clientToServer, this.sniff.serverToClient] = [this.sniff.serverToClient, this.sniff.clientToServer];
    [this.next.clientToServer, this.next.serverToClient] = [this.next.serverToClient, this.next.clientToServer];
    out.push({ kind: 'connection-swap', time, connection: this.id, client: this.client, server: this.server, why });
  }

  private startHttp(time: number, swap: boolean, out: TimelineEvent[]): void {
    if (swap) this.swap(time, 'the side that sends HTTP requests is the client', out);
    this.phase = 'http';
    const limits = { maxHeadBytes: this.ctx.limits.maxHttpHeadBytes, maxHeaders: this.ctx.limits.maxHttpHeaders, maxHeldBytes: this.ctx.limits.maxPendingUpgradeBytes };
    this.req = new HttpParser({ type: 'request', mode: 'inspect', connection: this.id, limits, baseOffset: this.sniff.clientToServer.offset });
    this.resp = new HttpParser({ type: 'response', mode: 'inspect', connection: this.id, limits, baseOffset: this.sniff.serverToClient.offset });
    out.push({ kind: 'connection-classified', time, connection: this.id, protocol: 'http', inferred: false, forced: false });
    const c2s = this.sniff.clientToServer.chunks;
    const s2c = this.sniff.serverToClient.chunks;
    this.sniff.clientToServer = newSniff(0);
    this.sniff.serverToClient = newSniff(0);
    for (const c of c2s) if (this.phase === 'http') this.httpData('clientToServer', c, time, out);
    for (const c of s2c) {
      if (this.phase === 'http') this.httpData('serverToClient', c, time, out);
      else this.route('serverToClient', c, this.next.serverToClient - c.length, time, out);
    }
  }

  /** HTTP/2 from here: replay what the sniffer holds (nothing after an h2c upgrade). */
  private startHttp2(time: number, upgradedRequest: RequestSummary | null, out: TimelineEvent[]): void {
    this.phase = 'http2';
    out.push({ kind: 'connection-classified', time, connection: this.id, protocol: 'http2', inferred: false, forced: false });
    this.h2 = new Http2Connection(
      {
        connection: this.id,
        client: endpointText(this.client),
        server: endpointText(this.server),
        headers: (h) => this.headers(h),
        query: (q) => this.secretQuery(q),
        keepRequest: (r) => {
          if (this.ctx.requestsKept >= MAX_REQUESTS_KEPT) return false;
          this.ctx.requestsKept++;
          this.summaries.push(r);
          return true;
        },
        noteDiagnostic: () => undefined,
      },
      { clientToServer: this.sniff.clientToServer.offset, serverToClient: this.sniff.serverToClient.offset },
      upgradedRequest,
    );
    for (const d of ['clientToServer', 'serverToClient'] as const) {
      const held = this.sniff[d];
      this.sniff[d] = newSniff(0);
      for (const c of held.chunks) this.h2.bytes(d, c, time, out);
    }
  }

  private startJoinedSession(transport: Transport, freshHeaders: boolean, time: number, out: TimelineEvent[]): void {
    const protocol = this.decodeAs && !isFramingName(this.decodeAs) ? this.decodeAs : null;
    out.push({ kind: 'connection-classified', time, connection: this.id, protocol: transportProtocol(transport), inferred: true, forced: this.decodeAs !== undefined });
    const info = requestInfo('', '');
    if (protocol && /portforward/i.test(protocol)) info.kind = 'portforward';
    else if (protocol && /channel\.k8s\.io$/i.test(protocol)) info.kind = 'exec';
    // Joined after the handshake, a WebSocket's subprotocol is unknown: unless the user named
    // it, its first messages decide whether it is Kubernetes (other software's frames are
    // never read as channels).
    const choice: SessionChoice = transport === 'websocket' && this.decodeAs === undefined ? 'by-messages' : 'kubernetes';
    this.beginSession(transport, protocol, null, info, [], true, null, time, { clientToServer: this.sniff.clientToServer.offset, serverToClient: this.sniff.serverToClient.offset }, freshHeaders, out, choice);
    if (this.openEv.startedLate) {
      // What the session did before the capture began is not in it: its
      // summary is not the whole story, and exit code 0 would say it was.
      this.diag(
        out,
        time,
        'clientToServer',
        'TIMELINE_JOINED_MIDWAY',
        'session',
        'the capture began after this session was set up: its request, negotiated protocol and earlier bytes are missing; decoded from the first whole frame, roles inferred',
        this.sniff.clientToServer.offset,
      );
    }
  }

  /** Mid-session: skip to the first whole frame of direction `d`, then feed the session. */
  private tryAlign(d: Direction, time: number, final: boolean, out: TimelineEvent[]): void {
    const a = this.align[d];
    if (!a) return;
    if (a.bytes === 0) {
      if (final) delete this.align[d];
      return;
    }
    if (!worthGuessing(a, final, SNIFF_LIMIT)) return;
    const buf = concatBytes(a.chunks);
    // the outer framing (a tunnel is WebSocket outside)
    const want = this.session!.summaryTransport() === 'spdy/3.1' ? 'spdy' : 'websocket';
    const g = guessFraming(buf, final || a.bytes >= SNIFF_LIMIT, want, this.constraints(d, a));
    if (g === null) {
      a.guessedAt = a.bytes;
      return;
    }
    delete this.align[d];
    let start = 0;
    if (g === 'none') {
      this.diag(out, time, d, 'TIMELINE_NO_FRAME_START', 'connection', `no ${want} frame found in the first ${buf.length} bytes; decoding from the first byte`, a.offset);
    } else start = g.start;
    if (start > 0) this.diag(out, time, d, 'TIMELINE_JOINED_MID_FRAME', 'connection', `capture starts inside a frame; ${start} bytes skipped to the first whole frame`, a.offset);
    this.session!.rebase(d, a.offset + start);
    this.session!.bytes(d, buf.subarray(start), time, out);
  }

  // --- HTTP --------------------------------------------------------------------------

  private httpData(d: Direction, bytes: Uint8Array, time: number, out: TimelineEvent[]): void {
    const p = d === 'clientToServer' ? this.req : this.resp;
    if (!p || p.done) return;
    this.httpEvents(d, p.push(bytes), time, out);
  }

  private httpEvents(d: Direction, events: HttpParseEvent[], time: number, out: TimelineEvent[]): void {
    for (const ev of events) {
      if (this.phase !== 'http') return;
      switch (ev.kind) {
        case 'request-head': {
          const rec: RequestRecord = { head: ev.head, index: this.requests.length, time, bodyLength: 0, summary: null };
          this.requests.push(rec);
          // only the last few requests matter for answering; keep the list short on long keep-alive connections
          if (this.requests.length > 1024 && this.respIndex > 512) {
            this.requests.splice(0, 512);
            this.respIndex -= 512;
            for (const r of this.requests) r.index -= 512;
          }
          this.resp!.expectResponse({ method: ev.head.method, upgrade: ev.head.upgrade });
          break;
        }
        case 'response-head': {
          const idx = this.respIndex;
          if (ev.head.status === 101) this.switchHead = ev.head;
          this.response = { head: ev.head, index: idx, body: [], bodyKept: 0, bodyLength: 0 };
          break;
        }
        case 'body':
          if (d === 'clientToServer') {
            const r = this.requests[this.requests.length - 1];
            if (r) r.bodyLength += ev.bytes.length;
          } else if (this.response) {
            const r = this.response;
            r.bodyLength += ev.bytes.length;
            const room = this.ctx.limits.maxHttpBodyKept - r.bodyKept;
            if (room > 0) {
              const keep = copyBytes(ev.bytes, 0, room);
              r.body.push(keep);
              r.bodyKept += keep.length;
            }
          }
          break;
        case 'message-end':
          if (d === 'clientToServer') this.requestDone(out);
          else this.responseDone(time, out);
          break;
        case 'upgrade-pending':
          break;
        case 'switch':
          this.upgraded(ev.rest, ev.offset, time, out);
          return;
        case 'diagnostic':
          out.push({ kind: 'diagnostic', time, connection: this.id, session: null, direction: d, streamId: null, error: ev.error });
          break;
        default: {
          const never: never = ev;
          throw new Error(`unhandled HTTP event ${(never as { kind: string }).kind}`);
        }
      }
    }
  }

  private requestDone(out: TimelineEvent[]): void {
    const rec = this.requests[this.requests.length - 1];
    if (!rec) return;
    const h = rec.head;
    const offered = offeredProtocols(h.headers);
    out.push({
      kind: 'http-request',
      time: rec.time,
      connection: this.id,
      direction: 'clientToServer',
      index: rec.index,
      method: h.method,
      target: this.ctx.showSecrets ? h.target : redactTarget(h.target, h.query),
      path: h.path,
      query: this.secretQuery(h.query),
      version: h.version,
      headers: this.headers(h.headers),
      upgrade: h.upgrade,
      offeredProtocols: this.ctx.showSecrets ? offered : offered.map(redactProtocol),
      bodyLength: rec.bodyLength,
      offset: h.offset,
    });
    if (this.ctx.requestsKept < MAX_REQUESTS_KEPT) {
      this.ctx.requestsKept++;
      rec.summary = {
        connection: this.id,
        client: endpointText(this.client),
        server: endpointText(this.server),
        method: h.method,
        path: h.path,
        query: this.secretQuery(h.query),
        status: null,
        upgrade: h.upgrade,
        retriedBy: null,
        time: rec.time,
      };
      this.summaries.push(rec.summary);
    }
  }

  private responseDone(time: number, out: TimelineEvent[]): void {
    const r = this.response;
    if (!r) return;
    this.response = null;
    const h = r.head;
    const rec = this.requests.find((x) => x.index === r.index) ?? null;
    const chosen = chosenProtocol(h.headers);
    out.push({
      kind: 'http-response',
      time,
      connection: this.id,
      direction: 'serverToClient',
      index: r.index,
      status: h.status,
      reason: h.reason,
      version: h.version,
      headers: this.headers(h.headers),
      chosenProtocol: chosen === null || this.ctx.showSecrets ? chosen : redactProtocol(chosen),
      bodyLength: r.bodyLength,
      body: r.bodyLength > 0 && r.bodyLength <= this.ctx.limits.maxHttpBodyKept ? concatBytes(r.body) : null,
      offset: h.offset,
    });
    if (h.status >= 100 && h.status < 200 && h.status !== 101) return; // interim
    this.respIndex++;
    if (rec?.summary) rec.summary.status = h.status;
    if (h.status === 101) return; // the switch event follows
    if (rec?.head.upgrade) {
      const message = statusMessage(r.bodyLength <= this.ctx.limits.maxHttpBodyKept ? concatBytes(r.body) : null);
      out.push({ kind: 'upgrade-refused', time, connection: this.id, index: rec.index, status: h.status, upgrade: rec.head.upgrade, path: rec.head.path, message });
      if (/websocket/i.test(rec.head.upgrade) && rec.summary) {
        this.ctx.refusedUpgrades.push({ connection: this.id, clientAddress: this.client.address, path: rec.head.path, time, request: rec.summary });
        if (this.ctx.refusedUpgrades.length > MAX_REFUSED_KEPT) this.ctx.refusedUpgrades.shift();
      }
      this.httpEvents('clientToServer', this.req!.refuseUpgrade(), time, out);
    } else if (rec?.head.method === 'CONNECT' && !switchesProtocol(rec.head.method, h.status)) {
      // no tunnel: what the client sent after its CONNECT is HTTP again (a 2xx switches, below)
      this.httpEvents('clientToServer', this.req!.refuseUpgrade(), time, out);
    }
  }

  private upgraded(rest: Uint8Array[], offset: number, time: number, out: TimelineEvent[]): void {
    const rec = this.requests.find((x) => x.index === this.respIndex - 1) ?? null;
    if (rec?.head.method === 'CONNECT') return this.startTunnel(rec.head.target, rest, offset, time, out);
    const respHead = this.switchHead;
    const upgrade = (respHead ? headerValue(respHead.headers, 'upgrade') : null) ?? rec?.head.upgrade ?? '';
    let transport: Transport;
    let protocol: string | null;
    // --- not Kubernetes (issue 12 §3): what the upgraded bytes carry
    let choice: SessionChoice = 'kubernetes';
    if (/websocket/i.test(upgrade)) {
      protocol = respHead ? headerValue(respHead.headers, 'sec-websocket-protocol') : null;
      transport = protocol && /^spdy\/3\.1\+/i.test(protocol) ? 'websocket+spdy/3.1' : 'websocket';
      if (!this.decodeAs) {
        const h = rec?.head;
        choice = websocketApplication(protocol, h ? offeredProtocols(h.headers) : [], h?.path ?? '', requestInfo(h?.path ?? '', h?.query ?? ''));
      }
    } else if (/^h2c$/i.test(upgrade.trim()) && !this.decodeAs) {
      // HTTP/2 over cleartext (RFC 7540 §3.2): the client's preface follows, then frames both ways
      const held = this.req ? this.req.acceptUpgrade() : [];
      let heldBytes = 0;
      for (const c of held) heldBytes += c.length;
      this.sniff.clientToServer = newSniff(this.req ? this.req.offset - heldBytes : this.next.clientToServer);
      this.sniff.serverToClient = newSniff(offset);
      this.req = this.resp = null;
      this.startHttp2(time, rec?.summary ?? null, out);
      for (const c of held) this.h2!.bytes('clientToServer', c, time, out);
      for (const c of rest) this.h2!.bytes('serverToClient', c, time, out);
      return;
    } else if (upgrade !== '' && !/spdy\/3/i.test(upgrade) && !this.decodeAs) {
      // another protocol (Docker's `tcp`, …): its bytes as they are
      transport = 'raw';
      protocol = upgrade;
      choice = 'raw';
    } else {
      if (!/spdy\/3/i.test(upgrade)) this.diag(out, time, 'serverToClient', 'TIMELINE_UNKNOWN_UPGRADE', 'connection', `switched protocols without saying to what; decoding as SPDY/3.1`, offset);
      protocol = respHead ? headerValue(respHead.headers, 'x-stream-protocol-version') : null;
      transport = 'spdy/3.1';
    }
    if (protocol === '') protocol = null;
    const forced = forcedTransport(this.decodeAs);
    if (forced) transport = forced;
    if (this.decodeAs && !isFramingName(this.decodeAs)) protocol = this.decodeAs;
    const head = rec?.head ?? null;
    const info = head ? requestInfo(head.path, head.query) : requestInfo('', '');
    if (!head && protocol && /portforward/i.test(protocol)) info.kind = 'portforward';
    const offered = head ? offeredProtocols(head.headers) : [];
    // kubectl retries a refused WebSocket upgrade over SPDY on a new connection
    let retryOf: number | null = null;
    let refused: DecoderContext['refusedUpgrades'][number] | undefined;
    if (head) {
      for (let i = this.ctx.refusedUpgrades.length - 1; i >= 0; i--) {
        const x = this.ctx.refusedUpgrades[i]!;
        if (x.connection !== this.id && x.clientAddress === this.client.address && x.path === head.path && time - x.time <= RETRY_WINDOW_US && x.request.retriedBy === null) {
          refused = x;
          retryOf = x.connection;
          break;
        }
      }
    }
    const held = this.req ? this.req.acceptUpgrade() : [];
    let heldBytes = 0;
    for (const c of held) heldBytes += c.length;
    const base = { clientToServer: this.req ? this.req.offset - heldBytes : this.next.clientToServer, serverToClient: offset };
    this.beginSession(
      transport,
      protocol,
      head ? { method: head.method, path: head.path, query: this.secretQuery(head.query) } : null,
      info,
      this.ctx.showSecrets ? offered : offered.map(redactProtocol),
      false,
      retryOf,
      time,
      base,
      true,
      out,
      choice,
      respHead ? headerValue(respHead.headers, 'sec-websocket-extensions') : null,
    );
    if (transport !== 'raw' && transport !== 'spdy/3.1' && head && respHead) {
      // RFC 6455 §4.2.2: the accept answers the key; a client must fail a connection where it does not
      const key = headerValue(head.headers, 'sec-websocket-key');
      const accept = headerValue(respHead.headers, 'sec-websocket-accept');
      if (key !== null && accept !== null && !checkAccept(key.trim(), accept.trim())) {
        this.diag(out, time, 'serverToClient', 'TIMELINE_WEBSOCKET_BAD_ACCEPT', 'session', "the server's Sec-WebSocket-Accept does not answer the client's Sec-WebSocket-Key (a client must fail this connection)", respHead.offset);
      }
    }
    // --- end not Kubernetes
    if (refused) refused.request.retriedBy = this.session!.id;
    this.req = this.resp = null;
    for (const c of held) this.session!.bytes('clientToServer', c, time, out);
    for (const c of rest) this.session!.bytes('serverToClient', c, time, out);
  }

  private switchHead: HttpResponseHead | null = null;
  private tunnel: ConnectTunnel | null = null;

  /** The tunnel from `start` on (each direction's outer offset of its first byte); the connection's bytes go to it from now. */
  private openTunnel(target: string, start: Record<Direction, number>): ConnectTunnel {
    this.phase = 'tunnel';
    const open: ConnectionOpen = { ...this.openEv, client: this.client, server: this.server, startedLate: false };
    this.tunnel = new ConnectTunnel(open, this.ctx.tlsKeys ?? null, target, start, (o) => new ConnectionDecoder(o, this.ctx, undefined));
    return this.tunnel;
  }

  /** A SOCKS5 handshake ended (socks/handshake.ts): after a success the rest is the tunnel, as after a CONNECT's 2xx. */
  private startSocksTunnel(socks: Extract<Socks5Reading, { kind: 'done' }>, time: number, out: TimelineEvent[]): void {
    out.push({ kind: 'connection-classified', time, connection: this.id, protocol: 'socks5', inferred: false, forced: false });
    const c2s = this.sniff.clientToServer;
    const s2c = this.sniff.serverToClient;
    this.sniff.clientToServer = newSniff(0);
    this.sniff.serverToClient = newSniff(0);
    if (socks.reply !== 0 || socks.command !== 'connect') {
      // refused, or not a byte stream to one target: nothing to decode after it
      this.phase = 'opaque';
      return;
    }
    const start = { clientToServer: c2s.offset + socks.clientBytes, serverToClient: s2c.offset + socks.serverBytes };
    const tunnel = this.openTunnel(socks.target, start);
    feedTunnel(tunnel, 'clientToServer', c2s.chunks, socks.clientBytes, start.clientToServer, time, out);
    feedTunnel(tunnel, 'serverToClient', s2c.chunks, socks.serverBytes, start.serverToClient, time, out);
  }

  /**
   * A CONNECT was answered 2xx: from here both directions carry the tunnel
   * (connect-tunnel.ts). `rest`: the server's bytes after its head, at
   * `offset`; the client's bytes after its request wait in the request parser.
   */
  private startTunnel(target: string, rest: Uint8Array[], offset: number, time: number, out: TimelineEvent[]): void {
    const held = this.req ? this.req.acceptUpgrade() : [];
    let heldBytes = 0;
    for (const h of held) heldBytes += h.length;
    // the client's held bytes are the last it sent: the tunnel starts that far back
    const start = { clientToServer: this.next.clientToServer - heldBytes, serverToClient: offset };
    this.req = this.resp = null;
    const tunnel = this.openTunnel(target, start);
    feedTunnel(tunnel, 'clientToServer', held, 0, start.clientToServer, time, out);
    feedTunnel(tunnel, 'serverToClient', rest, 0, offset, time, out);
  }

  private beginSession(
    transport: Transport,
    protocol: string | null,
    request: { method: string; path: string; query: string } | null,
    info: ReturnType<typeof requestInfo>,
    offered: string[],
    inferred: boolean,
    retryOf: number | null,
    time: number,
    baseOffset: Record<Direction, number>,
    freshHeaders: boolean,
    out: TimelineEvent[],
    choice: SessionChoice = 'kubernetes',
    websocketExtensions: string | null = null,
  ): void {
    const id = this.ctx.nextSession++;
    this.phase = 'session';
    this.session = createSession(
      {
        id,
        connection: this.id,
        client: this.client,
        server: this.server,
        transport,
        protocol,
        request,
        info,
        offeredProtocols: offered,
        inferred,
        retryOf,
        time,
        baseOffset,
        freshHeaders,
        sidesKnown: !this.openEv.startedLate || this.swapped || !inferred,
        onSwap: (why, swapOut) => this.swapFromSession(time, why, swapOut),
        websocketExtensions,
      },
      this.ctx,
      choice,
    );
    if (!inferred) out.push({ kind: 'upgrade', time, connection: this.id, session: id, transport, protocol });
    this.session.start(out);
  }

  // --- helpers -------------------------------------------------------------------------

  private headers(h: HeaderList): HeaderList {
    return this.ctx.showSecrets ? h.map(([k, v]) => [k, v]) : redactHeaders(h);
  }

  private secretQuery(q: string): string {
    return this.ctx.showSecrets ? q : redactQuery(q);
  }

  private diag(out: TimelineEvent[], time: number, d: Direction, code: string, scope: 'connection' | 'session', message: string, offset: number): void {
    const error = new KubewireError('timeline', code, scope, message, { connection: this.id, direction: d, offset });
    if (this.session) this.session.report(d, error, time, out);
    else out.push({ kind: 'diagnostic', time, connection: this.id, session: null, direction: d, streamId: null, error });
  }
}

/** Does the client's first data start with the HTTP/2 preface? `maybe`: too short to tell. */
function prefaceMatch(b: Uint8Array): 'yes' | 'no' | 'maybe' {
  for (let i = 0; i < b.length; i++) if (b[i] !== CLIENT_PREFACE_BYTES[i]) return 'no';
  return b.length >= CLIENT_PREFACE_BYTES.length ? 'yes' : 'maybe';
}

function newSniff(offset: number): SniffBuffer {
  return { chunks: [], bytes: 0, offset, guessedAt: 0 };
}

function head(s: SniffBuffer, n: number): Uint8Array {
  const first = s.chunks[0]!;
  if (first.length >= n || s.chunks.length === 1) return first.subarray(0, n);
  // only the chunks that hold the first n bytes: bytes may come one at a time, and the
  // sniff looks at every one (copying the whole buffer each time was quadratic)
  const out = new Uint8Array(Math.min(n, s.bytes));
  let o = 0;
  for (const c of s.chunks) {
    if (o >= out.length) break;
    const take = Math.min(c.length, out.length - o);
    out.set(c.subarray(0, take), o);
    o += take;
  }
  return out;
}

/** Bytes already in hand to a tunnel just opened: `chunks` after their first `skip` bytes, which start at outer offset `at`. */
function feedTunnel(tunnel: ConnectTunnel, d: Direction, chunks: Uint8Array[], skip: number, at: number, time: number, out: TimelineEvent[]): void {
  for (const c of chunks) {
    if (skip >= c.length) {
      skip -= c.length;
      continue;
    }
    const part = skip > 0 ? c.subarray(skip) : c;
    skip = 0;
    tunnel.data(d, part, at, time, out);
    at += part.length;
  }
}

function offeredProtocols(h: HeaderList): string[] {
  return [...headerTokens(h, 'x-stream-protocol-version'), ...headerTokens(h, 'sec-websocket-protocol')];
}

function chosenProtocol(h: HeaderList): string | null {
  return headerValue(h, 'x-stream-protocol-version') ?? headerValue(h, 'sec-websocket-protocol');
}

/** Longest plain-text refusal shown (the kubelet writes one line). */
const PLAIN_MESSAGE_MAX = 200;

/**
 * What a refusal says: a Status object's message (the API server's), or a
 * plain-text body's first line (the kubelet's handlers write the error so).
 */
function statusMessage(body: Uint8Array | null): string | null {
  if (!body || body.length === 0) return null;
  const text = Buffer.from(body.buffer, body.byteOffset, body.length).toString('utf8');
  try {
    const o = JSON.parse(text) as { message?: unknown };
    return typeof o.message === 'string' ? o.message : null;
  } catch {
    const line = text.split(/\r?\n/, 1)[0]!.trim();
    // printable text only: a binary or HTML body says nothing worth a line
    if (!line || line.startsWith('<') || /[\u0000-\u0008\u000e-\u001f\ufffd]/.test(line)) return null;
    return line.length > PLAIN_MESSAGE_MAX ? `${line.slice(0, PLAIN_MESSAGE_MAX)}…` : line;
  }
}

function redactTarget(target: string, query: string): string {
  const r = redactQuery(query);
  return r === query ? target : target.replace(query, r);
}

function isFramingName(d: DecodeAs): boolean {
  return d === 'spdy' || d === 'websocket' || d === 'websocket+spdy';
}

/** The framing a `decodeAs` value implies; undefined when it leaves framing to the content. */
export function forcedTransport(d: DecodeAs | undefined): Transport | undefined {
  if (d === undefined) return undefined;
  if (d === 'spdy') return 'spdy/3.1';
  if (d === 'websocket') return 'websocket';
  if (d === 'websocket+spdy' || /^spdy\/3\.1\+/i.test(d)) return 'websocket+spdy/3.1';
  if (/^v5\./.test(d) || /base64/.test(d)) return 'websocket';
  if (d === 'portforward.k8s.io') return 'spdy/3.1';
  return undefined;
}

function transportProtocol(t: Transport): ConnectionProtocol {
  return t === 'spdy/3.1' ? 'spdy' : t === 'websocket' ? 'websocket' : 'websocket+spdy';
}
