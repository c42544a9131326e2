/**
 * Is a WebSocket session Kubernetes? A Kubernetes server only ever chooses
 * one of its own subprotocols, so a chosen subprotocol decides. Without one
 * (kubelets accept a client that offers none, as `channel.k8s.io`), the URL
 * decides when it is an exec, attach or port-forward path; otherwise the
 * first messages do: channel messages start with a channel byte (0–4), the
 * port-forward tunnel's with a SPDY frame. So
 * do they for a WebSocket session the capture joined after its upgrade (no
 * handshake to go by).
 * Anything else is shown as plain WebSocket, never read as channels, so
 * traffic of other software gets no Kubernetes diagnostics.
 */
import type { Direction, KubewireError } from '../common/errors.js';
import { pathSegments } from '../http/target.js';
import { WebSocketFrameDecoder } from '../websocket/decoder.js';
import type { WebSocketFrameEvent } from '../websocket/types.js';
import { PORT_FORWARD_PROTOCOL, REMOTE_COMMAND_BASE64_V4, REMOTE_COMMAND_V4, TUNNEL_PROTOCOL_PREFIX, remoteCommandProtocol } from '../k8s/protocols.js';
import type { TimelineEvent, Transport } from './events.js';
import type { RequestInfo } from './request-info.js';
import type { SessionInterpreter } from './interpreter.js';
import type { InterpretedSessionSummary, SessionSummary } from './summary-types.js';
import { copyBytes } from '../common/bytes.js';
import { CLOSE_SIGNAL } from '../k8s/channel.js';
import { tunnelVerdict } from './sniff-framing.js';

export type WebSocketApplication = 'kubernetes' | 'websocket' | 'by-messages';

/** Path segments that name a Kubernetes streaming operation (also behind a proxy's prefix). */
const OPERATION_SEGMENTS = new Set(['exec', 'attach', 'portforward']);
/** Channel-shaped messages that make a subprotocol-less session Kubernetes. */
const CHANNEL_EVIDENCE = 8;
/** Bytes held while the messages decide; past it, what was seen decides. */
const MAX_HELD_BYTES = 64 * 1024;
/** Messages of a joined session after which the tunnel check decides with what it has. */
const MAX_TUNNEL_MESSAGES = 64;
/** Highest channel of the remote-command protocols (resize). */
const MAX_CHANNEL = 4;

export function isKubernetesProtocol(p: string): boolean {
  if (remoteCommandProtocol(p) !== null) return true;
  return p === PORT_FORWARD_PROTOCOL || p === REMOTE_COMMAND_V4 || p === REMOTE_COMMAND_BASE64_V4 || p.startsWith(TUNNEL_PROTOCOL_PREFIX);
}

/** What a WebSocket upgrade that the capture saw carries, from its handshake. */
export function websocketApplication(chosen: string | null, offered: string[], path: string, info: RequestInfo): WebSocketApplication {
  if (chosen !== null && chosen !== '') return isKubernetesProtocol(chosen) ? 'kubernetes' : 'websocket';
  if (offered.some((p) => p !== '' && isKubernetesProtocol(p))) return 'kubernetes';
  if (info.kind !== 'unknown') return 'kubernetes';
  if (pathSegments(path).some((s) => OPERATION_SEGMENTS.has(s.toLowerCase()))) return 'kubernetes';
  return 'by-messages';
}

/** Would a data frame's payload be a message of a binary (or base64) channel protocol? */
export function looksLikeChannelMessage(kind: 'text' | 'binary', payload: Uint8Array): boolean {
  if (payload.length === 0) return false;
  const b = payload[0]!;
  if (kind === 'text') return b >= 0x30 && b <= 0x30 + MAX_CHANNEL;
  // v5's close signal: channel 255, then the channel closed
  return b <= MAX_CHANNEL || (b === CLOSE_SIGNAL && payload.length === 2 && payload[1]! <= MAX_CHANNEL);
}

type Held =
  | { op: 'bytes'; d: Direction; chunk: Uint8Array; time: number }
  | { op: 'gap'; d: Direction; size: number; time: number }
  | { op: 'rebase'; d: Direction; offset: number };

/**
 * A subprotocol-less WebSocket session whose URL says nothing: holds the
 * bytes (bounded) until its first messages show whether they are channel
 * messages, then hands everything to the interpreter that fits. Its
 * `session-start` comes out then, with the time of the upgrade.
 */
export class WebSocketByMessages implements SessionInterpreter {
  readonly id: number;
  private inner: SessionInterpreter | null = null;
  private readonly held: Held[] = [];
  private heldBytes = 0;
  private readonly look: Record<Direction, WebSocketFrameDecoder>;
  private readonly lookDecoder: (d: Direction, baseOffset: number) => WebSocketFrameDecoder;
  private channelLike = 0;
  private other = 0;
  /**
   * Per direction: the next data frame is the first after the capture joined
   * it (a rebase). Finding the first whole frame of a stream joined midway may
   * take a few payload bytes for one short frame (at most one: see the
   * WebSocket decoder's resynchronisation), so that frame is no evidence
   * either way: one impostor must not make Kubernetes traffic plain WebSocket.
   */
  private readonly firstAfterJoin: Record<Direction, boolean> = { clientToServer: false, serverToClient: false };
  private readonly pendingReports: Array<{ d: Direction; error: KubewireError; time: number }> = [];
  /** Joined after the upgrade: the data payloads so far, per direction, for the tunnel check. */
  private payloads: Record<Direction, Uint8Array[]> | null;
  private payloadCount = 0;
  private payloadsLooked = 0;

  constructor(
    id: number,
    baseOffset: Record<Direction, number>,
    private readonly make: (app: 'kubernetes' | 'websocket') => SessionInterpreter,
    joined = false,
  ) {
    this.id = id;
    this.payloads = joined ? { clientToServer: [], serverToClient: [] } : null;
    this.lookDecoder = (d, base) => new WebSocketFrameDecoder({ mode: 'inspect', direction: d, enforceMasking: false, baseOffset: base, unmask: 'copy' });
    this.look = { clientToServer: this.lookDecoder('clientToServer', baseOffset.clientToServer), serverToClient: this.lookDecoder('serverToClient', baseOffset.serverToClient) };
  }

  start(_out: TimelineEvent[]): void {
    // the session-start of the interpreter chosen comes out when the messages decide
  }

  bytes(d: Direction, chunk: Uint8Array, time: number, out: TimelineEvent[]): void {
    if (this.inner) return this.inner.bytes(d, chunk, time, out);
    if (chunk.length === 0) return;
    // the input is a view valid only until the next event; the look decoder reads the held
    // copy, so the payload views it gives (into that copy, or fresh memory) stay valid too
    const copy = copyBytes(chunk);
    this.held.push({ op: 'bytes', d, chunk: copy, time });
    this.heldBytes += chunk.length;
    this.watch(d, this.look[d].push(copy));
    this.decideIfDone(false, out);
  }

  gap(d: Direction, size: number, time: number, out: TimelineEvent[]): void {
    if (this.inner) return this.inner.gap(d, size, time, out);
    this.held.push({ op: 'gap', d, size, time });
    this.watch(d, this.look[d].gap(size));
    this.decideIfDone(false, out);
  }

  end(time: number, tcp: SessionSummary['tcpClose'], out: TimelineEvent[]): void {
    if (!this.inner) this.decideIfDone(true, out);
    this.inner!.end(time, tcp, out);
  }

  summary(): InterpretedSessionSummary {
    // before a decision (a summary taken mid-decode): as plain WebSocket, the cautious reading
    return (this.inner ?? this.make('websocket')).summary();
  }

  report(d: Direction, error: KubewireError, time: number, out: TimelineEvent[]): void {
    // before the decision it is not known whether this is Kubernetes: said by the interpreter chosen
    if (this.inner) this.inner.report(d, error, time, out);
    else this.pendingReports.push({ d, error, time });
  }

  rebase(d: Direction, offset: number): void {
    if (this.inner) return this.inner.rebase(d, offset);
    // a session the capture joined: the first whole frame of `d`, found before its bytes come
    this.held.push({ op: 'rebase', d, offset });
    this.look[d] = this.lookDecoder(d, offset);
    this.firstAfterJoin[d] = true;
  }

  summaryTransport(): Transport {
    return 'websocket';
  }

  private watch(d: Direction, events: WebSocketFrameEvent[]): void {
    for (const ev of events) {
      if (ev.kind === 'text' || ev.kind === 'binary') {
        if (this.payloads) {
          this.payloads[d].push(ev.payload);
          this.payloadCount++;
        }
        if (this.firstAfterJoin[d]) {
          this.firstAfterJoin[d] = false;
          continue;
        }
        if (looksLikeChannelMessage(ev.kind, ev.payload)) this.channelLike++;
        else this.other++;
      }
    }
  }

  private decideIfDone(final: boolean, out: TimelineEvent[]): void {
    let app: 'kubernetes' | 'websocket' | null = null;
    const bounded = final || this.heldBytes >= MAX_HELD_BYTES;
    if (this.payloads) {
      // joined: the port-forward tunnel's SPDY stream is cut anywhere into messages, so
      // its pieces look like anything; SPDY frames found across them decide. Looked at
      // only when a message came (bytes may come one at a time: each look copies them all)
      if (!bounded && this.payloadCount === this.payloadsLooked) return;
      this.payloadsLooked = this.payloadCount;
      const tunnel = tunnelVerdict(this.payloads, bounded || this.payloadCount >= MAX_TUNNEL_MESSAGES);
      if (tunnel === 'tunnel') app = 'kubernetes';
      else if (tunnel === null && !bounded) return;
    }
    if (app === null) {
      if (this.other > 0) app = 'websocket';
      else if (this.channelLike >= CHANNEL_EVIDENCE) app = 'kubernetes';
      else if (bounded) app = this.channelLike > 0 ? 'kubernetes' : 'websocket';
    }
    if (app === null) return;
    const inner = this.make(app);
    this.inner = inner;
    inner.start(out);
    for (const r of this.pendingReports) inner.report(r.d, r.error, r.time, out);
    this.pendingReports.length = 0;
    for (const h of this.held) {
      if (h.op === 'bytes') inner.bytes(h.d, h.chunk, h.time, out);
      else if (h.op === 'gap') inner.gap(h.d, h.size, h.time, out);
      else inner.rebase(h.d, h.offset);
    }
    this.held.length = 0;
    this.payloads = null;
  }
}
