/**
 * TCP reassembly, sans-IO: feed decoded segments in capture order, receive
 * `ConnectionEvent`s through `onEvent`, synchronously.
 *
 * Per direction, bytes come out strictly in sequence order. Retransmitted and
 * overlapping bytes are removed (the first copy wins; a different second copy
 * is reported as TCP_OVERLAP_CONFLICT). Out-of-order bytes wait in a bounded
 * buffer. A hole becomes an explicit `gap` event when
 *   - the peer acknowledges bytes beyond it (it received what we did not see),
 *   - a segment was cut by the snaplen (its missing tail, immediately),
 *   - the buffer limits are hit (the hole before the buffered bytes),
 *   - the connection is reset, or the input ends.
 * A FIN that is not yet reached waits for the hole before it like data does.
 *
 * Events carry the time and packet number of the segment their bytes came
 * in, so bytes released from the buffer carry their own (earlier) times, and
 * a gap carries the time of the segment that revealed it.
 */
import type { ErrorMode } from '../common/errors.js';
import { KubewireError } from '../common/errors.js';
import { copyBytes } from './bytes.js';
import { Connection, HalfStream, type Piece } from './connection.js';
import { PIECE_OVERHEAD_BYTES, insertPiece, pieceCost } from './out-of-order.js';
import { guessClientIsA } from './roles.js';
import { formatAddress, TCP_FLAG, type IpAddress, type TcpSegment } from './segment.js';
import { appendTail, tailMismatch } from './tail.js';
import { seqBefore } from './sequence.js';
import type { CloseReason, ConnectionEvent } from './types.js';

/** How many times the ACK reorder tolerance a hole may wait while its sender sends nothing. */
const QUIET_SENDER_FACTOR = 64;

export interface TcpReassemblerOptions {
  /** Receives every event, synchronously; data views are valid only during the call. */
  onEvent: (event: ConnectionEvent) => void;
  /** inspect (default): anomalies become diagnostic events. strict: they are thrown. */
  mode?: ErrorMode;
  /** Out-of-order bytes buffered per direction before the hole is declared a gap (default 4 MiB; 64 more counted per segment). */
  maxBufferedBytesPerDirection?: number;
  /**
   * Out-of-order segments buffered per direction (default 65536). Each also
   * counts 64 bytes against the byte limits (`PIECE_OVERHEAD_BYTES`), so
   * that many tiny segments stay within the memory of a few large ones.
   */
  maxBufferedSegmentsPerDirection?: number;
  /** Out-of-order bytes buffered over all connections (default 64 MiB; 64 more counted per segment). */
  maxBufferedBytes?: number;
  /** Open connections tracked at once; beyond, the least recently active is closed as `evicted` (default 65536). */
  maxConnections?: number;
  /** Closed connections remembered so their trailing ACKs/FINs do not open new ones (default 4096). */
  maxClosedConnections?: number;
  /** Delivered bytes kept per direction to compare retransmissions against (default 2048; 0 disables). */
  overlapCheckBytes?: number;
  /** Close connections idle this long in capture time, in µs, as `timeout` (default 0: never). */
  idleTimeout?: number;
  /** Conflicting overlaps reported per connection before going quiet (default 8). */
  maxConflictReports?: number;
  /**
   * How many further segments of its sender a hole the peer has already
   * acknowledged waits for its bytes, without the delivered edge moving,
   * before it is declared a gap (default 0: at once; a sender that goes quiet
   * waits 64 times as many segments of the whole connection). Captures
   * reorder packets across directions (`-i any` on several CPUs, merged
   * files): the ACK for bytes can be written before the bytes themselves, and
   * declaring the hole at the ACK would drop them when they come. Input end,
   * RST and the buffer limits still declare it at once.
   */
  ackReorderTolerance?: number;
}

/** An ACK that jumps further than this beyond the delivered bytes is not believed. */
const MAX_ACK_JUMP = 1 << 30;
const IDLE_SWEEP_INTERVAL = 4096;
const EMPTY = new Uint8Array(0);
/** Segments of a connection that bytes from a side with no SYN seen wait for its SYN or for earlier bytes. */
const START_TOLERANCE = 16;
/**
 * Or capture time (µs) they wait, whatever the connection does: a quiet
 * connection (an idle keep-alive that carries one request) may send no more
 * segments for seconds, and its bytes would come out that late, after
 * everything captured meanwhile. Reordering in a capture spans far less.
 */
const START_WAIT_US = 200_000;

export class TcpReassembler {
  /** Insertion order matters: the eviction sweep walks it oldest first. */
  private readonly conns = new Map<string, Connection>();
  /** IPv4 lookups without building a string key: lower endpoint number → higher → connection. */
  private readonly v4 = new Map<number, Map<number, Connection>>();
  private readonly closedQueue: Connection[] = [];
  private closedHead = 0;
  private openCount = 0;
  private opened = 0;
  private totalBuffered = 0;
  private last: Connection | null = null;
  private segmentsSinceSweep = 0;
  private readonly emit: (event: ConnectionEvent) => void;
  private readonly strict: boolean;
  private readonly maxPerDir: number;
  private readonly maxSegsPerDir: number;
  private readonly maxTotal: number;
  private readonly maxConns: number;
  private readonly maxClosed: number;
  private readonly tailSize: number;
  private readonly idleTimeout: number;
  private readonly maxConflictReports: number;
  private readonly ackReorderTolerance: number;
  /** Inside releaseHeld (replays must not start another). */
  private releasing = false;
  /** Connections holding bytes whose stream start is unknown (see START_WAIT_US), and the capture time of the last look at them. */
  private readonly startHeld = new Set<Connection>();
  private startCheckedAt = -Infinity;
  /** The latest segment time seen (µs). */
  private now = -Infinity;

  constructor(options: TcpReassemblerOptions) {
    this.emit = options.onEvent;
    this.strict = options.mode === 'strict';
    this.maxPerDir = options.maxBufferedBytesPerDirection ?? 4 * 1024 * 1024;
    this.maxSegsPerDir = options.maxBufferedSegmentsPerDirection ?? 65536;
    this.maxTotal = options.maxBufferedBytes ?? 64 * 1024 * 1024;
    this.maxConns = Math.max(1, options.maxConnections ?? 65536);
    this.maxClosed = options.maxClosedConnections ?? 4096;
    this.tailSize = options.overlapCheckBytes ?? 2048;
    this.idleTimeout = options.idleTimeout ?? 0;
    this.maxConflictReports = options.maxConflictReports ?? 8;
    this.ackReorderTolerance = Math.max(0, options.ackReorderTolerance ?? 0);
  }

  /** Connections currently tracked (open). */
  get openConnections(): number {
    return this.openCount;
  }

  /** Out-of-order bytes held over all connections, 64 more counted per segment (`PIECE_OVERHEAD_BYTES`). */
  get bufferedBytes(): number {
    return this.totalBuffered;
  }

  /** Feed one segment. The payload view is not retained (buffered bytes are copied). */
  segment(s: TcpSegment): void {
    if (s.time > this.now) this.now = s.time;
    if (this.startHeld.size > 0 && this.now - this.startCheckedAt >= START_WAIT_US / 4) this.releaseStartsDue();
    const conn = this.lookup(s);
    if (conn === null) return;
    conn.touched = true;
    conn.lastTime = s.time;
    conn.lastPacket = s.packet;
    conn.segments++;
    if (s.source !== undefined) noteSource(conn, s.source);
    const fromA = s.srcPort === conn.aPort && s.src === conn.aAddr;
    const h = fromA ? conn.ab : conn.ba;
    h.segmentsSeen++;
    if (this.ackReorderTolerance > 0) {
      if (s.flags & TCP_FLAG.RST) {
        if (conn.rst === null && this.rstBeyondHole(h, fromA ? conn.ba : conn.ab, s)) {
          // the bytes before the RST, or those it acknowledges, may still come (reordered
          // capture): the RST waits for them
          conn.rst = { segment: { ...s, payload: EMPTY }, fromA, since: conn.segments };
          if (!conn.opened) this.open(conn, h, null); // as declaring the hole at once would have (numbering)
          this.releaseHeld(conn, false);
          return;
        }
        this.releaseHeld(conn, true);
      } else if (this.startUnknown(h, s) || this.mustWait(h, fromA ? conn.ba : conn.ab, s)) {
        this.hold(conn, h, s);
        this.releaseHeld(conn, false);
        this.rstDue(conn, false);
        return;
      }
      this.process(conn, fromA, s);
      if (!conn.closed && (conn.ab.held !== null || conn.ba.held !== null)) this.releaseHeld(conn, false);
      if (!conn.closed && conn.rst !== null) this.rstDue(conn, false);
      return;
    }
    this.process(conn, fromA, s);
  }

  /** A RST (from `h`'s side) comes before bytes it follows: its own side's, or the other side's (`r`) it acknowledges. */
  private rstBeyondHole(h: HalfStream, r: HalfStream, s: TcpSegment): boolean {
    return this.seqBeyondHole(h, s.seq) || (s.flags & TCP_FLAG.ACK ? this.seqBeyondHole(r, s.ack) : false);
  }

  /** Bytes of `h` up to sequence number `seq` are not all delivered yet (and near enough to come). */
  private seqBeyondHole(h: HalfStream, seq: number): boolean {
    if (!h.init || h.finished) return false;
    let limit = h.offsetOf(seq);
    if (h.finOffset >= 0 && limit > h.finOffset) limit = h.finOffset;
    return limit > h.offset && limit - h.offset < MAX_ACK_JUMP;
  }

  /** A waiting RST goes through once the bytes before it came, or the tolerance is used up (`now`: input end). */
  private rstDue(conn: Connection, now: boolean): void {
    const w = conn.rst;
    if (w === null || conn.closed) return;
    const [h, r] = w.fromA ? [conn.ab, conn.ba] : [conn.ba, conn.ab];
    if (!now && this.rstBeyondHole(h, r, w.segment) && conn.segments - w.since < this.ackReorderTolerance) return;
    conn.rst = null;
    this.releaseHeld(conn, true);
    if (!conn.closed) this.process(conn, w.fromA, w.segment);
  }

  // ── causal order across directions (captures that reorder packets) ──

  /**
   * A segment acknowledges bytes of the other direction not delivered yet:
   * it was sent after them, so its bytes wait (a SYN_REPLY must not overtake
   * the SYN_STREAM it answers, a 101 the upgrade request). Each waits only
   * for its own ACK: the out-of-order buffer orders a direction's bytes
   * anyway, and a queue per direction would deadlock when both directions
   * are reordered.
   */
  private mustWait(h: HalfStream, r: HalfStream, s: TcpSegment): boolean {
    if (s.payload.length === 0 || !(s.flags & TCP_FLAG.ACK) || s.flags & TCP_FLAG.SYN || !r.init || r.finished) return false;
    let need = r.offsetOf(s.ack);
    if (r.finOffset >= 0 && need > r.finOffset) need = r.finOffset;
    return need > r.offset && need - r.offset < MAX_ACK_JUMP;
  }

  /**
   * No SYN and no byte yet from this side: where its stream starts is not
   * known. The first bytes seen may be reordered after later ones (or after
   * the SYN), and bytes delivered cannot be taken back: they wait a few
   * segments for the SYN or for earlier bytes.
   */
  private startUnknown(h: HalfStream, s: TcpSegment): boolean {
    // a FIN too: taken for the start, it would end the stream before its bytes
    return (s.payload.length > 0 || (s.flags & TCP_FLAG.FIN) !== 0) && !(s.flags & TCP_FLAG.SYN) && !h.synSeen && !h.started;
  }

  private hold(conn: Connection, h: HalfStream, s: TcpSegment): void {
    const r = h === conn.ab ? conn.ba : conn.ab;
    if (h.held === null) {
      h.held = [];
      h.heldBytes = 0;
    }
    const start = this.startUnknown(h, s);
    if (start) this.startHeld.add(conn);
    h.held.push({ segment: { ...s, payload: copyBytes(s.payload) }, since: conn.segments, start });
    h.heldBytes += s.payload.length;
    // What it acknowledges is known now: a hole it reveals is pending from here
    // (a lost segment on both sides must not leave each side waiting for the other).
    if (s.flags & TCP_FLAG.ACK && !(s.flags & TCP_FLAG.RST)) this.acked(conn, r, s);
  }

  /** Release the held starts that waited START_WAIT_US of capture time (looked at a few times per wait, not per segment). */
  private releaseStartsDue(): void {
    this.startCheckedAt = this.now;
    for (const conn of this.startHeld) {
      if (conn.closed || !(heldStart(conn.ab) || heldStart(conn.ba))) {
        this.startHeld.delete(conn);
        continue;
      }
      this.releaseHeld(conn, false);
      if (conn.closed || !(heldStart(conn.ab) || heldStart(conn.ba))) this.startHeld.delete(conn);
    }
  }

  /**
   * Replay held segments whose acknowledged bytes have come (or all of them:
   * `all`, the tolerance used up, or the hold queue over the buffer limits).
   */
  private releaseHeld(conn: Connection, all: boolean): void {
    if (this.releasing) return;
    this.releasing = true;
    try {
      this.releaseHeldNow(conn, all);
    } finally {
      this.releasing = false;
    }
  }

  private releaseHeldNow(conn: Connection, all: boolean): void {
    for (let progress = true; progress && !conn.closed; ) {
      progress = false;
      for (const h of [conn.ab, conn.ba]) {
        const q = h.held;
        if (q === null) continue;
        const r = h === conn.ab ? conn.ba : conn.ab;
        const flush = all || q.length > this.maxSegsPerDir || h.heldBytes > this.maxPerDir;
        const waiting: typeof q = [];
        h.held = null;
        h.heldBytes = 0;
        if (
          !h.started &&
          !h.synSeen &&
          q[0]!.start &&
          (flush || conn.segments - q[0]!.since >= START_TOLERANCE || this.now - q[0]!.segment.time >= START_WAIT_US)
        ) {
          // No SYN came: the stream starts at the earliest byte held (or where
          // the peer's ACK put it, when that is earlier: the bytes between are a gap).
          let first = q[0]!.segment.seq;
          for (const e of q) if (e.start && seqBefore(e.segment.seq, first)) first = e.segment.seq;
          if (!h.init || (h.offset === 0 && h.pieces.length === 0 && seqBefore(first, h.nextSeq))) {
            h.init = true;
            h.nextSeq = first;
          }
          h.started = true;
        }
        for (const e of q) {
          // from the ACK now: the other side's stream start may have been settled since
          let need = e.segment.flags & TCP_FLAG.ACK && r.init ? r.offsetOf(e.segment.ack) : 0;
          if (need - r.offset >= MAX_ACK_JUMP) need = 0;
          if (r.finOffset >= 0 && need > r.finOffset) need = r.finOffset;
          if (conn.closed) break;
          if (e.start && !h.started && !h.synSeen) {
            waiting.push(e);
            continue;
          }
          if (!flush && !r.finished && need > r.offset && conn.segments - e.since < this.ackReorderTolerance) {
            waiting.push(e);
            continue;
          }
          progress = true;
          this.process(conn, h.fromA, e.segment);
        }
        if (waiting.length > 0 && !conn.closed) {
          // segments held meanwhile (by process → none: process never holds) keep their place after these
          h.held = waiting;
          for (const e of waiting) h.heldBytes += e.segment.payload.length;
        }
      }
    }
  }

  private process(conn: Connection, fromA: boolean, s: TcpSegment): void {
    const h = fromA ? conn.ab : conn.ba;
    const r = fromA ? conn.ba : conn.ab;
    const flags = s.flags;
    if (flags & TCP_FLAG.RST) {
      this.reset(conn, h, r, s);
      return;
    }
    let seq = s.seq;
    if (flags & (TCP_FLAG.SYN | TCP_FLAG.FIN) || s.payload.length > 0) h.started = true;
    if (flags & TCP_FLAG.SYN) {
      if (!h.synSeen && (!h.init || (h.offset === 0 && h.pieces.length === 0))) {
        h.synSeen = true;
        h.isn = seq;
        h.init = true;
        h.nextSeq = (seq + 1) >>> 0;
        h.offset = 0;
        if (conn.clientIsA === undefined) conn.clientIsA = flags & TCP_FLAG.ACK ? !fromA : fromA;
      }
      if (flags & TCP_FLAG.ACK && !r.synSeen && !r.started && r.offset === 0 && r.pieces.length === 0) {
        // A SYN-ACK acknowledges the client's SYN: its stream starts there, whatever an
        // ACK seen earlier (reordered) said.
        r.init = true;
        r.nextSeq = s.ack;
      }
      seq = (seq + 1) >>> 0;
    } else if (!h.init) {
      h.init = true;
      h.nextSeq = seq;
    }
    const len = s.payload.length + s.missing;
    if (len > 0 && !h.finished) this.deliverOrBuffer(conn, h, seq, s);
    if (flags & TCP_FLAG.FIN && h.finOffset < 0) {
      h.finOffset = h.offsetOf(seq) + len;
      if (conn.finFromA === undefined) conn.finFromA = fromA;
      this.checkFinished(h);
    }
    if (flags & TCP_FLAG.ACK) this.acked(conn, r, s);
    if (conn.ab.ackedHoleEnd >= 0) this.ackedHoleDue(conn, conn.ab, s.time, s.packet);
    if (conn.ba.ackedHoleEnd >= 0) this.ackedHoleDue(conn, conn.ba, s.time, s.packet);
    if (conn.ab.finished && conn.ba.finished) this.close(conn, 'fin', conn.finFromA ?? fromA, s.time, s.packet);
    if (this.idleTimeout > 0 && ++this.segmentsSinceSweep >= IDLE_SWEEP_INTERVAL) this.sweepIdle(s.time);
  }

  /** End of input: flush every connection (holes become gaps) and close it. */
  end(): void {
    for (const conn of [...this.conns.values()]) {
      if (!conn.closed) this.finishAtEnd(conn, 'end-of-input');
    }
  }

  private finishAtEnd(conn: Connection, reason: CloseReason): void {
    if (conn.rst !== null) {
      this.rstDue(conn, true);
      if (conn.closed) return;
    }
    if (conn.ab.held !== null || conn.ba.held !== null) {
      this.releaseHeld(conn, true);
      if (conn.closed) return;
    }
    for (const h of [conn.ab, conn.ba]) {
      this.flushAckedHole(conn, h, conn.lastTime, conn.lastPacket);
      this.flushAll(conn, h, conn.lastTime, conn.lastPacket);
      if (h.finOffset > h.offset) this.gap(conn, h, h.finOffset - h.offset, conn.lastTime, conn.lastPacket);
      this.checkFinished(h);
    }
    if (conn.ab.finished && conn.ba.finished) reason = 'fin';
    this.close(conn, reason, reason === 'fin' ? conn.finFromA : undefined, conn.lastTime, conn.lastPacket);
  }

  // ── connection table ────────────────────────────────────────────────

  private lookup(s: TcpSegment): Connection | null {
    let conn = this.last;
    if (
      conn === null ||
      !(
        (s.srcPort === conn.aPort && s.dstPort === conn.bPort && s.src === conn.aAddr && s.dst === conn.bAddr) ||
        (s.srcPort === conn.bPort && s.dstPort === conn.aPort && s.src === conn.bAddr && s.dst === conn.aAddr)
      )
    ) {
      conn = this.find(s);
    }
    const synOnly = (s.flags & (TCP_FLAG.SYN | TCP_FLAG.ACK | TCP_FLAG.RST)) === TCP_FLAG.SYN;
    if (conn !== null) {
      if (conn.closed) {
        if (!synOnly) return null; // trailing ACK/FIN/RST of a finished connection
        this.forget(conn);
        conn = null;
      } else if (synOnly) {
        const h = s.srcPort === conn.aPort && s.src === conn.aAddr ? conn.ab : conn.ba;
        if (h.synSeen && h.isn !== s.seq) {
          // Port reuse: a new handshake on a 4-tuple whose previous connection never closed visibly.
          this.finishAtEnd(conn, 'evicted');
          this.forget(conn);
          conn = null;
        }
      }
    }
    if (conn === null) conn = this.create(s);
    this.last = conn;
    return conn;
  }

  private create(s: TcpSegment): Connection {
    const k1 = endpointKey(s.src, s.srcPort);
    const k2 = endpointKey(s.dst, s.dstPort);
    const key = k1 < k2 ? `${k1}|${k2}` : `${k2}|${k1}`;
    if (this.openCount >= this.maxConns) this.evictOne();
    const conn = new Connection(key, s.src, s.srcPort, s.dst, s.dstPort, s.time, s.packet);
    this.conns.set(key, conn);
    if (typeof s.src === 'number') {
      const a = s.src * 65536 + s.srcPort;
      const b = (s.dst as number) * 65536 + s.dstPort;
      const lo = a < b ? a : b;
      let inner = this.v4.get(lo);
      if (inner === undefined) this.v4.set(lo, (inner = new Map()));
      inner.set(a < b ? b : a, conn);
    }
    this.openCount++;
    return conn;
  }

  /** CLOCK approximation of least-recently-used: recently touched connections get a second chance. */
  private evictOne(): void {
    const limit = 2 * this.conns.size + 2;
    for (let i = 0; i < limit; i++) {
      const first = this.conns.entries().next();
      if (first.done) return;
      const [key, c] = first.value;
      if (c.closed) {
        this.forget(c);
        continue;
      }
      if (c.touched && i < this.conns.size) {
        c.touched = false;
        this.conns.delete(key);
        this.conns.set(key, c);
        continue;
      }
      this.finishAtEnd(c, 'evicted');
      this.forget(c);
      return;
    }
  }

  private find(s: TcpSegment): Connection | null {
    if (typeof s.src === 'number') {
      const a = s.src * 65536 + s.srcPort;
      const b = (s.dst as number) * 65536 + s.dstPort;
      return (a < b ? this.v4.get(a)?.get(b) : this.v4.get(b)?.get(a)) ?? null;
    }
    const k1 = endpointKey(s.src, s.srcPort);
    const k2 = endpointKey(s.dst, s.dstPort);
    return this.conns.get(k1 < k2 ? `${k1}|${k2}` : `${k2}|${k1}`) ?? null;
  }

  /** Drop a connection from the table (and the IPv4 index) if it is still the one under its key. */
  private forget(conn: Connection): void {
    if (this.conns.get(conn.key) !== conn) return;
    this.conns.delete(conn.key);
    if (typeof conn.aAddr === 'number') {
      const a = conn.aAddr * 65536 + conn.aPort;
      const b = (conn.bAddr as number) * 65536 + conn.bPort;
      const lo = a < b ? a : b;
      const inner = this.v4.get(lo);
      if (inner !== undefined) {
        inner.delete(a < b ? b : a);
        if (inner.size === 0) this.v4.delete(lo);
      }
    }
    if (this.last === conn) this.last = null;
  }

  private sweepIdle(now: number): void {
    this.segmentsSinceSweep = 0;
    for (const c of [...this.conns.values()]) {
      if (!c.closed && now - c.lastTime > this.idleTimeout) this.finishAtEnd(c, 'timeout');
    }
  }

  private close(conn: Connection, reason: CloseReason, fromA: boolean | undefined, time: number, packet: number): void {
    if (conn.closed) return;
    this.open(conn, null, null);
    for (const h of [conn.ab, conn.ba]) {
      this.totalBuffered -= h.buffered;
      h.buffered = 0;
      h.pieces = [];
      h.tail = null;
      h.held = null;
      h.heldBytes = 0;
    }
    conn.closed = true;
    this.openCount--;
    if (this.last === conn) this.last = null;
    this.emit({
      kind: 'close',
      connection: conn.id,
      reason,
      direction: fromA === undefined ? undefined : fromA ? conn.ab.direction : conn.ba.direction,
      time,
      packet: packet || undefined,
      ...(conn.sources !== null ? { sources: conn.sources } : {}),
    });
    // Remember it for a while, so its trailing ACKs do not look like a new connection.
    if (this.conns.get(conn.key) === conn) {
      this.closedQueue.push(conn);
      while (this.closedQueue.length - this.closedHead > this.maxClosed) {
        const old = this.closedQueue[this.closedHead]!;
        this.closedQueue[this.closedHead++] = undefined as unknown as Connection;
        if (this.conns.get(old.key) === old) this.forget(old);
      }
      if (this.closedHead > 1024 && this.closedHead * 2 > this.closedQueue.length) {
        this.closedQueue.splice(0, this.closedHead);
        this.closedHead = 0;
      }
    }
  }

  /** Emits the open event the first time a connection has something to say. */
  private open(conn: Connection, h: HalfStream | null, firstBytes: Uint8Array | null): void {
    if (conn.opened) return;
    conn.opened = true;
    if (conn.clientIsA === undefined) {
      if (firstBytes === null || firstBytes.length === 0) {
        // opened by a segment without bytes (an ACK) while bytes wait for their stream's start:
        // the earliest of those says more about the sides than the ports do
        let first: { h: HalfStream; segment: TcpSegment } | null = null;
        for (const x of [conn.ab, conn.ba]) {
          for (const e of x.held ?? []) {
            if (e.segment.payload.length > 0 && (first === null || e.segment.time < first.segment.time)) first = { h: x, segment: e.segment };
          }
        }
        if (first !== null) [h, firstBytes] = [first.h, first.segment.payload];
      }
      conn.clientIsA = guessClientIsA(conn, h, firstBytes);
    }
    conn.id = ++this.opened;
    conn.ab.direction = conn.clientIsA ? 'clientToServer' : 'serverToClient';
    conn.ba.direction = conn.clientIsA ? 'serverToClient' : 'clientToServer';
    const a = { address: formatAddress(conn.aAddr), port: conn.aPort };
    const b = { address: formatAddress(conn.bAddr), port: conn.bPort };
    this.emit({
      kind: 'open',
      connection: conn.id,
      client: conn.clientIsA ? a : b,
      server: conn.clientIsA ? b : a,
      time: conn.firstTime,
      startedLate: !(conn.ab.synSeen || conn.ba.synSeen),
    });
  }

  // ── one direction ───────────────────────────────────────────────────

  private deliverOrBuffer(conn: Connection, h: HalfStream, seq: number, s: TcpSegment): void {
    const payload = s.payload;
    const n = payload.length;
    const start = h.offsetOf(seq);
    const end = start + n + s.missing;
    const offset = h.offset;
    if (end <= offset) {
      // Retransmission (or a keep-alive probe: one byte just below the next expected one).
      if (n > 1 || end !== offset) this.checkOverlap(conn, h, start, payload, s.time, s.packet);
      return;
    }
    if (start > offset) {
      this.buffer(conn, h, start, s);
      return;
    }
    const skip = offset - start;
    if (skip > 0) this.checkOverlap(conn, h, start, payload.subarray(0, Math.min(skip, n)), s.time, s.packet);
    if (skip < n) this.data(conn, h, skip > 0 ? payload.subarray(skip) : payload, s.time, s.packet);
    if (h.offset < end) this.gap(conn, h, end - h.offset, s.time, s.packet);
    if (h.pieces.length > 0) this.drain(conn, h);
  }

  private data(conn: Connection, h: HalfStream, bytes: Uint8Array, time: number, packet: number): void {
    if (!conn.opened) this.open(conn, h, bytes);
    this.emit({
      kind: 'data',
      connection: conn.id,
      direction: h.direction,
      bytes,
      offset: h.offset,
      time,
      packet: packet || undefined,
    });
    const n = bytes.length;
    h.offset += n;
    h.nextSeq = (h.nextSeq + n) >>> 0;
    if (this.tailSize > 0) appendTail(h, bytes, this.tailSize);
  }

  private gap(conn: Connection, h: HalfStream, size: number, time: number, packet: number): void {
    if (!conn.opened) this.open(conn, h, null);
    this.emit({
      kind: 'gap',
      connection: conn.id,
      direction: h.direction,
      offset: h.offset,
      size,
      time,
      packet: packet || undefined,
    });
    h.offset += size;
    h.nextSeq = (h.nextSeq + size) >>> 0;
    h.tailLen = 0;
  }

  /** Deliver buffered pieces that now touch the delivered edge. */
  private drain(conn: Connection, h: HalfStream): void {
    const pieces = h.pieces;
    let i = 0;
    while (i < pieces.length && pieces[i]!.start <= h.offset) {
      const p = pieces[i++]!;
      if (p.bytes !== null) {
        h.buffered -= pieceCost(p);
        this.totalBuffered -= pieceCost(p);
      }
      if (p.end <= h.offset) {
        if (p.bytes !== null) this.checkOverlap(conn, h, p.start, p.bytes, p.time, p.packet);
        continue;
      }
      const skip = h.offset - p.start;
      if (p.bytes === null) {
        this.gap(conn, h, p.end - h.offset, p.time, p.packet);
        continue;
      }
      if (skip > 0) this.checkOverlap(conn, h, p.start, p.bytes.subarray(0, skip), p.time, p.packet);
      this.data(conn, h, skip > 0 ? p.bytes.subarray(skip) : p.bytes, p.time, p.packet);
    }
    if (i > 0) pieces.splice(0, i);
    this.checkFinished(h);
  }

  /** Declare the hole(s) below `limit` as gaps, delivering buffered pieces in between. */
  private flushTo(conn: Connection, h: HalfStream, limit: number, time: number, packet: number): void {
    while (h.offset < limit) {
      const p = h.pieces[0];
      if (p === undefined || p.start >= limit) {
        this.gap(conn, h, limit - h.offset, time, packet);
        break;
      }
      if (p.start > h.offset) this.gap(conn, h, p.start - h.offset, time, packet);
      this.drain(conn, h);
    }
    this.checkFinished(h);
  }

  private flushAll(conn: Connection, h: HalfStream, time: number, packet: number): void {
    const last = h.pieces[h.pieces.length - 1];
    if (last !== undefined) this.flushTo(conn, h, last.end, time, packet);
  }

  private checkFinished(h: HalfStream): void {
    if (!h.finished && h.finOffset >= 0 && h.offset >= h.finOffset) {
      h.finished = true;
      if (h.pieces.length > 0) {
        // Bytes beyond the FIN cannot belong to this connection.
        for (const p of h.pieces) this.totalBuffered -= pieceCost(p);
        h.pieces = [];
        h.buffered = 0;
      }
    }
  }

  /** The peer acknowledged up to `s.ack`: bytes before it exist even if the capture missed them. */
  private acked(conn: Connection, r: HalfStream, s: TcpSegment): void {
    if (!r.init) {
      r.init = true;
      r.nextSeq = s.ack;
      return;
    }
    if (r.finished) return;
    let ackOffset = r.offsetOf(s.ack);
    if (r.finOffset >= 0 && ackOffset > r.finOffset) ackOffset = r.finOffset;
    if (!(ackOffset > r.offset && ackOffset - r.offset < MAX_ACK_JUMP)) return;
    if (this.ackReorderTolerance === 0) {
      this.flushTo(conn, r, ackOffset, s.time, s.packet);
      return;
    }
    // Remember the acknowledged hole; the bytes may still come (reordered capture).
    // The connection has something to say either way: it opens now, as it did
    // when the hole was declared at once (connection numbers stay in order).
    if (!conn.opened) this.open(conn, r, null);
    if (r.ackedHoleEnd < 0) {
      r.ackedHoleSince = r.segmentsSeen;
      r.ackedHoleConnSince = conn.segments;
      r.ackedHoleEdge = r.offset;
    }
    if (ackOffset > r.ackedHoleEnd) r.ackedHoleEnd = ackOffset;
  }

  /** A pending acknowledged hole: forget it once filled, declare it once the tolerance is used up. */
  private ackedHoleDue(conn: Connection, h: HalfStream, time: number, packet: number): void {
    if (h.finished || h.ackedHoleEnd <= h.offset) h.ackedHoleEnd = -1;
    else if (h.offset !== h.ackedHoleEdge) {
      // Bytes are still coming in (a reordered capture): wait afresh from here.
      h.ackedHoleEdge = h.offset;
      h.ackedHoleSince = h.segmentsSeen;
      h.ackedHoleConnSince = conn.segments;
    } else if (
      // The sender has moved on by the tolerance without filling the hole: lost.
      // Counted in the sender's own segments, as a capture reorders a
      // direction's packets among the other's by any number; a sender that
      // went quiet is bounded by the whole connection's count.
      h.segmentsSeen - h.ackedHoleSince >= this.ackReorderTolerance ||
      conn.segments - h.ackedHoleConnSince >= this.ackReorderTolerance * QUIET_SENDER_FACTOR
    ) {
      // Held segments may carry the bytes: they go in first. While they are
      // being replayed, some are out of the queue and not yet in: decide later.
      if (this.releasing) return;
      if (h.held !== null) {
        this.releaseHeld(conn, true);
        if (conn.closed || h.ackedHoleEnd < 0) return;
      }
      this.flushAckedHole(conn, h, time, packet);
    }
  }

  private flushAckedHole(conn: Connection, h: HalfStream, time: number, packet: number): void {
    let end = h.ackedHoleEnd;
    h.ackedHoleEnd = -1;
    // an ACK of the FIN counts one beyond the bytes; the FIN may have been seen only since
    if (h.finOffset >= 0 && end > h.finOffset) end = h.finOffset;
    if (!h.finished && end > h.offset) this.flushTo(conn, h, end, time, packet);
  }

  /**
   * A RST ends both directions. Its sequence number is where the sender's
   * stream stopped: bytes before it that the capture missed become a gap,
   * buffered bytes beyond it are dropped. Its ACK, if any, still counts for
   * the other direction. Payload on a RST is ignored.
   */
  private reset(conn: Connection, h: HalfStream, r: HalfStream, s: TcpSegment): void {
    if (h.init && !h.finished) {
      const rstOffset = h.offsetOf(s.seq);
      const keep = h.pieces.filter((p) => p.start < rstOffset);
      for (const p of h.pieces) if (p.start >= rstOffset && p.bytes !== null) this.dropBuffered(h, p);
      h.pieces = keep;
      const limit = h.finOffset >= 0 ? Math.min(rstOffset, h.finOffset) : rstOffset;
      if (limit > h.offset && limit - h.offset < MAX_ACK_JUMP) this.flushTo(conn, h, limit, s.time, s.packet);
    }
    if (s.flags & TCP_FLAG.ACK) this.acked(conn, r, s);
    this.flushAckedHole(conn, h, s.time, s.packet);
    this.flushAckedHole(conn, r, s.time, s.packet);
    this.flushAll(conn, h, s.time, s.packet);
    this.flushAll(conn, r, s.time, s.packet);
    this.close(conn, 'rst', h.fromA, s.time, s.packet);
  }

  private dropBuffered(h: HalfStream, p: Piece): void {
    h.buffered -= pieceCost(p);
    this.totalBuffered -= pieceCost(p);
  }

  // ── out-of-order buffer ─────────────────────────────────────────────

  private buffer(conn: Connection, h: HalfStream, start: number, s: TcpSegment): void {
    const n = s.payload.length;
    if (n > 0) {
      const r = insertPiece(h, start, start + n, s.payload, s.time, s.packet);
      h.buffered += r.added;
      this.totalBuffered += r.added;
      if (r.conflictAt >= 0) this.conflict(conn, h, r.conflictAt, s.time, s.packet);
    }
    if (s.missing > 0) insertPiece(h, start + n, start + n + s.missing, null, s.time, s.packet);
    if (h.buffered > this.maxPerDir || h.pieces.length > this.maxSegsPerDir) {
      this.limitHit(conn, h, s, `${h.buffered} bytes (${PIECE_OVERHEAD_BYTES} counted per segment) in ${h.pieces.length} segments buffered behind a hole`);
    }
    while (this.totalBuffered > this.maxTotal) {
      const victim = this.largestBuffer();
      if (victim === null) break;
      this.limitHit(victim[0], victim[1], s, `${this.totalBuffered} out-of-order bytes buffered over all connections`);
    }
  }

  private limitHit(conn: Connection, h: HalfStream, s: TcpSegment, why: string): void {
    if (!h.limitReported) {
      h.limitReported = true;
      if (!conn.opened) this.open(conn, h, null);
      this.diagnostic(conn, 'TCP_BUFFER_LIMIT', `${why}: declaring the hole a gap`, h, h.offset, s.time, s.packet);
    }
    this.flushAll(conn, h, s.time, s.packet);
  }

  private largestBuffer(): [Connection, HalfStream] | null {
    let best: [Connection, HalfStream] | null = null;
    let most = 0;
    for (const c of this.conns.values()) {
      for (const h of [c.ab, c.ba]) {
        if (h.buffered > most) {
          most = h.buffered;
          best = [c, h];
        }
      }
    }
    return best;
  }

  // ── overlaps ────────────────────────────────────────────────────────

  /** Compare re-sent bytes for [start, start + bytes.length) with what was delivered, as far as the tail reaches. */
  private checkOverlap(
    conn: Connection,
    h: HalfStream,
    start: number,
    bytes: Uint8Array,
    time: number,
    packet: number,
  ): void {
    const at = tailMismatch(h, start, bytes);
    if (at >= 0) this.conflict(conn, h, at, time, packet);
  }

  private conflict(conn: Connection, h: HalfStream, offset: number, time: number, packet: number): void {
    conn.conflicts++;
    if (conn.conflicts > this.maxConflictReports) return;
    const more = conn.conflicts === this.maxConflictReports ? ' (further conflicts on this connection not reported)' : '';
    if (!conn.opened) this.open(conn, h, null);
    this.diagnostic(
      conn,
      'TCP_OVERLAP_CONFLICT',
      `retransmitted bytes differ from the bytes first seen; keeping the first copy${more}`,
      h,
      offset,
      time,
      packet,
    );
  }

  private diagnostic(
    conn: Connection,
    code: string,
    message: string,
    h: HalfStream,
    offset: number,
    time: number,
    packet: number,
  ): void {
    const error = new KubewireError('tcp', code, 'connection', message, {
      connection: conn.id,
      direction: h.direction,
      offset,
      packet: packet || undefined,
    });
    if (this.strict) throw error;
    this.emit({ kind: 'diagnostic', connection: conn.id, time, error });
  }
}

/** Adds an input to the connection's sources (kept sorted; a handful at most). */
function noteSource(conn: Connection, source: number): void {
  const list = conn.sources;
  if (list === null) {
    conn.sources = [source];
    return;
  }
  if (list.includes(source)) return;
  list.push(source);
  list.sort((a, b) => a - b);
}

function endpointKey(addr: IpAddress, port: number): string | number {
  return typeof addr === 'number' ? addr * 65536 + port : `${addr}.${port}`;
}


/** Reassemble a list of segments (tests, small inputs): all events, in order. */
export function reassembleTcp(
  segments: Iterable<TcpSegment>,
  options: Omit<TcpReassemblerOptions, 'onEvent'> = {},
): ConnectionEvent[] {
  const events: ConnectionEvent[] = [];
  const r = new TcpReassembler({
    ...options,
    onEvent: (e) => events.push(e.kind === 'data' ? { ...e, bytes: copyBytes(e.bytes) } : e),
  });
  for (const s of segments) r.segment(s);
  r.end();
  return events;
}

/** A side holds bytes that wait for its stream's start to be known. */
function heldStart(h: HalfStream): boolean {
  return h.held !== null && !h.started && !h.synSeen && h.held.some((e) => e.start);
}
