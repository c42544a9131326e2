/**
 * The SPDY/3.1 session as a sans-IO state machine: peer bytes in
 * (`receive`), local commands (`open`, `sendData`, `reset`, …), frames out
 * (`takeOutput`), typed events out (`receive`'s result and `takeEvents`).
 * No sockets, timers or clocks here; the Node adapter (`node-session.ts`)
 * supplies them.
 *
 * DATA frames are framed here rather than by the codec: a payload is handed
 * on piece by piece as views of the received chunks, so a 64 KiB frame that
 * arrives in two socket reads is never reassembled or copied. Control frames
 * are collected whole and decoded by the codec (which owns the zlib context).
 */
import { KubewireError } from '../../common/errors.js';
import {
  FLAG_FIN,
  GOAWAY_STATUS,
  RST_STATUS,
  SETTINGS_ID,
  type SettingsEntry,
  type SpdyFrame,
  type SpdyHeaders,
} from '../types.js';
import { defaultCodec, type FrameInput, type SessionCodec } from './codec.js';
import type { SessionEvent } from './events.js';
import {
  DEFAULT_MAX_CONTROL_FRAME,
  DEFAULT_MAX_DATA_FRAME,
  MAX_FRAME_LENGTH,
  MAX_WINDOW,
  SPDY_DEFAULT_WINDOW,
  type SessionCoreOptions,
  type SessionRole,
  type WindowUpdatePolicy,
} from './options.js';

interface StreamState {
  id: number;
  /** Opened by us. */
  local: boolean;
  /** Local stream: SYN_REPLY received. Remote stream: SYN_REPLY sent. */
  replied: boolean;
  localClosed: boolean;
  remoteClosed: boolean;
  sendWindow: number;
  recvWindow: number;
  /** Bytes consumed and not yet returned to the peer by WINDOW_UPDATE. */
  recvUnacked: number;
}

const RX_HEADER = 0;
const RX_DATA = 1;
const RX_CONTROL = 2;

const HEADER_SLAB = 16384;
const EMPTY = new Uint8Array(0);

export class SpdySessionCore {
  readonly role: SessionRole;
  private readonly codec: SessionCodec;
  private readonly streams = new Map<number, StreamState>();
  private out: Uint8Array[] = [];
  private outLen = 0;
  private events: SessionEvent[] = [];

  // ids
  private nextLocalId: number;
  private lastPeerId = 0;
  private highestLocalId = 0;

  // flow control
  private readonly recvInitialWindow: number;
  private readonly recvSessionWindowSize: number;
  private recvSessionWindow: number;
  private recvSessionUnacked = 0;
  private peerInitialWindow = SPDY_DEFAULT_WINDOW;
  private sendSessionWindow = SPDY_DEFAULT_WINDOW;
  private readonly windowUpdates: WindowUpdatePolicy;
  private readonly enforceReceive: boolean;
  private readonly respectPeerWindow: boolean;
  private readonly maxDataFrame: number;
  private readonly maxControlFrame: number;
  private readonly maxConcurrent: number;

  // ping: ids of ours in flight
  private nextPingId: number;
  private readonly pendingPings = new Set<number>();

  // goaway
  private goawaySentFlag = false;
  private goawayReceivedFlag = false;
  private failedFlag = false;

  // receive framing
  private rxState = RX_HEADER;
  private readonly rxHeader = new Uint8Array(8);
  private rxHeaderLen = 0;
  private rxStream: StreamState | null = null;
  private rxStreamId = 0;
  private rxRemaining = 0;
  private rxFin = false;
  private rxControl: Uint8Array | null = null;
  private rxControlLen = 0;
  private rxOffset = 0;

  private slab = new Uint8Array(HEADER_SLAB);
  private slabPos = 0;

  constructor(opts: SessionCoreOptions) {
    this.role = opts.role;
    this.codec = opts.codec ?? defaultCodec(opts.codecLimits);
    this.nextLocalId = opts.role === 'client' ? 1 : 2;
    this.nextPingId = opts.role === 'client' ? 1 : 2;
    // Windows can only be raised above the SPDY default: SETTINGS has no
    // acknowledgement, so a peer may rightly send 64 KiB per stream (and per
    // session) before it learns of a smaller value.
    this.recvInitialWindow = clampWindow(opts.initialWindow ?? SPDY_DEFAULT_WINDOW);
    this.recvSessionWindowSize = clampWindow(opts.sessionWindow ?? SPDY_DEFAULT_WINDOW);
    this.recvSessionWindow = this.recvSessionWindowSize;
    this.windowUpdates = opts.windowUpdates ?? 'consumed';
    this.enforceReceive = opts.enforceReceiveWindow ?? false;
    this.respectPeerWindow = opts.respectPeerWindow ?? true;
    this.maxDataFrame = Math.max(1, Math.min(opts.maxDataFrame ?? DEFAULT_MAX_DATA_FRAME, MAX_FRAME_LENGTH));
    this.maxControlFrame = Math.min(opts.maxControlFrame ?? DEFAULT_MAX_CONTROL_FRAME, MAX_FRAME_LENGTH);
    this.maxConcurrent = opts.maxConcurrentStreams ?? Infinity;

    const entries: SettingsEntry[] = [];
    if (this.recvInitialWindow !== SPDY_DEFAULT_WINDOW) {
      entries.push({ id: SETTINGS_ID.INITIAL_WINDOW_SIZE, flags: 0, value: this.recvInitialWindow });
    }
    if (Number.isFinite(this.maxConcurrent)) {
      entries.push({ id: SETTINGS_ID.MAX_CONCURRENT_STREAMS, flags: 0, value: this.maxConcurrent });
    }
    if (entries.length) this.control({ kind: 'settings', clearSettings: false, entries });
    if (this.recvSessionWindowSize > SPDY_DEFAULT_WINDOW) {
      this.control({ kind: 'window_update', streamId: 0, delta: this.recvSessionWindowSize - SPDY_DEFAULT_WINDOW });
    }
  }

  // ---------------------------------------------------------------- state

  get goawaySent(): boolean {
    return this.goawaySentFlag;
  }
  get goawayReceived(): boolean {
    return this.goawayReceivedFlag;
  }
  /** A session error happened; nothing more is read or sent but the queued GOAWAY. */
  get failed(): boolean {
    return this.failedFlag;
  }
  get streamCount(): number {
    return this.streams.size;
  }
  /** Bytes queued for the transport. */
  get outputBytes(): number {
    return this.outLen;
  }
  hasStream(id: number): boolean {
    return this.streams.has(id);
  }
  /** Bytes `sendData` would accept now on this stream (Infinity when peer windows are ignored). */
  sendCapacity(id: number): number {
    const s = this.streams.get(id);
    if (!s || s.localClosed) return 0;
    if (!this.respectPeerWindow) return Infinity;
    return Math.max(0, Math.min(s.sendWindow, this.sendSessionWindow));
  }
  /** Our receive window on a stream (negative when a peer ignored it). */
  receiveWindow(id: number): number | undefined {
    return this.streams.get(id)?.recvWindow;
  }
  get sessionSendWindow(): number {
    return this.sendSessionWindow;
  }
  get sessionReceiveWindow(): number {
    return this.recvSessionWindow;
  }
  /** Whether our side of the stream may still send. */
  canSend(id: number): boolean {
    const s = this.streams.get(id);
    return !!s && !s.localClosed;
  }

  // ---------------------------------------------------------------- output

  /** Frames to write, in order; the caller owns the array. */
  takeOutput(): Uint8Array[] {
    const out = this.out;
    this.out = [];
    this.outLen = 0;
    return out;
  }

  /** Events caused by local commands (receive() returns its own). */
  takeEvents(): SessionEvent[] {
    const ev = this.events;
    this.events = [];
    return ev;
  }

  // ---------------------------------------------------------------- local commands

  /** Open a stream (SYN_STREAM). Returns its id. */
  open(headers: SpdyHeaders, opts: { fin?: boolean; priority?: number; unidirectional?: boolean } = {}): number {
    if (this.failedFlag) throw misuse('MUX_SESSION_FAILED', 'the session has failed');
    if (this.goawaySentFlag || this.goawayReceivedFlag) {
      throw misuse('MUX_GOAWAY', 'no new streams after GOAWAY');
    }
    const id = this.nextLocalId;
    if (id > MAX_WINDOW) throw misuse('MUX_STREAM_IDS_EXHAUSTED', 'stream ids exhausted');
    this.nextLocalId += 2;
    this.highestLocalId = id;
    const fin = !!opts.fin;
    const s: StreamState = {
      id,
      local: true,
      replied: false,
      localClosed: fin,
      remoteClosed: !!opts.unidirectional,
      sendWindow: this.peerInitialWindow,
      recvWindow: this.recvInitialWindow,
      recvUnacked: 0,
    };
    this.streams.set(id, s);
    this.control({
      kind: 'syn_stream',
      streamId: id,
      associatedStreamId: 0,
      priority: opts.priority ?? 0,
      slot: 0,
      fin,
      unidirectional: !!opts.unidirectional,
      headers,
    });
    return id;
  }

  /** Accept a peer stream (SYN_REPLY). Sending data first replies with no headers by itself. */
  reply(id: number, headers: SpdyHeaders = [], fin = false): void {
    const s = this.liveStream(id);
    if (s.local || s.replied) throw misuse('MUX_ALREADY_REPLIED', `stream ${id} needs no reply`, id);
    s.replied = true;
    if (fin) s.localClosed = true;
    this.control({ kind: 'syn_reply', streamId: id, fin, headers });
    if (fin) this.maybeClosed(s);
  }

  sendHeaders(id: number, headers: SpdyHeaders, fin = false): void {
    const s = this.liveStream(id);
    if (s.localClosed) throw misuse('MUX_STREAM_ENDED', `stream ${id} already ended`, id);
    if (!s.local && !s.replied) return this.reply(id, headers, fin);
    if (fin) s.localClosed = true;
    this.control({ kind: 'headers', streamId: id, fin, headers });
    if (fin) this.maybeClosed(s);
  }

  /**
   * Send payload on a stream; `fin` ends our side once all of `data` is out.
   * Returns the bytes taken (less than `data.length` when the peer's windows
   * are short; FIN then waits for the rest). Payloads are queued as views.
   */
  sendData(id: number, data: Uint8Array, fin = false): number {
    const s = this.liveStream(id);
    if (s.localClosed) throw misuse('MUX_STREAM_ENDED', `stream ${id} already ended`, id);
    if (!s.local && !s.replied) {
      s.replied = true;
      this.control({ kind: 'syn_reply', streamId: id, fin: false, headers: [] });
    }
    let n = data.length;
    if (this.respectPeerWindow) n = Math.max(0, Math.min(n, s.sendWindow, this.sendSessionWindow));
    const finNow = fin && n === data.length;
    if (n === 0 && !finNow) return 0;
    let pos = 0;
    do {
      const len = Math.min(this.maxDataFrame, n - pos);
      const last = pos + len === n;
      this.dataFrame(id, data.subarray(pos, pos + len), last && finNow);
      pos += len;
    } while (pos < n);
    if (this.respectPeerWindow) {
      s.sendWindow -= n;
      this.sendSessionWindow -= n;
    }
    if (finNow) {
      s.localClosed = true;
      this.maybeClosed(s);
    }
    return n;
  }

  /** Half-close our side (empty DATA with FIN). */
  end(id: number): void {
    this.sendData(id, EMPTY, true);
  }

  /** RST_STREAM; the stream is forgotten at once. Unknown streams are ignored. */
  reset(id: number, status: number = RST_STATUS.CANCEL): void {
    const s = this.streams.get(id);
    if (!s) return;
    this.control({ kind: 'rst_stream', streamId: id, status });
    this.forget(s);
  }

  /**
   * The application consumed `n` bytes of a stream: with the `consumed`
   * policy this is what opens the peer's window again.
   */
  consumed(id: number, n: number): void {
    if (this.windowUpdates !== 'consumed' || n <= 0) return;
    const s = this.streams.get(id);
    if (s) this.creditStream(s, n);
  }

  /** Send a PING with our parity; returns its id. */
  ping(): number {
    const id = this.nextPingId;
    this.nextPingId = this.nextPingId + 2 > 0xffffffff ? (this.role === 'client' ? 1 : 2) : this.nextPingId + 2;
    this.pendingPings.add(id);
    this.control({ kind: 'ping', id });
    return id;
  }

  settings(entries: SettingsEntry[]): void {
    this.control({ kind: 'settings', clearSettings: false, entries });
  }

  /** GOAWAY: no new peer streams; open streams may finish (graceful drain). */
  goaway(status: number = GOAWAY_STATUS.OK): void {
    if (this.goawaySentFlag) return;
    this.goawaySentFlag = true;
    this.control({ kind: 'goaway', lastGoodStreamId: this.lastPeerId, status });
  }

  /** Every open stream, for a caller that tears the session down. */
  streamIds(): number[] {
    return [...this.streams.keys()];
  }

  // ---------------------------------------------------------------- input

  /** Consume peer bytes (any chunking); returns the events they caused, in order. */
  receive(chunk: Uint8Array): SessionEvent[] {
    let pos = 0;
    const n = chunk.length;
    while (pos < n && !this.failedFlag) {
      switch (this.rxState) {
        case RX_HEADER: {
          if (this.rxHeaderLen === 0 && n - pos >= 8) {
            this.frameHeader(chunk, pos);
            pos += 8;
            this.rxOffset += 8;
          } else {
            const take = Math.min(8 - this.rxHeaderLen, n - pos);
            this.rxHeader.set(chunk.subarray(pos, pos + take), this.rxHeaderLen);
            this.rxHeaderLen += take;
            pos += take;
            this.rxOffset += take;
            if (this.rxHeaderLen === 8) {
              this.rxHeaderLen = 0;
              this.frameHeader(this.rxHeader, 0);
            }
          }
          break;
        }
        case RX_DATA: {
          const take = Math.min(this.rxRemaining, n - pos);
          this.rxRemaining -= take;
          this.rxOffset += take;
          const s = this.rxStream;
          if (s !== null) {
            const piece = chunk.subarray(pos, pos + take);
            this.events.push({ kind: 'data', streamId: s.id, data: piece });
            if (this.windowUpdates === 'received') this.creditStream(s, take);
          }
          pos += take;
          if (this.rxRemaining === 0) this.endOfData();
          break;
        }
        case RX_CONTROL: {
          const buf = this.rxControl!;
          const take = Math.min(buf.length - this.rxControlLen, n - pos);
          buf.set(chunk.subarray(pos, pos + take), this.rxControlLen);
          this.rxControlLen += take;
          pos += take;
          this.rxOffset += take;
          if (this.rxControlLen === buf.length) {
            this.rxControl = null;
            this.rxState = RX_HEADER;
            this.controlFrame(buf);
          }
          break;
        }
      }
    }
    const ev = this.events;
    this.events = [];
    return ev;
  }

  // ---------------------------------------------------------------- receive internals

  private frameHeader(b: Uint8Array, p: number): void {
    const b0 = b[p]!;
    const length = (b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!;
    const flags = b[p + 4]!;
    if (b0 & 0x80) {
      if (length > this.maxControlFrame) {
        this.sessionError('MUX_CONTROL_FRAME_TOO_LARGE', `control frame of ${length} bytes exceeds the limit`);
        return;
      }
      const buf = new Uint8Array(8 + length);
      buf.set(b.subarray(p, p + 8), 0);
      if (length === 0) {
        this.controlFrame(buf);
        return;
      }
      this.rxControl = buf;
      this.rxControlLen = 8;
      this.rxState = RX_CONTROL;
      return;
    }
    const id = ((b0 & 0x7f) << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
    this.dataHeader(id, (flags & FLAG_FIN) !== 0, length);
  }

  private dataHeader(id: number, fin: boolean, length: number): void {
    this.rxStreamId = id;
    this.rxFin = fin;
    this.rxRemaining = length;
    this.rxStream = null;
    if (id === 0) {
      this.sessionError('MUX_DATA_STREAM_ZERO', 'DATA frame on stream 0');
      return;
    }
    // Session window: every payload byte counts; credited on receipt because
    // per-stream windows already bound what a slow reader holds.
    this.recvSessionWindow -= length;
    if (this.enforceReceive && this.recvSessionWindow < 0) {
      this.sessionError('MUX_SESSION_WINDOW_EXCEEDED', 'peer sent more than the session window');
      return;
    }
    if (length > 0) this.creditSession(length);
    const s = this.streams.get(id);
    if (!s) {
      // Data racing our RST (or after a full close) is normal; only ids never
      // opened deserve an answer.
      if (!this.wasOpened(id) && !this.goawaySentFlag) this.control({ kind: 'rst_stream', streamId: id, status: RST_STATUS.INVALID_STREAM });
    } else if (s.remoteClosed) {
      this.streamError(s, RST_STATUS.STREAM_ALREADY_CLOSED);
    } else if (s.local && !s.replied) {
      // [S3]: the creator receiving DATA before SYN_REPLY is a stream error.
      this.streamError(s, RST_STATUS.PROTOCOL_ERROR);
    } else {
      s.recvWindow -= length;
      if (this.enforceReceive && s.recvWindow < 0) this.streamError(s, RST_STATUS.FLOW_CONTROL_ERROR);
      else this.rxStream = s;
    }
    if (length === 0) this.endOfData();
    else this.rxState = RX_DATA;
  }

  private endOfData(): void {
    this.rxState = RX_HEADER;
    const s = this.rxStream;
    this.rxStream = null;
    if (s && this.rxFin && this.streams.get(s.id) === s) this.remoteEnd(s);
  }

  private controlFrame(bytes: Uint8Array): void {
    let frames;
    try {
      frames = this.codec.decoder.push(bytes);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      this.sessionError(e instanceof KubewireError ? e.code : 'MUX_BAD_CONTROL_FRAME', msg);
      return;
    }
    for (const f of frames) {
      if (f.kind === 'diagnostic') {
        this.sessionError(f.error.code, f.error.message);
        return;
      }
      this.onControl(f);
      if (this.failedFlag) return;
    }
  }

  private onControl(f: SpdyFrame): void {
    switch (f.kind) {
      case 'syn_stream':
        return this.onSynStream(f.streamId, f.headers ?? [], f.fin, f.unidirectional, f.associatedStreamId, f.priority);
      case 'syn_reply': {
        const s = this.streams.get(f.streamId);
        if (!s) {
          if (!this.wasOpened(f.streamId)) this.control({ kind: 'rst_stream', streamId: f.streamId, status: RST_STATUS.INVALID_STREAM });
          return;
        }
        if (!s.local || s.replied) return this.streamError(s, RST_STATUS.STREAM_IN_USE);
        s.replied = true;
        this.events.push({ kind: 'reply', streamId: s.id, headers: f.headers ?? [] });
        if (f.fin) this.remoteEnd(s);
        return;
      }
      case 'headers': {
        const s = this.streams.get(f.streamId);
        if (!s) return;
        if (s.remoteClosed) return this.streamError(s, RST_STATUS.STREAM_ALREADY_CLOSED);
        this.events.push({ kind: 'headers', streamId: s.id, headers: f.headers ?? [] });
        if (f.fin) this.remoteEnd(s);
        return;
      }
      case 'rst_stream': {
        const s = this.streams.get(f.streamId);
        if (!s) return;
        this.events.push({ kind: 'reset', streamId: s.id, status: f.status, byPeer: true });
        this.forget(s);
        return;
      }
      case 'settings':
        return this.onSettings(f.entries);
      case 'ping': {
        const own = (f.id & 1) === (this.role === 'client' ? 1 : 0);
        if (own) {
          if (this.pendingPings.delete(f.id)) this.events.push({ kind: 'pong', id: f.id });
        } else {
          this.control({ kind: 'ping', id: f.id });
          this.events.push({ kind: 'ping', id: f.id });
        }
        return;
      }
      case 'goaway':
        return this.onGoaway(f.lastGoodStreamId, f.status);
      case 'window_update':
        return this.onWindowUpdate(f.streamId, f.delta);
      case 'data':
        // The codec only sees control frames.
        return;
      case 'unknown':
        // [S3]: unknown control frames are ignored.
        return;
      default: {
        const never: never = f;
        return never;
      }
    }
  }

  private onSynStream(
    id: number,
    headers: SpdyHeaders,
    fin: boolean,
    unidirectional: boolean,
    associatedStreamId: number,
    priority: number,
  ): void {
    const peerParity = this.role === 'client' ? 0 : 1;
    if (id === 0 || (id & 1) !== peerParity) {
      return this.sessionError('MUX_BAD_STREAM_ID', `SYN_STREAM with id ${id} of the wrong parity`);
    }
    if (id <= this.lastPeerId) {
      return this.sessionError('MUX_STREAM_ID_REGRESSED', `SYN_STREAM ${id} not above ${this.lastPeerId}`);
    }
    // After GOAWAY new streams are ignored (the peer learns from last-good-stream-id).
    if (this.goawaySentFlag) return;
    this.lastPeerId = id;
    if (this.countPeerStreams() >= this.maxConcurrent) {
      this.control({ kind: 'rst_stream', streamId: id, status: RST_STATUS.REFUSED_STREAM });
      return;
    }
    const s: StreamState = {
      id,
      local: false,
      replied: false,
      localClosed: unidirectional,
      remoteClosed: false,
      sendWindow: this.peerInitialWindow,
      recvWindow: this.recvInitialWindow,
      recvUnacked: 0,
    };
    this.streams.set(id, s);
    this.events.push({ kind: 'stream', streamId: id, headers, fin, unidirectional, associatedStreamId, priority });
    if (fin) this.remoteEnd(s);
  }

  private onSettings(entries: SettingsEntry[]): void {
    const seen = new Set<number>();
    for (const e of entries) {
      // [S3]: with duplicate ids in one frame the first wins.
      if (seen.has(e.id)) continue;
      seen.add(e.id);
      if (e.id === SETTINGS_ID.INITIAL_WINDOW_SIZE) {
        if (e.value > MAX_WINDOW) {
          return this.sessionError('MUX_BAD_INITIAL_WINDOW', `INITIAL_WINDOW_SIZE ${e.value} too large`);
        }
        const delta = e.value - this.peerInitialWindow;
        this.peerInitialWindow = e.value;
        // The difference applies to every open stream; a window may go negative.
        for (const s of this.streams.values()) s.sendWindow += delta;
      }
    }
    this.events.push({ kind: 'settings', entries });
    this.events.push({ kind: 'window', streamId: 0 });
  }

  private onGoaway(lastGood: number, status: number): void {
    this.goawayReceivedFlag = true;
    for (const s of [...this.streams.values()]) {
      if (s.local && s.id > lastGood) {
        this.events.push({ kind: 'reset', streamId: s.id, status: RST_STATUS.REFUSED_STREAM, byPeer: true });
        this.forget(s);
      }
    }
    this.events.push({ kind: 'goaway', lastGoodStreamId: lastGood, status });
  }

  private onWindowUpdate(id: number, delta: number): void {
    if (delta <= 0) return;
    if (id === 0) {
      if (this.sendSessionWindow + delta > MAX_WINDOW) {
        return this.sessionError('MUX_SESSION_WINDOW_OVERFLOW', 'session window above 2^31 - 1');
      }
      this.sendSessionWindow += delta;
      this.events.push({ kind: 'window', streamId: 0 });
      return;
    }
    const s = this.streams.get(id);
    if (!s || s.localClosed) return;
    if (s.sendWindow + delta > MAX_WINDOW) return this.streamError(s, RST_STATUS.FLOW_CONTROL_ERROR);
    s.sendWindow += delta;
    this.events.push({ kind: 'window', streamId: id });
  }

  // ---------------------------------------------------------------- helpers

  private remoteEnd(s: StreamState): void {
    if (s.remoteClosed) return;
    s.remoteClosed = true;
    this.events.push({ kind: 'end', streamId: s.id });
    this.maybeClosed(s);
  }

  private maybeClosed(s: StreamState): void {
    if (s.localClosed && s.remoteClosed && this.streams.get(s.id) === s) this.forget(s);
  }

  private forget(s: StreamState): void {
    if (this.rxStream === s) this.rxStream = null;
    if (this.streams.delete(s.id)) this.events.push({ kind: 'closed', streamId: s.id });
  }

  private streamError(s: StreamState, status: number): void {
    this.control({ kind: 'rst_stream', streamId: s.id, status });
    this.events.push({ kind: 'reset', streamId: s.id, status, byPeer: false });
    this.forget(s);
  }

  private sessionError(code: string, message: string): void {
    if (this.failedFlag) return;
    this.failedFlag = true;
    this.rxStream = null;
    if (!this.goawaySentFlag) {
      this.goawaySentFlag = true;
      this.control({ kind: 'goaway', lastGoodStreamId: this.lastPeerId, status: GOAWAY_STATUS.PROTOCOL_ERROR });
    }
    this.events.push({
      kind: 'error',
      error: new KubewireError('mux', code.startsWith('MUX_') ? code : `MUX_${code}`, 'session', message, {
        offset: this.rxOffset,
      }),
    });
  }

  // Receive windows mirror the peer's view of its send windows: they shrink
  // as DATA arrives and grow only when a WINDOW_UPDATE actually goes out.
  private creditStream(s: StreamState, n: number): void {
    if (this.windowUpdates === 'none' || s.remoteClosed) return;
    s.recvUnacked += n;
    if (s.recvUnacked >= this.recvInitialWindow >>> 1) {
      this.control({ kind: 'window_update', streamId: s.id, delta: s.recvUnacked });
      s.recvWindow += s.recvUnacked;
      s.recvUnacked = 0;
    }
  }

  private creditSession(n: number): void {
    if (this.windowUpdates === 'none') return;
    this.recvSessionUnacked += n;
    if (this.recvSessionUnacked >= this.recvSessionWindowSize >>> 1) {
      this.control({ kind: 'window_update', streamId: 0, delta: this.recvSessionUnacked });
      this.recvSessionWindow += this.recvSessionUnacked;
      this.recvSessionUnacked = 0;
    }
  }

  private countPeerStreams(): number {
    if (!Number.isFinite(this.maxConcurrent)) return 0;
    let n = 0;
    for (const s of this.streams.values()) if (!s.local) n++;
    return n;
  }

  private wasOpened(id: number): boolean {
    const ours = (id & 1) === (this.role === 'client' ? 1 : 0);
    return ours ? id <= this.highestLocalId : id <= this.lastPeerId;
  }

  private liveStream(id: number): StreamState {
    const s = this.streams.get(id);
    if (!s) throw misuse('MUX_NO_SUCH_STREAM', `stream ${id} is not open`, id);
    return s;
  }

  private control(frame: FrameInput): void {
    const bytes = this.codec.encoder.encode(frame);
    this.out.push(bytes);
    this.outLen += bytes.length;
  }

  private dataFrame(id: number, payload: Uint8Array, fin: boolean): void {
    if (this.slabPos + 8 > this.slab.length) {
      // Never reuse a slab: earlier headers may still sit in the transport's queue.
      this.slab = new Uint8Array(HEADER_SLAB);
      this.slabPos = 0;
    }
    const h = this.slab.subarray(this.slabPos, this.slabPos + 8);
    this.slabPos += 8;
    const len = payload.length;
    h[0] = (id >>> 24) & 0x7f;
    h[1] = (id >>> 16) & 0xff;
    h[2] = (id >>> 8) & 0xff;
    h[3] = id & 0xff;
    h[4] = fin ? FLAG_FIN : 0;
    h[5] = (len >>> 16) & 0xff;
    h[6] = (len >>> 8) & 0xff;
    h[7] = len & 0xff;
    this.out.push(h);
    this.outLen += 8;
    if (len) {
      this.out.push(payload);
      this.outLen += len;
    }
  }
}

function clampWindow(n: number): number {
  return Math.max(SPDY_DEFAULT_WINDOW, Math.min(Math.floor(n), MAX_WINDOW));
}

function misuse(code: string, message: string, streamId?: number): KubewireError {
  return new KubewireError('mux', code, streamId === undefined ? 'session' : 'stream', message, { streamId });
}
