/**
 * One stream (SPDY) or channel (WebSocket) of a session: role, counters and
 * a running sha256 per direction. Bytes are hashed and dropped, never kept.
 */
import { createHash } from 'node:crypto';
import type { Direction } from '../common/errors.js';
import { INLINE_DIGESTS, type DigestEngine, type RunningDigest } from './digests.js';
import type { StreamRole } from './events.js';
import type { DirectionBytes, StreamSummary } from './summary-types.js';

const EMPTY_SHA256 = createHash('sha256').digest('hex');

export class DirectionCounter {
  bytes = 0;
  private hash: RunningDigest | null = null;
  private markedBytes = 0;
  private markedHash: RunningDigest | null = null;

  /** `digests` null: count only (the summary then reports `sha256: null`). */
  constructor(private readonly digests: DigestEngine | null) {}

  add(b: Uint8Array): void {
    if (b.length === 0) return;
    if (this.digests) (this.hash ??= this.digests.open()).update(b);
    this.bytes += b.length;
  }

  /** Whether `mark()` and `rewind()` can take bytes back (the digest engine can). */
  get rewindable(): boolean {
    return this.hash === null || (this.hash.mark !== undefined && this.hash.rewind !== undefined);
  }

  /** Before the first piece of a DATA frame delivered in pieces: where to come back to if it is cut. */
  mark(): void {
    this.markedBytes = this.bytes;
    this.markedHash = this.hash;
    this.hash?.mark!();
  }

  /** The frame begun at `mark()` was cut (a gap, the end of input): its pieces do not count, as a whole frame's would not. */
  rewind(): void {
    this.bytes = this.markedBytes;
    // no bytes had been hashed at the mark: forget the digest opened since
    if (this.markedHash) this.markedHash.rewind!();
    this.hash = this.markedHash;
  }

  summary(): DirectionBytes {
    if (!this.digests) return { bytes: this.bytes, sha256: null };
    return { bytes: this.bytes, sha256: this.hash ? this.hash.hex() : EMPTY_SHA256 };
  }
}

export class StreamState {
  role: StreamRole;
  inferred: boolean;
  port: number | null = null;
  requestId: string | null = null;
  readonly counters: Record<Direction, DirectionCounter>;
  readonly halfClosed: Record<Direction, boolean> = { clientToServer: false, serverToClient: false };
  reset: { direction: Direction; status: number; statusName: string } | null = null;
  closedEventSent = false;
  /** Error stream: bytes kept (bounded) to read the status. */
  statusBytes: Uint8Array[] = [];
  statusLength = 0;
  /** WebSocket port-forward: the server's 2-byte port prefix is still to come on this channel. */
  portPrefixPending = false;
  /** WebSocket port-forward: bytes of a port prefix split across messages. */
  portPrefixPartial: number[] = [];

  constructor(
    readonly id: number,
    role: StreamRole,
    inferred: boolean,
    /** Who opened it; null when it was first seen without its opening (a joined capture). */
    public openedBy: Direction | null,
    /** Where sha256 digests are kept; null for none (see `SessionDecoderOptions.digests`). */
    digests: DigestEngine | null = INLINE_DIGESTS,
  ) {
    this.counters = { clientToServer: new DirectionCounter(digests), serverToClient: new DirectionCounter(digests) };
    this.role = role;
    this.inferred = inferred;
  }

  /** The sides were the other way round (a joined capture): exchange per-direction state. */
  swapDirections(): void {
    const c = this.counters.clientToServer;
    this.counters.clientToServer = this.counters.serverToClient;
    this.counters.serverToClient = c;
    const h = this.halfClosed.clientToServer;
    this.halfClosed.clientToServer = this.halfClosed.serverToClient;
    this.halfClosed.serverToClient = h;
    if (this.reset) this.reset.direction = this.reset.direction === 'clientToServer' ? 'serverToClient' : 'clientToServer';
    if (this.openedBy) this.openedBy = this.openedBy === 'clientToServer' ? 'serverToClient' : 'clientToServer';
  }

  summary(): StreamSummary {
    // key order as in the summary contract
    const s = { role: this.role, id: this.id } as StreamSummary;
    if (this.port !== null) s.port = this.port;
    if (this.requestId !== null) s.requestId = this.requestId;
    s.clientToServer = this.counters.clientToServer.summary();
    s.serverToClient = this.counters.serverToClient.summary();
    s.inferred = this.inferred;
    s.halfClosed = { ...this.halfClosed };
    s.reset = this.reset ? { ...this.reset } : null;
    return s;
  }
}
