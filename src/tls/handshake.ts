/**
 * Handshake messages (RFC 8446 §4, RFC 5246 §7.4): a stream of
 *
 *   msg_type u8 | length u24 | body
 *
 * that records cut anywhere, and the hellos' fields we describe a connection
 * with. Parsers never throw: a short or odd message gives `null`.
 */
import { copyBytes } from '../common/bytes.js';

export const HS_CLIENT_HELLO = 1;
export const HS_SERVER_HELLO = 2;
export const HS_NEW_SESSION_TICKET = 4;
export const HS_ENCRYPTED_EXTENSIONS = 8;
export const HS_CERTIFICATE = 11;
export const HS_CLIENT_KEY_EXCHANGE = 16;
export const HS_FINISHED = 20;
export const HS_KEY_UPDATE = 24;

const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;
const EXT_ENCRYPT_THEN_MAC = 22;
const EXT_EXTENDED_MASTER_SECRET = 23;
const EXT_SESSION_TICKET = 35;
const EXT_SUPPORTED_VERSIONS = 43;

/** Largest handshake message kept whole (certificate chains are the big ones); larger ones are skipped. */
const MAX_MESSAGE = 256 * 1024;

/** SHA-256("HelloRetryRequest"): the ServerHello random that marks a HelloRetryRequest (RFC 8446 §4.1.3). */
const HRR_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');

export interface HandshakeMessage {
  type: number;
  /** The body; a view valid until the next push. Empty for a skipped (too large) message. */
  body: Uint8Array;
}

/** Reassembles handshake messages of one direction from record fragments. */
export class HandshakeReader {
  private buf: Uint8Array = new Uint8Array(0);
  private skip = 0;

  push(fragment: Uint8Array): HandshakeMessage[] {
    const out: HandshakeMessage[] = [];
    let data = fragment;
    if (this.skip > 0) {
      const n = Math.min(this.skip, data.length);
      this.skip -= n;
      data = data.subarray(n);
    }
    if (this.buf.length > 0) {
      const b = new Uint8Array(this.buf.length + data.length);
      b.set(this.buf);
      b.set(data, this.buf.length);
      data = b;
    }
    let i = 0;
    while (data.length - i >= 4) {
      const type = data[i]!;
      const len = (data[i + 1]! << 16) | (data[i + 2]! << 8) | data[i + 3]!;
      if (len > MAX_MESSAGE) {
        out.push({ type, body: new Uint8Array(0) });
        const have = data.length - i - 4;
        if (have >= len) {
          i += 4 + len;
          continue;
        }
        this.skip = len - have;
        i = data.length;
        break;
      }
      if (data.length - i - 4 < len) break;
      out.push({ type, body: data.subarray(i + 4, i + 4 + len) });
      i += 4 + len;
    }
    this.buf = i < data.length ? copyBytes(data, i) : new Uint8Array(0);
    return out;
  }
}

export interface ClientHelloInfo {
  random: Uint8Array;
  legacyVersion: number;
  sessionId: Uint8Array;
  cipherSuites: number[];
  serverName: string | null;
  alpn: string[];
  /** From supported_versions (empty when absent). */
  versions: number[];
  extendedMasterSecret: boolean;
  sessionTicket: boolean;
}

export interface ServerHelloInfo {
  random: Uint8Array;
  /** The version chosen: supported_versions when present, else legacy_version. */
  version: number;
  sessionId: Uint8Array;
  cipherSuite: number;
  alpn: string | null;
  extendedMasterSecret: boolean;
  /** RFC 7366: CBC records are MACed after encryption (not supported). */
  encryptThenMac: boolean;
  helloRetryRequest: boolean;
}

class Reader {
  i = 0;
  ok = true;
  constructor(
    readonly b: Uint8Array,
    readonly end = b.length,
  ) {}
  u8(): number {
    if (this.i + 1 > this.end) return this.fail();
    return this.b[this.i++]!;
  }
  u16(): number {
    if (this.i + 2 > this.end) return this.fail();
    const v = (this.b[this.i]! << 8) | this.b[this.i + 1]!;
    this.i += 2;
    return v;
  }
  bytes(n: number): Uint8Array {
    if (this.i + n > this.end) {
      this.fail();
      return new Uint8Array(0);
    }
    const v = this.b.subarray(this.i, this.i + n);
    this.i += n;
    return v;
  }
  private fail(): number {
    this.ok = false;
    this.i = this.end;
    return 0;
  }
}

/** Extensions must fill the rest of the message exactly (random bytes that look like a hello seldom do). */
function forEachExtension(r: Reader, fn: (type: number, body: Reader) => void): void {
  if (r.i >= r.end) return; // no extensions block at all
  const total = r.u16();
  if (r.i + total !== r.end) {
    r.ok = false;
    return;
  }
  const end = r.end;
  while (r.ok && r.i + 4 <= end) {
    const type = r.u16();
    const len = r.u16();
    if (r.i + len > end) {
      r.ok = false;
      return;
    }
    fn(type, new Reader(r.b.subarray(r.i, r.i + len)));
    r.i += len;
  }
  if (r.i !== end) r.ok = false;
}

function alpnList(e: Reader): string[] {
  const out: string[] = [];
  const n = e.u16();
  const end = Math.min(e.i + n, e.end);
  while (e.ok && e.i < end) {
    const l = e.u8();
    out.push(Buffer.from(e.bytes(l)).toString('latin1'));
  }
  return out;
}

export function parseClientHello(body: Uint8Array): ClientHelloInfo | null {
  const r = new Reader(body);
  const legacyVersion = r.u16();
  const random = copyBytes(r.bytes(32));
  const sessionId = copyBytes(r.bytes(r.u8()));
  const suitesLen = r.u16();
  const cipherSuites: number[] = [];
  const sr = new Reader(r.bytes(suitesLen));
  while (sr.i + 2 <= sr.end) cipherSuites.push(sr.u16());
  const compression = r.u8();
  r.bytes(compression);
  if (!r.ok || compression === 0 || suitesLen % 2 !== 0 || (legacyVersion >> 8) !== 3) return null;
  const info: ClientHelloInfo = { random, legacyVersion, sessionId, cipherSuites, serverName: null, alpn: [], versions: [], extendedMasterSecret: false, sessionTicket: false };
  forEachExtension(r, (type, e) => {
    switch (type) {
      case EXT_SERVER_NAME: {
        e.u16();
        while (e.ok && e.i < e.end) {
          const nameType = e.u8();
          const name = e.bytes(e.u16());
          if (nameType === 0 && e.ok && info.serverName === null) info.serverName = Buffer.from(name).toString('latin1');
        }
        break;
      }
      case EXT_ALPN:
        info.alpn = alpnList(e);
        break;
      case EXT_SUPPORTED_VERSIONS: {
        const n = e.u8();
        for (let k = 0; k + 2 <= n && e.ok; k += 2) info.versions.push(e.u16());
        break;
      }
      case EXT_EXTENDED_MASTER_SECRET:
        info.extendedMasterSecret = true;
        break;
      case EXT_SESSION_TICKET:
        info.sessionTicket = true;
        break;
    }
  });
  return r.ok ? info : null;
}

export function parseServerHello(body: Uint8Array): ServerHelloInfo | null {
  const r = new Reader(body);
  const legacyVersion = r.u16();
  const random = copyBytes(r.bytes(32));
  const sessionId = copyBytes(r.bytes(r.u8()));
  const cipherSuite = r.u16();
  r.u8(); // compression method
  if (!r.ok || (legacyVersion >> 8) !== 3) return null;
  const info: ServerHelloInfo = {
    random,
    version: legacyVersion,
    sessionId,
    cipherSuite,
    alpn: null,
    extendedMasterSecret: false,
    encryptThenMac: false,
    helloRetryRequest: Buffer.from(random).equals(HRR_RANDOM),
  };
  forEachExtension(r, (type, e) => {
    if (type === EXT_SUPPORTED_VERSIONS) {
      const v = e.u16();
      if (e.ok) info.version = v;
    } else if (type === EXT_ALPN) info.alpn = alpnList(e)[0] ?? null;
    else if (type === EXT_EXTENDED_MASTER_SECRET) info.extendedMasterSecret = true;
    else if (type === EXT_ENCRYPT_THEN_MAC) info.encryptThenMac = true;
  });
  return r.ok ? info : null;
}

/** TLS 1.3 EncryptedExtensions: the ALPN the server chose, if any. */
export function parseEncryptedExtensionsAlpn(body: Uint8Array): string | null {
  let alpn: string | null = null;
  forEachExtension(new Reader(body), (type, e) => {
    if (type === EXT_ALPN) alpn = alpnList(e)[0] ?? null;
  });
  return alpn;
}
