/**
 * A WebSocket session of other software (Jupyter, SIP, wstunnel, a broker…):
 * its messages as they are (type, length, frames, the start of the text),
 * pings, pongs and the close, with no Kubernetes reading and so no
 * Kubernetes diagnostics. Only the WebSocket layer's own rules (RFC 6455)
 * are checked. Keeps counters and a short preview, never message bytes.
 */
import { KubewireError, type Direction } from '../common/errors.js';
import type { WebSocketFrameDecoder } from '../websocket/decoder.js';
import { inspectingWebSocketDecoder } from './websocket-inspector.js';
import type { WebSocketFrame, WebSocketFrameEvent } from '../websocket/types.js';
import type { TimelineEvent, Transport } from './events.js';
import type { DecoderContext } from './connection.js';
import type { SessionSetup } from './session.js';
import type { MessageCounts, InterpretedSessionSummary, SessionSummary } from './summary-types.js';
import { websocketFrameEvent } from './websocket-frame-event.js';
import { endReasonOf, otherSessionStart, otherSessionSummary, type SessionInterpreter } from './interpreter.js';
import { copyBytes } from '../common/bytes.js';

/** Bytes of a text message kept to show its start. */
const TEXT_PREVIEW_BYTES = 800;
const TEXT_PREVIEW_CHARS = 200;
const BINARY_HEAD_BYTES = 16;
/** permessage-deflate (RFC 7692) gives RSV1 its meaning. */
const RSV1 = 4;

/**
 * Rules of RFC 6455 a peer can break while its frames still read as they
 * should (wstunnel sends its client frames unmasked, a test server answers
 * with a wrong Sec-WebSocket-Accept). In software that is not Kubernetes
 * these describe the peer: notes, not diagnostics. What could mean that
 * kubewire reads the frames wrongly (unknown RSV bits or opcodes, lengths out
 * of range, broken fragmentation) stays a diagnostic.
 */
const PEER_RULE_CODES = new Set([
  'WEBSOCKET_UNMASKED_CLIENT_FRAME',
  'WEBSOCKET_MASKED_SERVER_FRAME',
  'WEBSOCKET_NON_MINIMAL_LENGTH',
  'WEBSOCKET_CLOSE_CODE_INVALID',
  'WEBSOCKET_INVALID_UTF8',
  'WEBSOCKET_DATA_AFTER_CLOSE',
  'TIMELINE_WEBSOCKET_BAD_ACCEPT',
]);

interface OpenMessage {
  type: 'text' | 'binary';
  frames: number;
  length: number;
  compressed: boolean;
  offset: number;
  head: Uint8Array[];
  headBytes: number;
}

export class PlainWebSocketSession implements SessionInterpreter {
  readonly id: number;
  private ws: Record<Direction, WebSocketFrameDecoder>;
  private readonly dead: Record<Direction, boolean> = { clientToServer: false, serverToClient: false };
  private readonly open: Record<Direction, OpenMessage | null> = { clientToServer: null, serverToClient: null };
  private readonly counts: Record<Direction, MessageCounts> = { clientToServer: newCounts(), serverToClient: newCounts() };
  private readonly closeSeen: Record<Direction, boolean> = { clientToServer: false, serverToClient: false };
  private readonly pings = { clientToServer: 0, serverToClient: 0 };
  private wsClose: SessionSummary['websocketClose'] = null;
  private tcpClose: SessionSummary['tcpClose'] = null;
  private endReason: SessionSummary['end'] = null;
  private endTime: number | null = null;
  private gaps = 0;
  private diagnostics = 0;
  private notes = 0;
  private time: number;
  private readonly allowedRsv: number;

  constructor(
    private readonly setup: SessionSetup,
    private readonly ctx: DecoderContext,
  ) {
    this.id = setup.id;
    this.time = setup.time;
    this.allowedRsv = setup.websocketExtensions && /permessage-deflate/i.test(setup.websocketExtensions) ? RSV1 : 0;
    this.ws = {
      clientToServer: this.newWs('clientToServer', setup.baseOffset.clientToServer),
      serverToClient: this.newWs('serverToClient', setup.baseOffset.serverToClient),
    };
  }

  start(out: TimelineEvent[]): void {
    otherSessionStart(this.setup, 'websocket', out);
  }

  bytes(d: Direction, chunk: Uint8Array, time: number, out: TimelineEvent[]): void {
    this.time = time;
    if (chunk.length === 0) return;
    this.onEvents(d, this.safe(d, out, () => this.ws[d].push(chunk)), out);
  }

  gap(d: Direction, size: number, time: number, out: TimelineEvent[]): void {
    this.time = time;
    this.gaps++;
    // the open message lost bytes: it is not shown as if whole
    this.open[d] = null;
    this.onEvents(d, this.safe(d, out, () => this.ws[d].gap(size)), out);
  }

  end(time: number, tcp: SessionSummary['tcpClose'], out: TimelineEvent[]): void {
    if (this.endTime !== null) return;
    this.time = time;
    this.tcpClose = tcp;
    for (const d of ['clientToServer', 'serverToClient'] as const) this.onEvents(d, this.safe(d, out, () => this.ws[d].end()), out);
    this.endTime = time;
    this.endReason = endReasonOf(this.wsClose !== null, tcp);
    out.push({ kind: 'session-end', time, connection: this.setup.connection, session: this.id, reason: this.endReason });
  }

  summary(): InterpretedSessionSummary {
    return otherSessionSummary(this.setup, 'websocket', {
      streams: [],
      endTime: this.endTime,
      end: this.endReason,
      pings: { ...this.pings },
      websocketClose: this.wsClose ? { ...this.wsClose } : null,
      tcpClose: this.tcpClose,
      gaps: this.gaps,
      diagnostics: this.diagnostics,
      notes: this.notes,
      messages: { clientToServer: { ...this.counts.clientToServer }, serverToClient: { ...this.counts.serverToClient } },
    });
  }

  report(d: Direction, error: KubewireError, time: number, out: TimelineEvent[]): void {
    this.time = time;
    this.emit(d, error, out);
  }

  rebase(d: Direction, offset: number): void {
    this.ws[d] = this.newWs(d, offset);
  }

  summaryTransport(): Transport {
    return 'websocket';
  }

  private newWs(d: Direction, baseOffset: number): WebSocketFrameDecoder {
    return inspectingWebSocketDecoder(this.ctx, this.setup.connection, d, baseOffset, this.allowedRsv);
  }


  private onEvents(d: Direction, events: WebSocketFrameEvent[], out: TimelineEvent[]): void {
    for (const ev of events) {
      if (ev.kind === 'diagnostic') this.emit(d, ev.error, out);
      else this.onFrame(d, ev, out);
    }
  }

  private onFrame(d: Direction, f: WebSocketFrame, out: TimelineEvent[]): void {
    const base = { time: this.time, connection: this.setup.connection, session: this.id };
    if (this.ctx.frameEvents) {
      out.push(websocketFrameEvent(base, d, f, null, null));
    }
    switch (f.kind) {
      case 'text':
      case 'binary': {
        if (this.closeSeen[d]) this.wsDiag(d, 'WEBSOCKET_DATA_AFTER_CLOSE', 'data frame after a close frame', f.offset, out);
        if (this.open[d]) {
          // RFC 6455 §5.4: fragments of different messages are never interleaved
          this.wsDiag(d, 'WEBSOCKET_MESSAGE_INTERRUPTED', `new ${f.kind} message before the previous one ended`, f.offset, out);
        }
        this.open[d] = { type: f.kind, frames: 0, length: 0, compressed: (f.rsv & RSV1) !== 0, offset: f.offset, head: [], headBytes: 0 };
        this.addFragment(d, f, out);
        return;
      }
      case 'continuation':
        if (!this.open[d]) {
          this.wsDiag(d, 'WEBSOCKET_UNEXPECTED_CONTINUATION', 'continuation frame without a message to continue', f.offset, out);
          return;
        }
        this.addFragment(d, f, out);
        return;
      case 'ping':
      case 'pong':
        this.pings[d]++;
        out.push({ kind: 'ping', ...base, direction: d, id: null, reply: f.kind === 'pong' });
        return;
      case 'close':
        this.closeSeen[d] = true;
        if (!this.wsClose) this.wsClose = { direction: d, code: f.code, reason: f.reason };
        out.push({ kind: 'websocket-close', ...base, direction: d, code: f.code, reason: f.reason });
        return;
      case 'reserved':
        return;
      default: {
        const never: never = f;
        throw new Error(`unhandled WebSocket frame ${(never as { kind: string }).kind}`);
      }
    }
  }

  private addFragment(d: Direction, f: WebSocketFrame, out: TimelineEvent[]): void {
    const m = this.open[d]!;
    m.frames++;
    m.length += f.payload.length;
    const want = (m.type === 'text' ? TEXT_PREVIEW_BYTES : BINARY_HEAD_BYTES) - m.headBytes;
    if (want > 0 && f.payload.length > 0) {
      // the payload is a view into the input: keep a copy of the little we show
      const keep = copyBytes(f.payload, 0, want);
      m.head.push(keep);
      m.headBytes += keep.length;
    }
    if (!f.fin) return;
    this.open[d] = null;
    const c = this.counts[d];
    c[m.type]++;
    c.frames += m.frames;
    c.bytes += m.length;
    const head = Buffer.concat(m.head);
    out.push({
      kind: 'websocket-message',
      time: this.time,
      connection: this.setup.connection,
      session: this.id,
      direction: d,
      type: m.type,
      length: m.length,
      frames: m.frames,
      text: m.type === 'text' && !m.compressed ? textPreview(head, m.length > head.length) : null,
      head: m.type === 'binary' || m.compressed ? head.subarray(0, BINARY_HEAD_BYTES).toString('hex') : null,
      offset: m.offset,
    });
  }

  private wsDiag(d: Direction, code: string, message: string, offset: number, out: TimelineEvent[]): void {
    this.emit(d, new KubewireError('websocket', code, 'connection', message, { connection: this.setup.connection, direction: d, offset }), out);
  }

  private emit(d: Direction, error: KubewireError, out: TimelineEvent[]): void {
    if (PEER_RULE_CODES.has(error.code)) {
      this.notes++;
      out.push({ kind: 'note', time: this.time, connection: this.setup.connection, session: this.id, direction: d, error });
      return;
    }
    this.diagnostics++;
    out.push({ kind: 'diagnostic', time: this.time, connection: this.setup.connection, session: this.id, direction: d, streamId: null, error });
  }

  /** The codec in inspect mode should not throw; if it does anyway, this direction stops and says so once. */
  private safe(d: Direction, out: TimelineEvent[], fn: () => WebSocketFrameEvent[]): WebSocketFrameEvent[] {
    if (this.dead[d]) return [];
    try {
      return fn();
    } catch (e) {
      this.dead[d] = true;
      const msg = e instanceof Error ? e.message : String(e);
      const code = e instanceof KubewireError ? e.code : 'TIMELINE_CODEC_FAILED';
      this.emit(d, new KubewireError('timeline', code, 'session', `decoder stopped: ${msg}`, { connection: this.setup.connection, direction: d }), out);
      return [];
    }
  }
}

function newCounts(): MessageCounts {
  return { text: 0, binary: 0, frames: 0, bytes: 0 };
}

/** The start of a text message; a character cut by the preview's end is dropped. */
function textPreview(head: Buffer, cut: boolean): string {
  let s = head.toString('utf8');
  if (cut && s.endsWith('\ufffd')) s = s.replace(/\ufffd+$/, '');
  return s.length > TEXT_PREVIEW_CHARS ? s.slice(0, TEXT_PREVIEW_CHARS) : s;
}
