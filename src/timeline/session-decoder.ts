/**
 * SessionDecoder: the sans-IO core of `kubewire decode` and the live tap.
 * ConnectionEvents (from TCP reassembly or the tap) in, TimelineEvents out,
 * and a summary document at any time.
 *
 * Never throws on wire input: everything odd becomes a `diagnostic` event,
 * and one broken connection or stream never hides the others.
 *
 * Zero-copy: a `data` event's bytes need stay valid only during `push` (the
 * capture pipeline hands over views of recycled read buffers, the tap's
 * worker views into its ring). Frames that lie inside a chunk are decoded
 * where they lie; what outlives the call (a frame cut by the chunk's end,
 * bytes that wait for an answer) is copied. Memory stays bounded: streams are hashed, not kept; buffers
 * have limits (`TimelineLimits`); closed connections keep only their summary.
 */
import type { ConnectionClose, ConnectionData, ConnectionEvent, ConnectionGap } from '../tcp/types.js';
import type { DiagnosticEvent, TimelineEvent } from './events.js';
import { DEFAULT_TIMELINE_LIMITS, type DecodeAs, type SessionDecoderOptions, type TimelineLimits } from './options.js';
import type { DecodeSummary } from './summary-types.js';
import { ConnectionDecoder, type DecoderContext } from './connection.js';
import { KubewireError } from '../common/errors.js';
import { TlsGate } from './tls-gate.js';
import type { TlsConnectionSummary } from './summary-types.js';
import { INLINE_DIGESTS } from './digests.js';

/** TLS connections kept for the summary. */
const MAX_TLS_KEPT = 10_000;

export class SessionDecoder {
  private readonly connections = new Map<number, ConnectionDecoder>();
  /** Connections the summary needs (closed ones stay, with their state trimmed); others are dropped once closed. */
  private readonly all = new Set<ConnectionDecoder>();
  private connectionCount = 0;
  /** Closed connections still in `all`, oldest first (for the memory bound). */
  private readonly closedKept: ConnectionDecoder[] = [];
  private closedHead = 0;
  private readonly dropped = { connections: 0, sessions: 0, requests: 0 };
  private readonly ctx: DecoderContext;
  private diagnostics = 0;
  /** Connections not yet known to be plain (their first bytes may be TLS). */
  private readonly gates = new Map<number, TlsGate>();
  private readonly tlsSummaries: TlsConnectionSummary[] = [];
  /** Their connections' files, by connection number (set when the connection closes). */
  private readonly tlsFiles = new Map<number, string[]>();

  constructor(private readonly opts: SessionDecoderOptions = {}) {
    const limits: TimelineLimits = { ...DEFAULT_TIMELINE_LIMITS, ...opts.limits };
    this.ctx = {
      limits,
      showSecrets: opts.showSecrets ?? false,
      frameEvents: opts.frameEvents ?? true,
      dataPieces: opts.dataPieces ?? false,
      digests: opts.digests === false ? null : opts.digests === true || opts.digests === undefined ? INLINE_DIGESTS : opts.digests,
      nextSession: 1,
      refusedUpgrades: [],
      requestsKept: 0,
      closeNamesFiles: (opts.inputNames?.length ?? 0) > 1,
      unmask: opts.ownsInput ? 'in-place' : 'copy',
      tlsKeys: opts.tlsKeys ?? null,
    };
  }

  /** Diagnostics so far (for exit code 1). */
  get diagnosticCount(): number {
    return this.diagnostics;
  }

  /** Feed one event from TCP reassembly (capture) or from the live tap. */
  push(ev: ConnectionEvent): TimelineEvent[] {
    const out: TimelineEvent[] = [];
    try {
      this.dispatch(ev, out);
    } catch (e) {
      // A bug of ours must not end the decode of every other connection.
      const conn = ev.kind === 'diagnostic' ? (ev.connection ?? 0) : ev.connection;
      out.push(internalError(e, conn, ev.time ?? 0));
      this.connections.get(conn)?.disable();
    }
    this.count(out);
    return out;
  }

  /** End of input: flush partial state; returns the last events. */
  finish(): TimelineEvent[] {
    const out: TimelineEvent[] = [];
    for (const c of this.connections.values()) {
      try {
        const g = this.gates.get(c.id);
        if (g) {
          this.gates.delete(c.id);
          g.end(c.lastTime, c, out);
        }
        c.finish(out);
        this.keepTunnelTls(c);
      } catch (e) {
        out.push(internalError(e, c.id, c.lastTime));
      }
    }
    this.count(out);
    return out;
  }

  /** The summary document; valid any time, complete after finish(). */
  summary(): DecodeSummary {
    const sessions = [];
    const requests = [];
    for (const c of this.all) {
      sessions.push(...c.sessionSummaries());
      requests.push(...c.requestSummaries());
    }
    sessions.sort((a, b) => a.session - b.session);
    return {
      sessions,
      requests,
      connections: this.connectionCount,
      diagnostics: this.diagnostics,
      dropped: { ...this.dropped },
      // by connection number: a tunnel's TLS joins the list when its connection ends
      tlsConnections: [...this.tlsSummaries].sort((a, b) => a.connection - b.connection).map((t) => ({
        ...t,
        alpnOffered: [...t.alpnOffered],
        files: [...(this.tlsFiles.get(t.connection) ?? this.connections.get(t.connection)?.files ?? [])],
      })),
    };
  }

  /** The TLS inside a connection's CONNECT tunnel joins the TLS connections once the connection ends. */
  private keepTunnelTls(c: ConnectionDecoder): void {
    const t = c.tunnelTls;
    // tlsFiles has every connection whose TLS is listed: a lookup, not a scan of up to 10,000 summaries per close
    if (t === null || this.tlsFiles.has(c.id) || this.tlsSummaries.length >= MAX_TLS_KEPT) return;
    this.tlsSummaries.push(t);
    this.tlsFiles.set(c.id, c.files);
  }

  /** Keep a closed connection for the summary, dropping the oldest beyond the limit. */
  private keepClosed(c: ConnectionDecoder): void {
    this.closedKept.push(c);
    while (this.closedKept.length - this.closedHead > this.ctx.limits.maxClosedConnectionsKept) {
      const old = this.closedKept[this.closedHead]!;
      this.closedKept[this.closedHead++] = undefined as unknown as ConnectionDecoder;
      this.dropped.connections++;
      this.dropped.sessions += old.sessionId !== null ? 1 : 0;
      this.dropped.requests += old.requestCount;
      this.dropClosed(old);
    }
    if (this.closedHead > 1024 && this.closedHead * 2 > this.closedKept.length) {
      this.closedKept.splice(0, this.closedHead);
      this.closedHead = 0;
    }
  }

  private dropClosed(c: ConnectionDecoder): void {
    this.all.delete(c);
  }

  private dispatch(ev: ConnectionEvent, out: TimelineEvent[]): void {
    if (ev.kind === 'open') {
      const prev = this.connections.get(ev.connection);
      if (prev) {
        this.gates.get(ev.connection)?.end(ev.time, prev, out);
        prev.finish(out);
      }
      const c = new ConnectionDecoder(ev, this.ctx, this.decodeAsFor(ev.connection));
      const names = this.opts.inputNames;
      if (names !== undefined && names.length === 1) c.files = [names[0]!];
      this.connections.set(ev.connection, c);
      this.gates.set(ev.connection, new TlsGate(ev, this.ctx.tlsKeys ?? null));
      this.all.add(c);
      this.connectionCount++;
      c.open(out);
      return;
    }
    if (ev.kind === 'diagnostic') {
      out.push({
        kind: 'diagnostic',
        time: ev.time ?? 0,
        connection: ev.connection ?? 0,
        session: ev.connection !== undefined ? (this.connections.get(ev.connection)?.sessionId ?? null) : null,
        direction: ev.error.direction ?? null,
        streamId: ev.error.streamId ?? null,
        error: ev.error,
      });
      return;
    }
    const c = this.connections.get(ev.connection);
    if (!c) {
      out.push({
        kind: 'diagnostic',
        time: ev.time,
        connection: ev.connection,
        session: null,
        direction: ev.kind === 'close' ? (ev.direction ?? null) : ev.direction,
        streamId: null,
        error: new KubewireError('timeline', 'TIMELINE_UNKNOWN_CONNECTION', 'connection', `${ev.kind} event for a connection that was never opened`, { connection: ev.connection }),
      });
      return;
    }
    const g = this.gates.get(ev.connection);
    if (g !== undefined) return this.throughGate(g, c, ev, out);
    switch (ev.kind) {
      case 'data':
        c.data(ev, out);
        return;
      case 'gap':
        c.gap(ev, out);
        return;
      case 'close':
        this.noteFiles(c, ev);
        this.closeConnection(c, ev, out);
        return;
      default: {
        const never: never = ev;
        throw new Error(`unknown connection event ${(never as { kind: string }).kind}`);
      }
    }
  }

  private throughGate(g: TlsGate, c: ConnectionDecoder, ev: ConnectionData | ConnectionGap | ConnectionClose, out: TimelineEvent[]): void {
    const had = g.summary !== null;
    if (ev.kind === 'data') g.data(ev, c, out);
    else if (ev.kind === 'gap') g.gap(ev, c, out);
    else {
      this.noteFiles(c, ev);
      g.end(ev.time, c, out);
      this.gates.delete(ev.connection);
      this.closeConnection(c, ev, out);
    }
    if (!had && g.summary !== null && this.tlsSummaries.length < MAX_TLS_KEPT) {
      this.tlsSummaries.push(g.summary);
      this.tlsFiles.set(c.id, c.files);
    }
    if (g.passthrough) this.gates.delete(ev.connection);
  }

  /** The connection ended: its decoder closes, and its summary is kept or, without one, it is let go. */
  private closeConnection(c: ConnectionDecoder, ev: ConnectionClose, out: TimelineEvent[]): void {
    c.close(ev, out);
    this.keepTunnelTls(c);
    this.connections.delete(ev.connection);
    if (!c.hasSummary) this.dropClosed(c);
    else this.keepClosed(c);
  }

  /** Merged captures: the inputs whose segments made up the connection. */
  private noteFiles(c: ConnectionDecoder, ev: ConnectionClose): void {
    if (ev.sources === undefined) return;
    const names = this.opts.inputNames ?? [];
    c.files = ev.sources.map((i) => names[i] ?? `input ${i + 1}`);
    if (this.tlsFiles.has(c.id)) this.tlsFiles.set(c.id, c.files);
  }

  private decodeAsFor(connection: number): DecodeAs | undefined {
    const d = this.opts.decodeAs;
    if (d === undefined) return undefined;
    if (typeof d === 'string') return d;
    return d.get(connection);
  }

  private count(out: TimelineEvent[]): void {
    for (const e of out) if (e.kind === 'diagnostic') this.diagnostics++;
  }
}

function internalError(e: unknown, connection: number, time: number): DiagnosticEvent {
  const msg = e instanceof Error ? e.message : String(e);
  return {
    kind: 'diagnostic',
    time,
    connection,
    session: null,
    direction: null,
    streamId: null,
    error: new KubewireError('timeline', 'TIMELINE_INTERNAL_ERROR', 'connection', `internal error, connection abandoned: ${msg}`, { connection }),
  };
}
