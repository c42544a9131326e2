/**
 * One TLS connection, sans-IO: the TCP bytes of each direction in (any
 * chunking), decrypted application data, a description and diagnostics out.
 *
 * Records (RFC 8446 §5.1, RFC 5246 §6.2):
 *
 *   type u8 | legacy version u16 | length u16 | fragment
 *
 * TLS 1.3: everything after the ServerHello is protected, first with the
 * handshake traffic secrets, after each side's Finished with its application
 * traffic secret, renewed by KeyUpdate. TLS 1.2: each direction is protected
 * from its ChangeCipherSpec on, with keys from the master secret.
 *
 * A record that fails authentication costs that record: the sequence number
 * moves on (a few later numbers are tried first, in case records were lost),
 * and the other direction is not affected.
 */
import { ByteQueue } from '../common/byte-queue.js';
import { copyBytes } from '../common/bytes.js';
import type { Direction } from '../common/errors.js';
import { TLS_ERROR, tlsError } from './errors.js';
import {
  HS_CLIENT_HELLO,
  HS_CLIENT_KEY_EXCHANGE,
  HS_ENCRYPTED_EXTENSIONS,
  HS_FINISHED,
  HS_KEY_UPDATE,
  HS_SERVER_HELLO,
  HandshakeReader,
  parseClientHello,
  parseEncryptedExtensionsAlpn,
  parseServerHello,
  type ClientHelloInfo,
  type ServerHelloInfo,
} from './handshake.js';
import { tls12Keys, tls13Keys, tls13NextSecret } from './key-schedule.js';
import type { ConnectionSecrets, TlsKeyLog } from './keylog.js';
import { RecordCipher } from './record-cipher.js';
import { aeadSuite, suiteName, versionName, type AeadSuite } from './suites.js';
import type { NotDecryptedReason, TlsDescription, TlsEvent } from './types.js';

const CT_CHANGE_CIPHER_SPEC = 20;
const CT_ALERT = 21;
const CT_HANDSHAKE = 22;
const CT_APPLICATION_DATA = 23;
const CT_HEARTBEAT = 24;

const HEADER = 5;
/** RFC 5246 §6.2.3: TLSCiphertext.length ≤ 2^14 + 2048 (TLS 1.3 allows less; be lenient). */
const MAX_RECORD = 16384 + 2048;
/** Later sequence numbers tried for a record that fails, in case records before it were lost. */
const SEQ_LOOKAHEAD = 8;
/**
 * The smallest protected record (header, one byte, a 16-byte tag): lost bytes
 * divided by it bound how many records a gap can have held. kubectl's SPDY
 * traffic mixes 16 KiB records with ~25-byte ones, so a count by the largest
 * record size misses most of them.
 */
const MIN_RECORD = HEADER + 1 + 16;
/** Bound on the sequence numbers tried for one record (each try is one AEAD open). */
const MAX_LOOKAHEAD = 4096;
/** Records in a row that fail to open before a direction stops trying (wrong keys, not lost records). */
const MAX_FAILED_IN_ROW = 64;
const TLS12 = 0x0303;
const TLS13 = 0x0304;

export interface TlsDecoderOptions {
  connection?: number;
  /** Where secrets come from; none: the connection is described, never decrypted. */
  keys?: TlsKeyLog | null;
  /** Encrypted bytes held while waiting for a key to appear in a growing key log. */
  maxHeldBytes?: number;
}

interface HeldRecord {
  d: Direction;
  header: Uint8Array;
  body: Uint8Array;
  offset: number;
}

interface Side {
  /** Bytes the careful path reads: after garbage or a gap, while looking for a record header. */
  q: ByteQueue;
  /** A record cut by the end of an input: its bytes so far (`partFill` of them), from TCP offset `partOffset`. */
  part: Uint8Array;
  partFill: number;
  partOffset: number;
  /** Plaintext handshake messages (hellos) and, protected, the rest. */
  clearHs: HandshakeReader;
  protectedHs: HandshakeReader;
  /** From here the side's records are protected. */
  protectedFrom: boolean;
  cipher: RecordCipher | null;
  /** TLS 1.3: the current traffic secret (for KeyUpdate) and the application secret to switch to. */
  secret: Uint8Array | null;
  appSecret: Uint8Array | null;
  /** TLS 1.3: a key change takes effect after the record that announced it. */
  switchTo: Uint8Array | null;
  plainOffset: number;
  /** Looking for a record header again (after garbage or a gap); `lost` TLS bytes to estimate skipped records. */
  resync: boolean;
  lost: number;
  /** Records in a row that did not open. */
  failedInRow: number;
}

type Status = 'hello' | 'waiting' | 'decrypting' | 'off';

export class TlsDecoder {
  readonly description: TlsDescription = {
    version: null,
    serverName: null,
    alpnOffered: [],
    alpn: null,
    cipherSuite: null,
    decrypted: false,
    reason: null,
    resumed: false,
    extendedMasterSecret: false,
    helloRetryRequest: false,
    recordsDecrypted: 0,
    recordsFailed: 0,
  };
  private readonly sides: Record<Direction, Side> = { clientToServer: newSide(), serverToClient: newSide() };
  private status: Status = 'hello';
  private ch: ClientHelloInfo | null = null;
  private sh: ServerHelloInfo | null = null;
  private suite: AeadSuite | null = null;
  private described = false;
  private describeWhenReady = false;
  private held: HeldRecord[] = [];
  /** Client records after its ClientHello that came before the ServerHello did (directions are not ordered between them). */
  private early: HeldRecord[] = [];
  private heldBytes = 0;
  private clientKeyExchange = false;
  private readonly connection: number | undefined;
  private readonly keys: TlsKeyLog | null;
  private readonly maxHeld: number;
  private out: TlsEvent[] = [];

  constructor(opts: TlsDecoderOptions = {}) {
    this.connection = opts.connection;
    this.keys = opts.keys ?? null;
    this.maxHeld = opts.maxHeldBytes ?? 4 * 1024 * 1024;
  }

  /** Whether application data is being decrypted (or may still be, once a key arrives). */
  get decrypting(): boolean {
    return this.status === 'decrypting' || this.status === 'waiting' || this.status === 'hello';
  }

  /** TCP bytes of one direction; `offset` is the TCP stream offset of `bytes[0]`. The bytes are not kept. */
  push(d: Direction, bytes: Uint8Array, offset: number): TlsEvent[] {
    this.out = [];
    if (this.status === 'off') return this.out;
    const s = this.sides[d];
    if (this.status === 'waiting') this.retryKeys();
    let at = 0;
    while (at < bytes.length && s.q.length === 0 && !s.resync && (this.status as Status) !== 'off') {
      if (s.partFill > 0) {
        // finish the record cut by the previous input
        at = this.fillPart(d, bytes, at, offset);
        continue;
      }
      // whole records straight from the input (no copy)
      at = this.direct(d, bytes, at, offset);
      s.q.offset = offset + at;
      if (at === bytes.length || (this.status as Status) === 'off') return this.out;
      if (bytes.length - at >= HEADER && !plausibleHeader(bytes, at)) break; // the careful path reports it
      // a record cut by the end of the input: its bytes so far go to the side's record buffer
      at = this.fillPart(d, bytes, at, offset);
    }
    if (at === bytes.length || (this.status as Status) === 'off') return this.out;
    if (s.q.length === 0) s.q.offset = offset + at;
    s.q.push(copyBytes(bytes, at)); // the input is valid only during this call
    this.records(d);
    if (s.q.length > 0 && !s.resync && (this.status as Status) !== 'off') {
      // back on track: the incomplete record left goes to the record buffer, and the next input takes the fast path
      s.partOffset = s.q.offset;
      s.partFill = s.q.length;
      s.part.set(s.q.take(s.q.length), 0);
    }
    return this.out;
  }

  /**
   * Records wholly inside `bytes` from `i`, read in place; returns where the
   * first incomplete (or odd) one starts.
   */
  private direct(d: Direction, bytes: Uint8Array, i: number, offset: number): number {
    const s = this.sides[d];
    while (bytes.length - i >= HEADER && this.status !== 'off' && s.q.length === 0 && !s.resync) {
      if (!plausibleHeader(bytes, i)) return i;
      const length = (bytes[i + 3]! << 8) | bytes[i + 4]!;
      if (bytes.length - i < HEADER + length) return i;
      this.record(d, bytes.subarray(i, i + HEADER), bytes.subarray(i + HEADER, i + HEADER + length), offset + i);
      i += HEADER + length;
    }
    return i;
  }

  /**
   * Copy the next bytes of a record cut by the end of an input into the side's
   * record buffer (one buffer per direction, reused: a record's bytes are not
   * kept past `record`, which copies what it holds); open the record once it
   * is whole. A header that turns out not to be plausible moves the bytes to
   * the queue, where the careful path reports it. Returns where it stopped in
   * `bytes`.
   */
  private fillPart(d: Direction, bytes: Uint8Array, at: number, offset: number): number {
    const s = this.sides[d];
    if (s.partFill === 0) s.partOffset = offset + at;
    const part = s.part;
    if (s.partFill < HEADER) {
      const n = Math.min(HEADER - s.partFill, bytes.length - at);
      part.set(bytes.subarray(at, at + n), s.partFill);
      s.partFill += n;
      at += n;
      if (s.partFill < HEADER) return at;
      if (!plausibleHeader(part, 0)) {
        s.q.offset = s.partOffset;
        s.q.push(part.slice(0, HEADER));
        s.partFill = 0;
        return at;
      }
    }
    const need = HEADER + ((part[3]! << 8) | part[4]!);
    const n = Math.min(need - s.partFill, bytes.length - at);
    part.set(bytes.subarray(at, at + n), s.partFill);
    s.partFill += n;
    at += n;
    if (s.partFill === need) {
      s.partFill = 0;
      s.q.offset = s.partOffset + need;
      this.record(d, part.subarray(0, HEADER), part.subarray(HEADER, need), s.partOffset);
    }
    return at;
  }

  /** `size` TCP bytes of direction `d` were not captured. */
  gap(d: Direction, size: number): TlsEvent[] {
    this.out = [];
    if (this.status === 'off') return this.out;
    const s = this.sides[d];
    const at = s.partFill > 0 ? s.partOffset : s.q.offset;
    s.lost += s.partFill + s.q.length + size;
    s.partFill = 0;
    s.q.clear();
    s.q.offset = at + size;
    s.resync = true;
    if (this.status === 'hello' && (this.ch === null || this.sh === null)) {
      this.stop('handshake-not-captured');
      this.diag(TLS_ERROR.HANDSHAKE_NOT_CAPTURED, `${size} bytes of the handshake were not captured; the connection cannot be decrypted`, d, at);
      return this.out;
    }
    this.diag(TLS_ERROR.GAP, `${size} TLS bytes lost; looking for the next record (TLS-record offset)`, d, at);
    if (this.status === 'decrypting') {
      this.out.push({ kind: 'gap', direction: d, offset: s.plainOffset, size });
      s.plainOffset += size;
    }
    return this.out;
  }

  /** End of the connection: say what is known. */
  end(): TlsEvent[] {
    this.out = [];
    if (this.status === 'waiting') {
      this.held = [];
      this.stop('no-key');
    } else if (this.status === 'hello') {
      if (this.ch !== null && this.sh === null) {
        const s = this.sides.serverToClient;
        this.diag(TLS_ERROR.HANDSHAKE_NOT_CAPTURED, 'the connection ended before the ServerHello: version and cipher suite unknown', 'serverToClient', s.partFill > 0 ? s.partOffset : s.q.offset);
      }
      this.early = [];
      this.stop(this.sh === null ? 'handshake-not-captured' : 'no-key');
    }
    this.flushDescription();
    return this.out;
  }

  // --- records ---------------------------------------------------------------

  private records(d: Direction): void {
    const s = this.sides[d];
    const q = s.q;
    for (;;) {
      if (this.status === 'off') return;
      if (s.resync && !this.findHeader(s)) return;
      if (q.length < HEADER) return;
      const type = q.byteAt(0);
      const major = q.byteAt(1);
      const length = q.uint16At(3);
      if (type < CT_CHANGE_CIPHER_SPEC || type > CT_HEARTBEAT || major !== 3 || length > MAX_RECORD) {
        if (this.status === 'hello' && this.ch === null) {
          // not TLS after all, or joined inside a record: nothing to decrypt
          this.stop('handshake-not-captured');
          return;
        }
        this.diag(TLS_ERROR.BAD_RECORD, `not a TLS record header (type ${type}, version ${major}.${q.byteAt(2)}, length ${length}); looking for the next record (TLS-record offset)`, d, q.offset);
        s.resync = true;
        q.skip(1);
        s.lost += 1;
        continue;
      }
      if (q.length < HEADER + length) return;
      const offset = q.offset;
      const rec = q.take(HEADER + length);
      this.record(d, rec.subarray(0, HEADER), rec.subarray(HEADER), offset);
    }
  }

  /** Skip to something that looks like the header of a protected record. */
  private findHeader(s: Side): boolean {
    const q = s.q;
    while (q.length >= HEADER) {
      const t = q.byteAt(0);
      if ((t === CT_APPLICATION_DATA || t === CT_ALERT || t === CT_HANDSHAKE) && q.byteAt(1) === 3 && q.byteAt(2) <= 4 && q.uint16At(3) <= MAX_RECORD && q.uint16At(3) >= 17) {
        s.resync = false;
        return true;
      }
      q.skip(1);
      s.lost++;
    }
    return false;
  }

  private record(d: Direction, header: Uint8Array, body: Uint8Array, offset: number): void {
    const s = this.sides[d];
    const type = header[0]!;
    // the directions are not ordered between them: hold what cannot be read yet (the server's bytes before the ClientHello, the client's after it before the ServerHello)
    if (this.status === 'hello' && (d === 'clientToServer' ? this.ch !== null && this.sh === null : this.ch === null)) {
      this.heldBytes += header.length + body.length;
      if (this.heldBytes > this.maxHeld) {
        this.early = [];
        this.stop('handshake-not-captured');
        return;
      }
      this.early.push({ d, header: copyBytes(header), body: copyBytes(body), offset }); // copies: the input may be a view of a recycled buffer
      return;
    }
    if (!s.protectedFrom) {
      if (type === CT_HANDSHAKE) return this.clearHandshake(d, body, offset);
      if (type === CT_CHANGE_CIPHER_SPEC) return this.changeCipherSpec(d);
      if (type === CT_ALERT) return;
      // protected data before the handshake said so: the handshake is not in the capture
      if (this.status === 'hello') this.stop('handshake-not-captured');
      return;
    }
    if (type === CT_CHANGE_CIPHER_SPEC) return; // TLS 1.3 middlebox compatibility (RFC 8446 §5)
    // TLS 1.3 protects records as application_data (RFC 8446 §5.2): a handshake record is in the clear (the ClientHello after a HelloRetryRequest)
    if (type === CT_HANDSHAKE && this.sh?.version === TLS13) return this.clearHandshake(d, body, offset);
    if (this.status === 'waiting') {
      this.hold(d, header, body, offset);
      return;
    }
    if (this.status !== 'decrypting' || !s.cipher) return;
    this.openRecord(d, header, body, offset);
  }

  private openRecord(d: Direction, header: Uint8Array, body: Uint8Array, offset: number): void {
    const s = this.sides[d];
    const cipher = s.cipher!;
    if (s.failedInRow >= MAX_FAILED_IN_ROW) return;
    const lookahead = Math.min(MAX_LOOKAHEAD, SEQ_LOOKAHEAD + Math.ceil(s.lost / MIN_RECORD));
    let opened = null;
    let seq = cipher.seq;
    for (let k = 0; k <= lookahead && !opened; k++) {
      opened = cipher.open(header, body, cipher.seq + k);
      if (opened) seq = cipher.seq + k;
    }
    if (!opened && cipher.tls13 && s.appSecret && s.secret !== s.appSecret) {
      // the Finished that switches to application keys was missed: try them
      const app = new RecordCipher(this.suite!, tls13Keys(this.suite!, s.appSecret), true);
      for (let k = 0; k <= lookahead && !opened; k++) {
        opened = app.open(header, body, k);
        if (opened) {
          seq = k;
          s.cipher = app;
          s.secret = s.appSecret;
        }
      }
    }
    if (!opened) {
      this.description.recordsFailed++;
      cipher.seq++;
      // Lost records before this one may still be the reason: the next record
      // is tried with this one counted as lost too.
      s.lost += HEADER + body.length;
      s.failedInRow++;
      this.diag(TLS_ERROR.RECORD_AUTH_FAILED, `a ${body.length}-byte record failed authentication (wrong key, or corrupted bytes); skipped (TLS-record offset)`, d, offset);
      if (s.failedInRow === MAX_FAILED_IN_ROW) {
        this.diag(TLS_ERROR.RECORD_AUTH_FAILED, `${MAX_FAILED_IN_ROW} records in a row failed authentication: the keys do not fit this direction; not trying further records (TLS-record offset)`, d, offset);
      }
      return;
    }
    s.lost = 0;
    s.failedInRow = 0;
    s.cipher!.seq = seq + 1;
    this.description.recordsDecrypted++;
    if (!this.description.decrypted) this.description.decrypted = true;
    switch (opened.type) {
      case CT_APPLICATION_DATA:
        if (opened.plaintext.length > 0) {
          this.flushDescription();
          this.out.push({ kind: 'plaintext', direction: d, bytes: opened.plaintext, offset: s.plainOffset });
          s.plainOffset += opened.plaintext.length;
        }
        break;
      case CT_HANDSHAKE:
        for (const m of s.protectedHs.push(opened.plaintext)) this.protectedMessage(d, m.type, m.body);
        break;
      default:
        break; // alerts, heartbeats
    }
    if (s.switchTo) {
      const next = s.switchTo;
      s.switchTo = null;
      s.secret = next;
      s.cipher = new RecordCipher(this.suite!, tls13Keys(this.suite!, next), true);
    }
  }

  private protectedMessage(d: Direction, type: number, body: Uint8Array): void {
    const s = this.sides[d];
    if (this.sh?.version !== TLS13) {
      if (type === HS_FINISHED && this.handshakeDone12()) this.flushDescription();
      return;
    }
    switch (type) {
      case HS_ENCRYPTED_EXTENSIONS:
        if (d === 'serverToClient') {
          this.description.alpn = parseEncryptedExtensionsAlpn(body);
          this.flushDescription();
        }
        return;
      case HS_FINISHED:
        if (s.appSecret && s.secret !== s.appSecret) s.switchTo = s.appSecret;
        if (d === 'serverToClient') this.flushDescription();
        return;
      case HS_KEY_UPDATE:
        if (s.secret) s.switchTo = tls13NextSecret(this.suite!, s.switchTo ?? s.secret);
        return;
    }
  }

  // --- the clear part of the handshake ---------------------------------------------

  private clearHandshake(d: Direction, body: Uint8Array, offset: number): void {
    const s = this.sides[d];
    for (const m of s.clearHs.push(body)) {
      if (d === 'clientToServer' && m.type === HS_CLIENT_HELLO) {
        const ch = parseClientHello(m.body);
        if (!ch) {
          // bytes that only look like TLS are not a false alarm; a broken second hello is
          if (this.ch === null) return this.stop('handshake-not-captured');
          this.diag(TLS_ERROR.BAD_HANDSHAKE, 'a ClientHello that cannot be parsed (TLS-record offset)', d, offset);
          continue;
        }
        if (this.ch && !Buffer.from(this.ch.random).equals(Buffer.from(ch.random))) {
          this.diag(TLS_ERROR.BAD_HANDSHAKE, 'a second ClientHello with another random (TLS-record offset)', d, offset);
        }
        const first = this.ch === null;
        this.ch = ch;
        this.description.serverName = ch.serverName;
        this.description.alpnOffered = ch.alpn;
        if (first) this.replayEarly();
      } else if (d === 'clientToServer' && m.type === HS_CLIENT_KEY_EXCHANGE) {
        this.clientKeyExchange = true;
      } else if (d === 'serverToClient' && m.type === HS_SERVER_HELLO) {
        const sh = parseServerHello(m.body);
        if (!sh) {
          if (this.ch === null) return this.stop('handshake-not-captured');
          this.diag(TLS_ERROR.BAD_HANDSHAKE, 'a ServerHello that cannot be parsed (TLS-record offset)', d, offset);
          continue;
        }
        if (sh.helloRetryRequest) {
          this.description.helloRetryRequest = true;
          continue;
        }
        this.serverHello(sh, offset);
      }
    }
  }

  private serverHello(sh: ServerHelloInfo, offset: number): void {
    this.sh = sh;
    this.setUp(sh, offset);
    this.replayEarly();
  }

  private replayEarly(): void {
    if (this.early.length === 0) return;
    const early = this.early;
    this.early = [];
    this.heldBytes = 0;
    for (const r of early) this.record(r.d, r.header, r.body, r.offset);
  }

  private setUp(sh: ServerHelloInfo, offset: number): void {
    const desc = this.description;
    desc.version = versionName(sh.version);
    desc.cipherSuite = suiteName(sh.cipherSuite);
    if (sh.version !== TLS13) desc.alpn = sh.alpn;
    if (!this.ch) {
      this.stop('handshake-not-captured');
      return;
    }
    desc.extendedMasterSecret = sh.version !== TLS13 && sh.extendedMasterSecret && this.ch.extendedMasterSecret;
    if (sh.version === TLS12 && this.ch.sessionId.length > 0 && Buffer.from(sh.sessionId).equals(Buffer.from(this.ch.sessionId))) desc.resumed = true;
    const suite = aeadSuite(sh.cipherSuite);
    if ((sh.version !== TLS12 && sh.version !== TLS13) || !suite || suite.tls13 !== (sh.version === TLS13) || (suite.mac && sh.encryptThenMac)) {
      this.diag(
        TLS_ERROR.UNSUPPORTED_SUITE,
        `${desc.version} with ${desc.cipherSuite}${suite?.mac && sh.encryptThenMac ? ' and encrypt_then_mac' : ''} is not supported for decryption (supported: TLS 1.3 with AES-GCM or ChaCha20-Poly1305; TLS 1.2 with AES-GCM, ChaCha20-Poly1305 or AES-CBC) (TLS-record offset)`,
        'serverToClient',
        offset,
      );
      this.stop('unsupported-suite');
      return;
    }
    this.suite = suite;
    // from here, TLS 1.3 protects both directions
    if (sh.version === TLS13) {
      this.sides.clientToServer.protectedFrom = true;
      this.sides.serverToClient.protectedFrom = true;
    }
    const secrets = this.keys?.lookup(this.ch.random);
    if (secrets && this.useSecrets(secrets)) return;
    if (this.keys?.growing) this.status = 'waiting';
    else this.stop('no-key');
  }

  /** Set up the ciphers; false when the secrets are not the ones this version needs. */
  private useSecrets(sec: ConnectionSecrets): boolean {
    const suite = this.suite!;
    const c = this.sides.clientToServer;
    const s = this.sides.serverToClient;
    if (this.sh!.version === TLS13) {
      const ch = sec.CLIENT_HANDSHAKE_TRAFFIC_SECRET;
      const sh = sec.SERVER_HANDSHAKE_TRAFFIC_SECRET;
      const ca = sec.CLIENT_TRAFFIC_SECRET_0 ?? null;
      const sa = sec.SERVER_TRAFFIC_SECRET_0 ?? null;
      if (!(ch && sh) && !(ca && sa)) return false;
      // without the handshake secrets, start with the application ones (the handshake records then fail, quietly)
      c.secret = ch ?? ca;
      s.secret = sh ?? sa;
      c.appSecret = ca;
      s.appSecret = sa;
      c.cipher = new RecordCipher(suite, tls13Keys(suite, c.secret!), true);
      s.cipher = new RecordCipher(suite, tls13Keys(suite, s.secret!), true);
    } else {
      const master = sec.CLIENT_RANDOM;
      if (!master) return false;
      const k = tls12Keys(suite, master, this.ch!.random, this.sh!.random);
      c.cipher = new RecordCipher(suite, k.client, false);
      s.cipher = new RecordCipher(suite, k.server, false);
    }
    this.status = 'decrypting';
    this.description.decrypted = true;
    this.description.reason = null;
    // said once the handshake has told all (TLS 1.3: the server's EncryptedExtensions, the
    // chosen ALPN; TLS 1.2: whether it resumed), at the latest with the first plaintext
    this.describeWhenReady = true;
    return true;
  }

  private changeCipherSpec(d: Direction): void {
    if (!this.sh || this.sh.version === TLS13) return;
    const s = this.sides[d];
    s.protectedFrom = true;
    if (d === 'serverToClient' && !this.clientKeyExchange) this.description.resumed = true;
    if (s.cipher) s.cipher.seq = 0;
  }

  /** TLS 1.2: the handshake is over once both sides changed cipher spec. */
  private handshakeDone12(): boolean {
    return this.sh?.version === TLS12 && this.sides.clientToServer.protectedFrom && this.sides.serverToClient.protectedFrom;
  }

  // --- keys that arrive late -----------------------------------------------------------

  private hold(d: Direction, header: Uint8Array, body: Uint8Array, offset: number): void {
    this.heldBytes += header.length + body.length;
    if (this.heldBytes > this.maxHeld) {
      this.held = [];
      this.stop('no-key');
      return;
    }
    this.held.push({ d, header: copyBytes(header), body: copyBytes(body), offset });
  }

  private retryKeys(): void {
    const secrets = this.keys?.lookup(this.ch!.random);
    if (!secrets || !this.useSecrets(secrets)) return;
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    for (const r of held) this.openRecord(r.d, r.header, r.body, r.offset);
  }

  // --- description -----------------------------------------------------------------

  private stop(reason: NotDecryptedReason): void {
    if (this.status === 'off') return;
    this.status = 'off';
    this.description.decrypted = false;
    this.description.reason = reason;
    for (const d of ['clientToServer', 'serverToClient'] as const) {
      this.sides[d].q.clear();
      this.sides[d].partFill = 0;
    }
    this.flushDescription(true);
  }

  /** Emit the description once: now if `now`, else when one is waiting to be said. */
  private flushDescription(now = false): void {
    if (this.described) return;
    if (!now && !this.describeWhenReady && this.status !== 'off' && this.status !== 'decrypting') return;
    if (!now && this.status === 'decrypting' && !this.describeWhenReady) return;
    this.described = true;
    this.out.push({ kind: 'described', description: this.description });
  }

  private diag(code: string, message: string, d: Direction, offset: number): void {
    this.out.push({ kind: 'diagnostic', error: tlsError(code, message, this.connection, d, offset) });
  }
}

/** A record header as the fast paths accept it (the careful path reports anything else). */
function plausibleHeader(b: Uint8Array, i: number): boolean {
  const type = b[i]!;
  return type >= CT_CHANGE_CIPHER_SPEC && type <= CT_HEARTBEAT && b[i + 1] === 3 && ((b[i + 3]! << 8) | b[i + 4]!) <= MAX_RECORD;
}

function newSide(): Side {
  return {
    q: new ByteQueue(),
    part: new Uint8Array(HEADER + MAX_RECORD),
    partFill: 0,
    partOffset: 0,
    clearHs: new HandshakeReader(),
    protectedHs: new HandshakeReader(),
    protectedFrom: false,
    cipher: null,
    secret: null,
    appSecret: null,
    switchTo: null,
    plainOffset: 0,
    resync: false,
    lost: 0,
    failedInRow: 0,
  };
}
