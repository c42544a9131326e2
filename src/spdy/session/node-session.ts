/**
 * The Node adapter around the sans-IO core: any Duplex byte transport (TCP or
 * TLS socket, a WebSocket tunnel, an in-memory pair) in, SpdyStream duplexes
 * out.
 *
 * Writes are coalesced: frames produced in one turn of the event loop go to
 * the transport between cork() and uncork(), so a socket sends them with one
 * writev. Stream write callbacks fire once the transport has taken the bytes
 * without asking for a drain, which carries the transport's backpressure back
 * to every writer.
 *
 * Receive backpressure: with the `consumed` policy the peer's window reopens
 * only as the application reads. A peer that ignores windows (spdystream)
 * cannot be slowed that way, so when one stream holds more than
 * `maxStreamBuffer` unread bytes we stop reading the transport until that
 * reader catches up: memory stays bounded either way.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { KubewireError } from '../../common/errors.js';
import { GOAWAY_STATUS, RST_STATUS, type SettingsEntry, type SpdyHeaders } from '../types.js';
import { SpdySessionCore } from './core.js';
import type { SessionEvent } from './events.js';
import type { SessionCoreOptions } from './options.js';
import { SpdyStream } from './node-stream.js';

export interface SpdySessionOptions extends Omit<SessionCoreOptions, 'role'> {
  /** Readable/writable high-water mark of each stream (default 256 KiB). */
  streamHighWaterMark?: number;
  /**
   * Unread bytes one stream may hold before the transport is paused (default:
   * the stream receive window plus the high-water mark plus 64 KiB).
   */
  maxStreamBuffer?: number;
  /** Bytes queued in the transport beyond which stream writers wait for its 'drain' (default 512 KiB). */
  transportBacklog?: number;
}

type Callback = (err?: Error | null) => void;

export interface SpdySessionEvents {
  stream: [stream: SpdyStream];
  goaway: [lastGoodStreamId: number, status: number];
  settings: [entries: SettingsEntry[]];
  ping: [id: number];
  error: [error: Error];
  close: [];
}

export class SpdySession extends EventEmitter<SpdySessionEvents> {
  readonly core: SpdySessionCore;
  private readonly streams = new Map<number, SpdyStream>();
  private readonly waitingForWindow = new Set<SpdyStream>();
  private readonly pausedBy = new Set<SpdyStream>();
  private readonly pings = new Map<number, { start: bigint; resolve: (ms: number) => void }>();
  private readonly hwm: number;
  private readonly maxStreamBuffer: number;
  private readonly transportBacklog: number;
  private flushScheduled = false;
  private afterFlush: Callback[] = [];
  private drainWaiters: Callback[] = [];
  private needDrain = false;
  /** Reading is paused until 'drain': our output backs up (e.g. a PING flood whose replies go unread). */
  private backlogPaused = false;
  private closed = false;
  private transportEnded = false;
  private closeWaiters: Array<() => void> = [];

  constructor(
    readonly transport: Duplex,
    readonly role: 'client' | 'server',
    opts: SpdySessionOptions = {},
  ) {
    super();
    this.core = new SpdySessionCore({ ...opts, role });
    this.hwm = opts.streamHighWaterMark ?? 256 * 1024;
    this.maxStreamBuffer = opts.maxStreamBuffer ?? (opts.initialWindow ?? 65536) + this.hwm + 65536;
    this.transportBacklog = opts.transportBacklog ?? 512 * 1024;
    transport.on('data', (chunk: Buffer) => this.onData(chunk));
    transport.on('end', () => {
      this.onTransportGone(null);
      // The peer will send nothing more: the session is over (as Go's
      // spdystream takes a read EOF). On a half-open socket (an HTTP
      // server's) our side must end too, or the connection stays in
      // CLOSE-WAIT for good.
      if (this.transport.writable) this.transport.end();
    });
    transport.on('close', () => this.onTransportGone(null));
    transport.on('error', (e: Error) => this.onTransportGone(e));
    transport.on('drain', () => this.onDrain());
    this.scheduleFlush();
  }

  static client(transport: Duplex, opts?: SpdySessionOptions): SpdySession {
    return new SpdySession(transport, 'client', opts);
  }

  static server(transport: Duplex, opts?: SpdySessionOptions): SpdySession {
    return new SpdySession(transport, 'server', opts);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Open a stream. Its `response` event carries the SYN_REPLY headers. */
  request(headers: SpdyHeaders, opts: { fin?: boolean; priority?: number } = {}): SpdyStream {
    const id = this.core.open(headers, opts);
    const stream = new SpdyStream(this, id, headers, true, this.hwm);
    this.streams.set(id, stream);
    if (opts.fin) stream.end();
    this.dispatch(this.core.takeEvents());
    this.scheduleFlush();
    return stream;
  }

  /** PING round trip in milliseconds. */
  ping(): Promise<number> {
    return new Promise((resolve) => {
      const id = this.core.ping();
      this.pings.set(id, { start: process.hrtime.bigint(), resolve });
      this.scheduleFlush();
    });
  }

  settings(entries: SettingsEntry[]): void {
    this.core.settings(entries);
    this.scheduleFlush();
  }

  /** Send GOAWAY; streams already open may finish. */
  goaway(status: number = GOAWAY_STATUS.OK): void {
    this.core.goaway(status);
    this.scheduleFlush();
    this.maybeFinish();
  }

  /** Graceful close: GOAWAY, let open streams finish, then end the transport. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed) return resolve();
      this.closeWaiters.push(resolve);
      this.goaway();
    });
  }

  /** Abrupt close: reset every stream and destroy the transport. */
  destroy(err?: Error): void {
    if (this.closed) return;
    for (const s of [...this.streams.values()]) s.destroy(err);
    this.core.goaway(err ? GOAWAY_STATUS.INTERNAL_ERROR : GOAWAY_STATUS.OK);
    this.flush();
    this.transport.destroy();
    this.finish(err ?? null);
  }

  // ------------------------------------------------------------- stream hooks (called by SpdyStream)

  /** @internal */
  _respond(stream: SpdyStream, headers: SpdyHeaders, fin: boolean): void {
    if (!this.core.hasStream(stream.id)) return;
    this.core.reply(stream.id, headers, fin);
    this.afterCommand();
  }

  /** @internal */
  _sendHeaders(stream: SpdyStream, headers: SpdyHeaders, fin: boolean): void {
    if (!this.core.canSend(stream.id)) return;
    this.core.sendHeaders(stream.id, headers, fin);
    this.afterCommand();
  }

  /** @internal */
  _reset(stream: SpdyStream, status: number = RST_STATUS.CANCEL): void {
    if (!this.core.hasStream(stream.id)) return;
    stream.resetStatus = status;
    this.core.reset(stream.id, status);
    this.afterCommand();
  }

  /** @internal */
  _write(stream: SpdyStream, pieces: Uint8Array[], cb: Callback): void {
    if (!this.core.canSend(stream.id)) return cb(streamGone(stream));
    const rest = this.sendPieces(stream.id, pieces);
    if (rest) {
      stream.internals.pending = { pieces: rest, cb };
      this.waitingForWindow.add(stream);
    } else this.afterFlush.push(cb);
    this.scheduleFlush();
  }

  /** Send what the windows allow; returns what is left (null when all went out). */
  private sendPieces(id: number, pieces: Uint8Array[]): Uint8Array[] | null {
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i]!;
      const n = this.core.sendData(id, p, false);
      if (n < p.length) {
        const rest = pieces.slice(i);
        rest[0] = p.subarray(n);
        return rest;
      }
    }
    return null;
  }

  /** @internal */
  _final(stream: SpdyStream, cb: Callback): void {
    if (!this.core.canSend(stream.id)) return cb();
    this.core.end(stream.id);
    this.afterFlush.push(cb);
    this.afterCommand();
  }

  /** @internal */
  _read(stream: SpdyStream): void {
    const owed = stream.internals.owed;
    if (owed > 0) {
      stream.internals.owed = 0;
      this.core.consumed(stream.id, owed);
      this.scheduleFlush();
    }
    if (this.pausedBy.delete(stream)) this.resumeIfFree();
  }

  /** @internal */
  _destroyStream(stream: SpdyStream): void {
    if (this.core.hasStream(stream.id)) {
      if (stream.resetStatus === null) stream.resetStatus = RST_STATUS.CANCEL;
      this.core.reset(stream.id, RST_STATUS.CANCEL);
      this.afterCommand();
    }
    this.dropStream(stream);
  }

  // ------------------------------------------------------------- transport side

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    const events = this.core.receive(chunk);
    this.dispatch(events);
    // Most reads only deliver data: no microtask unless there is something to send.
    if (this.core.outputBytes > 0) this.scheduleFlush();
  }

  private dispatch(events: SessionEvent[]): void {
    for (const ev of events) {
      switch (ev.kind) {
        case 'data': {
          const s = this.streams.get(ev.streamId);
          if (!s) break;
          const data = ev.data;
          const more = s.push(Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.length));
          if (more) this.core.consumed(ev.streamId, data.length);
          else {
            s.internals.owed += data.length;
            if (s.readableLength > this.maxStreamBuffer && !this.pausedBy.has(s)) {
              this.pausedBy.add(s);
              this.transport.pause();
            }
          }
          break;
        }
        case 'end': {
          const s = this.streams.get(ev.streamId);
          if (!s) break;
          s.push(null);
          // An ended stream can hold no more, and Node never calls `_read`
          // on it again: if it paused the transport (its FIN came in the
          // same read as the data that filled it), only its end can let go,
          // or the peer's next frames (RST_STREAM, GOAWAY, its FIN) are
          // never read.
          if (this.pausedBy.delete(s)) this.resumeIfFree();
          break;
        }
        case 'stream': {
          const s = new SpdyStream(this, ev.streamId, ev.headers, false, this.hwm);
          this.streams.set(ev.streamId, s);
          if (ev.unidirectional) s.end();
          this.emit('stream', s);
          break;
        }
        case 'reply': {
          const s = this.streams.get(ev.streamId);
          if (s) {
            s.replyHeaders = ev.headers;
            s.emit('response', ev.headers);
          }
          break;
        }
        case 'headers':
          this.streams.get(ev.streamId)?.emit('headers', ev.headers);
          break;
        case 'reset': {
          const s = this.streams.get(ev.streamId);
          if (s) {
            s.resetStatus = ev.status;
            this.dropStream(s);
            // CANCEL is how Kubernetes clients end every exec: not an error.
            if (ev.status === RST_STATUS.CANCEL) s.destroy();
            else
              s.destroy(
                new KubewireError('mux', 'MUX_STREAM_RESET', 'stream', `stream reset with status ${ev.status}`, {
                  streamId: ev.streamId,
                }),
              );
          }
          break;
        }
        case 'closed': {
          const s = this.streams.get(ev.streamId);
          if (s) this.dropStream(s);
          break;
        }
        case 'window':
          this.retryWrites(ev.streamId);
          break;
        case 'pong': {
          const p = this.pings.get(ev.id);
          if (p) {
            this.pings.delete(ev.id);
            p.resolve(Number(process.hrtime.bigint() - p.start) / 1e6);
          }
          break;
        }
        case 'ping':
          this.emit('ping', ev.id);
          break;
        case 'settings':
          this.emit('settings', ev.entries);
          break;
        case 'goaway':
          this.emit('goaway', ev.lastGoodStreamId, ev.status);
          break;
        case 'error':
          this.flush();
          if (this.listenerCount('error')) this.emit('error', ev.error);
          for (const s of [...this.streams.values()]) s.destroy(ev.error);
          this.transport.end();
          this.finish(ev.error);
          return;
        default: {
          const never: never = ev;
          return never;
        }
      }
    }
    this.maybeFinish();
  }

  private retryWrites(streamId: number): void {
    const targets = streamId === 0 ? [...this.waitingForWindow] : [this.streams.get(streamId)];
    for (const s of targets) {
      if (!s || !s.internals.pending) continue;
      const p = s.internals.pending;
      if (!this.core.canSend(s.id)) {
        s.internals.pending = null;
        this.waitingForWindow.delete(s);
        p.cb(streamGone(s));
        continue;
      }
      const rest = this.sendPieces(s.id, p.pieces);
      if (!rest) {
        s.internals.pending = null;
        this.waitingForWindow.delete(s);
        this.afterFlush.push(p.cb);
      } else p.pieces = rest;
      this.scheduleFlush();
    }
  }

  /** Resume reading unless a stream's buffer or our output backlog still holds it. */
  private resumeIfFree(): void {
    if (this.pausedBy.size === 0 && !this.backlogPaused && !this.closed) this.transport.resume();
  }

  private dropStream(s: SpdyStream): void {
    if (this.streams.get(s.id) === s) this.streams.delete(s.id);
    this.waitingForWindow.delete(s);
    if (s.internals.pending) {
      const cb = s.internals.pending.cb;
      s.internals.pending = null;
      cb(streamGone(s));
    }
    if (this.pausedBy.delete(s)) this.resumeIfFree();
    this.maybeFinish();
  }

  private afterCommand(): void {
    this.dispatch(this.core.takeEvents());
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const out = coalesceSmall(this.core.takeOutput());
    const t = this.transport;
    if (out.length && !this.transportEnded && t.writable) {
      let ok = true;
      if (out.length === 1) ok = t.write(out[0]);
      else {
        t.cork();
        for (const b of out) ok = t.write(b);
        t.uncork();
      }
      // Socket buffers are small (16 KiB); holding writers back at every
      // `false` would keep a single 64 KiB frame in flight. Wait for 'drain'
      // only once a real backlog builds up.
      if (!ok && t.writableLength >= this.transportBacklog) this.needDrain = true;
      // Frames we send in answer to frames we read (PING, RST_STREAM, …) are
      // not held back by any writer: past a larger backlog, stop reading
      // until the peer takes what it is sent, so memory stays bounded.
      if (!ok && t.writableLength >= READ_PAUSE_BACKLOG_FACTOR * this.transportBacklog && !this.backlogPaused) {
        this.backlogPaused = true;
        t.pause();
      }
    }
    if (this.afterFlush.length) {
      const cbs = this.afterFlush;
      this.afterFlush = [];
      if (this.needDrain) this.drainWaiters.push(...cbs);
      else for (const cb of cbs) cb();
    }
  }

  private onDrain(): void {
    this.needDrain = false;
    if (this.backlogPaused) {
      this.backlogPaused = false;
      this.resumeIfFree();
    }
    const cbs = this.drainWaiters;
    this.drainWaiters = [];
    for (const cb of cbs) cb();
  }

  private maybeFinish(): void {
    if (this.closed || this.core.streamCount > 0) return;
    if (!this.core.goawaySent && !this.core.goawayReceived) return;
    // Graceful drain done: GOAWAY exchanged one way or the other and no streams left.
    this.flush();
    if (this.transport.writable) this.transport.end();
    this.finish(null);
  }

  private onTransportGone(err: Error | null): void {
    if (this.transportEnded) return;
    this.transportEnded = true;
    if (this.closed) return;
    const error =
      err ?? new KubewireError('mux', 'MUX_TRANSPORT_CLOSED', 'session', 'transport closed with streams open');
    for (const s of [...this.streams.values()]) {
      if (s.readableEnded && s.writableFinished) continue;
      s.destroy(error);
    }
    if (err && this.listenerCount('error')) this.emit('error', err);
    this.finish(err);
  }

  private finish(_err: Error | null): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pings.values()) p.resolve(NaN);
    this.pings.clear();
    const drained = this.drainWaiters;
    this.drainWaiters = [];
    for (const cb of drained) cb();
    const waiters = this.closeWaiters;
    this.closeWaiters = [];
    for (const w of waiters) w();
    this.emit('close');
  }
}

/** Runs of frames under this size are joined into one buffer before they are written. */
const SMALL_FRAME = 1024;

/**
 * Frames as few buffers: runs of small ones (control frames, frame headers,
 * short DATA) joined, large payloads passed through as they are (no copy).
 * Every buffer queued on a socket costs far more than its bytes, and
 * thousands of 12-byte PING replies must not cost a kilobyte each.
 */
function coalesceSmall(out: Uint8Array[]): Uint8Array[] {
  if (out.length < 2) return out;
  let small = 0;
  for (const b of out) if (b.length < SMALL_FRAME) small++;
  if (small < 2) return out;
  const res: Uint8Array[] = [];
  let run: Uint8Array[] = [];
  const endRun = () => {
    if (run.length === 1) res.push(run[0]!);
    else if (run.length > 1) res.push(Buffer.concat(run));
    run = [];
  };
  for (const b of out) {
    if (b.length < SMALL_FRAME) run.push(b);
    else {
      endRun();
      res.push(b);
    }
  }
  endRun();
  return res;
}

/** Output backlog, in multiples of `transportBacklog`, at which reading pauses. */
const READ_PAUSE_BACKLOG_FACTOR = 4;

function streamGone(s: SpdyStream): Error {
  return new KubewireError('mux', 'MUX_STREAM_CLOSED', 'stream', 'stream is closed or reset', { streamId: s.id });
}
