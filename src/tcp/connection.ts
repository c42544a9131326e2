/**
 * Per-connection reassembly state. Half-streams are indexed by who sent
 * first: `ab` carries bytes from endpoint A (the sender of the first packet
 * seen) to B; roles (client/server) are decided when the connection opens.
 */
import type { Direction } from '../common/errors.js';
import type { IpAddress, TcpSegment } from './segment.js';

/** Out-of-order bytes waiting for the hole before them, or a known hole (`bytes` null: snaplen cut). */
export interface Piece {
  /** Stream offsets [start, end). */
  start: number;
  end: number;
  /** A copy (never a view into capture input), or null for bytes known to be missing. */
  bytes: Uint8Array | null;
  time: number;
  packet: number;
}

export class HalfStream {
  /** The sequence number of offset 0 is known (from a SYN, the first segment, or the peer's ACK). */
  init = false;
  synSeen = false;
  /** Initial sequence number, when a SYN was seen. */
  isn = 0;
  /** Sequence number of the next byte to deliver, and its stream offset (gaps count). */
  nextSeq = 0;
  offset = 0;
  /** Stream offset of the FIN (−1 until seen); `finished` once delivery reached it. */
  finOffset = -1;
  finished = false;
  /** Sorted by start, non-overlapping. */
  pieces: Piece[] = [];
  buffered = 0;
  /**
   * The last `tailLen` delivered bytes, kept to compare retransmissions with:
   * a ring whose next write position is `tailPos`.
   */
  tail: Uint8Array | null = null;
  tailLen = 0;
  tailPos = 0;
  direction: Direction = 'clientToServer';
  limitReported = false;
  /**
   * The peer acknowledged up to this offset, beyond the delivered edge, and
   * the hole is not declared yet (−1: none pending). See
   * `TcpReassemblerOptions.ackReorderTolerance`.
   */
  ackedHoleEnd = -1;
  /**
   * `segmentsSeen` when the delivered edge was last seen to move with
   * an acknowledged hole pending: the tolerance counts how long the edge is
   * stuck, not how long some hole has existed (a reordered stream always has
   * one, each filled in turn).
   */
  ackedHoleSince = 0;
  /** The delivered edge (`offset`) when `ackedHoleSince` was set. */
  ackedHoleEdge = 0;
  /** `Connection.segments` at the same moment (bounds the wait of a sender gone quiet). */
  ackedHoleConnSince = 0;
  /** Segments seen from this side (the clock of the ACK reorder tolerance). */
  segmentsSeen = 0;
  /**
   * Segments from this side waiting for the other side's bytes they
   * acknowledge (copies), in arrival order; null when none.
   */
  held: Array<{ segment: TcpSegment; since: number; start: boolean }> | null = null;
  /** A SYN or a byte of this side went through (its stream start is settled). */
  started = false;
  heldBytes = 0;

  constructor(readonly fromA: boolean) {}

  /** Stream offset of sequence number `seq` (within 2^31 of the next expected byte). */
  offsetOf(seq: number): number {
    return this.offset + ((seq - this.nextSeq) | 0);
  }
}

export class Connection {
  /** Assigned when the open event is emitted (1-based, in order of opening). */
  id = 0;
  opened = false;
  closed = false;
  /** Set by a SYN (sender = client) or SYN-ACK (sender = server); else guessed at open. */
  clientIsA: boolean | undefined = undefined;
  /** Which half sent the first FIN. */
  finFromA: boolean | undefined = undefined;
  /** Second-chance bit for eviction: set on every segment, cleared by the eviction sweep. */
  touched = true;
  firstTime: number;
  lastTime: number;
  lastPacket: number;
  conflicts = 0;
  /** `TcpSegment.source` values seen (merged captures), ascending; null when none carried one. */
  sources: number[] | null = null;
  /** Segments seen on this connection (both directions): the clock of the ACK reorder tolerance. */
  segments = 0;
  /** A RST that came before bytes it follows, waiting for them (reorder tolerance). */
  rst: { segment: TcpSegment; fromA: boolean; since: number } | null = null;
  readonly ab = new HalfStream(true);
  readonly ba = new HalfStream(false);

  constructor(
    readonly key: string,
    readonly aAddr: IpAddress,
    readonly aPort: number,
    readonly bAddr: IpAddress,
    readonly bPort: number,
    time: number,
    packet: number,
  ) {
    this.firstTime = time;
    this.lastTime = time;
    this.lastPacket = packet;
  }
}
