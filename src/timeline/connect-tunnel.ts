/**
 * What a connection carries after `CONNECT host:port` was answered 2xx: a
 * byte stream of its own, both ways, from the end of the two heads on
 * (RFC 9110 §9.3.6). kubectl and every client library reach a cluster
 * through an HTTPS proxy this way, so the tunnel usually carries TLS to the
 * API server, and in it the same HTTP, upgrades and sessions as a direct
 * connection.
 *
 * The tunnel is decoded as a connection of its own, on the same connection
 * number: a TLS gate (decrypting with the key log, as for any connection)
 * in front of a connection decoder that classifies the tunnelled bytes
 * afresh. Offsets inside it count from the tunnel's first byte in each
 * direction (plaintext offsets once TLS is decrypted).
 */
import type { Direction } from '../common/errors.js';
import type { ConnectionClose, ConnectionOpen } from '../tcp/types.js';
import type { TlsKeyLog } from '../tls/keylog.js';
import type { ConnectionDecoder } from './connection.js';
import type { TimelineEvent } from './events.js';
import type { RequestSummary, SessionSummary, TlsConnectionSummary } from './summary-types.js';
import { TlsGate } from './tls-gate.js';

export class ConnectTunnel {
  private readonly gate: TlsGate;
  private readonly inner: ConnectionDecoder;
  private ended = false;

  /**
   * `open`: the connection as the tunnel's ends see it (the proxy's client
   * and the proxy); `target`: the CONNECT's; `start`: the outer stream's offset of the tunnel's first
   * byte per direction; `decoder` makes the inner connection decoder (the
   * outer one's class, passed in rather than imported: it is the importer).
   */
  constructor(
    open: ConnectionOpen,
    keys: TlsKeyLog | null,
    /** What the CONNECT asked for (`host:port`). */
    target: string,
    private readonly start: Record<Direction, number>,
    decoder: (open: ConnectionOpen) => ConnectionDecoder,
  ) {
    this.gate = new TlsGate(open, keys, target);
    this.inner = decoder(open);
  }

  /** Bytes of the outer stream at `offset` (at or after the tunnel's start). */
  data(d: Direction, bytes: Uint8Array, offset: number, time: number, out: TimelineEvent[]): void {
    const ev = { kind: 'data' as const, connection: this.inner.id, time, direction: d, offset: offset - this.start[d], bytes };
    if (this.gate.passthrough) this.inner.data(ev, out);
    else this.gate.data(ev, this.inner, out);
  }

  gap(d: Direction, offset: number, size: number, time: number, out: TimelineEvent[]): void {
    const ev = { kind: 'gap' as const, connection: this.inner.id, time, direction: d, offset: offset - this.start[d], size };
    if (this.gate.passthrough) this.inner.gap(ev, out);
    else this.gate.gap(ev, this.inner, out);
  }

  /** The outer connection ends; the tunnel's decoder says what it has, without a close event of its own. */
  end(time: number, reason: ConnectionClose['reason'], out: TimelineEvent[]): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.gate.passthrough) this.gate.end(time, this.inner, out);
    this.inner.endTunnelled(time, reason, out);
  }

  get sessionId(): number | null {
    return this.inner.sessionId;
  }

  sessionSummaries(): SessionSummary[] {
    return this.inner.sessionSummaries();
  }

  requestSummaries(): RequestSummary[] {
    return this.inner.requestSummaries();
  }

  get hasSummary(): boolean {
    return this.inner.hasSummary;
  }

  get requestCount(): number {
    return this.inner.requestCount;
  }

  /** The TLS the tunnel carries, once its first record came; null otherwise. */
  get tls(): TlsConnectionSummary | null {
    return this.gate.summary;
  }
}
