/**
 * Is a WebSocket session Kubernetes? A Kubernetes server only ever chooses
 * one of its own subprotocols, so a chosen subprotocol decides. Without one
 * (kubelets accept a client that offers none, as `channel.k8s.io`), the URL
 * decides when it is an exec, attach or port-forward path; otherwise the
 * first messages do: channel messages start with a channel byte (0–4).
 * Anything else is shown as plain WebSocket, never read as channels, so
 * traffic of other software gets no Kubernetes diagnostics.
 */
import type { Direction } from '../common/errors.js';
import { pathSegments } from '../http/target.js';
import { WebSocketFrameDecoder } from '../websocket/decoder.js';
import type { WebSocketFrameEvent } from '../websocket/types.js';
import { PORT_FORWARD_PROTOCOL, REMOTE_COMMAND_BASE64_V4, REMOTE_COMMAND_V4, TUNNEL_PROTOCOL_PREFIX, remoteCommandProtocol } from '../k8s/protocols.js';
import type { TimelineEvent, Transport } from './events.js';
import type { RequestInfo } from './request-info.js';
import type { SessionInterpreter } from './interpreter.js';
import type { InterpretedSessionSummary, SessionSummary } from './summary-types.js';

export type WebSocketApplication = 'kubernetes' | 'websocket' | 'by-messages';

/** Path segments that name a Kubernetes streaming operation (also behind a proxy's prefix). */
const OPERATION_SEGMENTS = new Set(['exec', 'attach', 'portforward']);
/** Channel-shaped messages that make a subprotocol-less session Kubernetes. */
const CHANNEL_EVIDENCE = 8;
/** Bytes held while the messages decide; past it, what was seen decides. */
const MAX_HELD_BYTES = 64 * 1024;
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
  return kind === 'binary' ? b <= MAX_CHANNEL : b >= 0x30 && b <= 0x30 + MAX_CHANNEL;
}

type Held = { op: 'bytes'; d: Direction; chunk: Uint8Array; time: number } | { op: 'gap'; d: Direction; size: number; time: number };

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
  private channelLike = 0;
  private other = 0;
  private pendingDiagnostics = 0;

  constructor(
    id: number,
    baseOffset: Record<Direction, number>,
    private readonly make: (app: 'kubernetes' | 'websocket') => SessionInterpreter,
  ) {
    this.id = id;
    const dec = (d: Direction) => new WebSocketFrameDecoder({ mode: 'inspect', direction: d, enforceMasking: false, baseOffset: baseOffset[d], unmask: 'copy' });
    this.look = { clientToServer: dec('clientToServer'), serverToClient: dec('serverToClient') };
  }

  start(_out: TimelineEvent[]): void {
    // the session-start of the interpreter chosen comes out when the messages decide
  }

  bytes(d: Direction, chunk: Uint8Array, time: number, out: TimelineEvent[]): void {
    if (this.inner) return this.inner.bytes(d, chunk, time, out);
    if (chunk.length === 0) return;
    // the input is a view valid only until the next event
    this.held.push({ op: 'bytes', d, chunk: chunk.slice(), time });
    this.heldBytes += chunk.length;
    this.watch(this.look[d].push(chunk));
    this.decideIfDone(false, out);
  }

  gap(d: Direction, size: number, time: number, out: TimelineEvent[]): void {
    if (this.inner) return this.inner.gap(d, size, time, out);
    this.held.push({ op: 'gap', d, size, time });
    this.watch(this.look[d].gap(size));
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

  noteDiagnostic(): void {
    if (this.inner) this.inner.noteDiagnostic();
    else this.pendingDiagnostics++;
  }

  rebase(d: Direction, offset: number): void {
    this.inner?.rebase(d, offset);
  }

  summaryTransport(): Transport {
    return 'websocket';
  }

  private watch(events: WebSocketFrameEvent[]): void {
    for (const ev of events) {
      if (ev.kind === 'text' || ev.kind === 'binary') {
        if (looksLikeChannelMessage(ev.kind, ev.payload)) this.channelLike++;
        else this.other++;
      }
    }
  }

  private decideIfDone(final: boolean, out: TimelineEvent[]): void {
    let app: 'kubernetes' | 'websocket' | null = null;
    if (this.other > 0) app = 'websocket';
    else if (this.channelLike >= CHANNEL_EVIDENCE) app = 'kubernetes';
    else if (final || this.heldBytes >= MAX_HELD_BYTES) app = this.channelLike > 0 ? 'kubernetes' : 'websocket';
    if (app === null) return;
    const inner = this.make(app);
    this.inner = inner;
    inner.start(out);
    for (let i = 0; i < this.pendingDiagnostics; i++) inner.noteDiagnostic();
    for (const h of this.held) {
      if (h.op === 'bytes') inner.bytes(h.d, h.chunk, h.time, out);
      else inner.gap(h.d, h.size, h.time, out);
    }
    this.held.length = 0;
  }
}
