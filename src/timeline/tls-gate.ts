/**
 * Between TCP and a connection's decoder: a connection whose first bytes are
 * a TLS record goes through a `TlsDecoder`, and its decoder is fed the
 * plaintext (with plaintext offsets) as if the connection carried it in the
 * clear, so HTTP, upgrades, sessions and every output work on it. A
 * connection that is not TLS is handed over at its first bytes and the gate
 * steps aside (one map lookup per event until then).
 */
import { copyBytes } from '../common/bytes.js';
import { oppositeDirection, type Direction } from '../common/errors.js';
import type { ConnectionData, ConnectionGap, ConnectionOpen } from '../tcp/types.js';
import { TlsDecoder } from '../tls/decoder.js';
import type { TlsKeyLog } from '../tls/keylog.js';
import type { TlsEvent } from '../tls/types.js';
import type { ConnectionDecoder } from './connection.js';
import type { TimelineEvent } from './events.js';
import { endpointText } from './session.js';
import { looksLikeTls } from './sniff-framing.js';
import type { TlsConnectionSummary } from './summary-types.js';

const CT_HANDSHAKE = 0x16;
const HS_CLIENT_HELLO = 1;
const HS_SERVER_HELLO = 2;
/** Events held while the first record header is still incomplete (a peer that sends bytes one at a time). */
const MAX_HELD_EVENTS = 64;

export class TlsGate {
  /** Undecided: the first bytes have not come yet. */
  private tls: TlsDecoder | null = null;
  /** Raw TCP direction that is the TLS client's. */
  private clientDir: Direction = 'clientToServer';
  private held: ConnectionData[] = [];
  /** The gate has nothing more to do: hand every event to the connection decoder. */
  passthrough = false;
  summary: TlsConnectionSummary | null = null;

  constructor(
    private readonly openEv: ConnectionOpen,
    private readonly keys: TlsKeyLog | null,
    /** The CONNECT target, for the TLS inside a proxy's tunnel. */
    private readonly tunnel: string | null = null,
  ) {}

  data(ev: ConnectionData, c: ConnectionDecoder, out: TimelineEvent[]): void {
    if (!this.tls) {
      this.held.push({ ...ev, bytes: copyBytes(ev.bytes) }); // the event's bytes are valid only during the call
      if (this.held.length > MAX_HELD_EVENTS) return this.handOver(c, out);
      const first = this.held[0]!;
      const b = first.bytes.length >= 6 || this.held.length === 1 ? first.bytes : concat(this.held.filter((h) => h.direction === first.direction).map((h) => h.bytes));
      if (b.length < 6 && !looksLikeTls(b)) {
        if (b.length < 3) return; // too few bytes to tell
        return this.handOver(c, out);
      }
      if (!looksLikeTls(b)) return this.handOver(c, out);
      if (b[0] === CT_HANDSHAKE && b.length < 6) return;
      // the ClientHello's sender is the TLS client, whatever TCP guessed
      const hs = b[0] === CT_HANDSHAKE ? b[5] : -1;
      if (hs === HS_CLIENT_HELLO) this.clientDir = first.direction;
      else if (hs === HS_SERVER_HELLO) this.clientDir = oppositeDirection(first.direction);
      this.start();
      const held = this.held;
      this.held = [];
      for (const h of held) this.feed(h, c, out);
      return;
    }
    this.feed(ev, c, out);
  }

  gap(ev: ConnectionGap, c: ConnectionDecoder, out: TimelineEvent[]): void {
    if (!this.tls) {
      // a loss before the first bytes: not ours to judge
      this.handOver(c, out);
      c.gap(ev, out);
      return;
    }
    if (!this.tls.decrypting) return;
    this.emit(this.tls.gap(this.tlsDir(ev.direction), ev.size), ev.time, c, out);
  }

  /** The connection ends (close or end of input): say what is known before the decoder closes. */
  end(time: number, c: ConnectionDecoder, out: TimelineEvent[]): void {
    if (!this.tls) {
      if (this.held.length > 0) this.handOver(c, out);
      return;
    }
    this.emit(this.tls.end(), time, c, out);
  }

  private start(): void {
    this.tls = new TlsDecoder({ connection: this.openEv.connection, keys: this.keys });
    const client = this.clientDir === 'clientToServer' ? this.openEv.client : this.openEv.server;
    const server = this.clientDir === 'clientToServer' ? this.openEv.server : this.openEv.client;
    this.summary = { connection: this.openEv.connection, client: endpointText(client), server: endpointText(server), tunnel: this.tunnel, ...this.tls.description };
  }

  private feed(ev: ConnectionData, c: ConnectionDecoder, out: TimelineEvent[]): void {
    const tls = this.tls!;
    if (!tls.decrypting) return;
    this.emit(tls.push(this.tlsDir(ev.direction), ev.bytes, ev.offset), ev.time, c, out);
  }

  private emit(events: TlsEvent[], time: number, c: ConnectionDecoder, out: TimelineEvent[]): void {
    const connection = this.openEv.connection;
    for (const e of events) {
      switch (e.kind) {
        case 'plaintext':
          c.data({ kind: 'data', connection, time, direction: this.rawDir(e.direction), offset: e.offset, bytes: e.bytes }, out);
          break;
        case 'gap':
          c.gap({ kind: 'gap', connection, time, direction: this.rawDir(e.direction), offset: e.offset, size: e.size }, out);
          break;
        case 'described':
          out.push({ kind: 'tls', time, connection, ...e.description, alpnOffered: [...e.description.alpnOffered] });
          if (!e.description.decrypted) c.tlsOpaque(time, out);
          break;
        case 'diagnostic':
          out.push({ kind: 'diagnostic', time, connection, session: c.sessionId, direction: e.error.direction ? this.rawDir(e.error.direction) : null, streamId: null, error: e.error });
          break;
        default: {
          const never: never = e;
          throw new Error(`unhandled TLS event ${(never as { kind: string }).kind}`);
        }
      }
    }
    if (this.summary) Object.assign(this.summary, this.tls!.description, { alpnOffered: [...this.tls!.description.alpnOffered] });
  }

  private handOver(c: ConnectionDecoder, out: TimelineEvent[]): void {
    this.passthrough = true;
    const held = this.held;
    this.held = [];
    for (const h of held) c.data(h, out);
  }

  private tlsDir(raw: Direction): Direction {
    return this.clientDir === 'clientToServer' ? raw : oppositeDirection(raw);
  }

  private rawDir(tls: Direction): Direction {
    return this.clientDir === 'clientToServer' ? tls : oppositeDirection(tls);
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  return Buffer.concat(chunks);
}
