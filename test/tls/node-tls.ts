/**
 * Real TLS streams from node:tls (OpenSSL) over an in-memory pipe: both
 * directions' bytes as they went on the wire, the client's key log lines
 * (the `keylog` event), and the plaintext each side wrote.
 */
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import { generateSelfSigned } from '../../src/tap/self-signed.js';

export interface RecordedTls {
  c2s: Buffer;
  s2c: Buffer;
  keylog: string;
  sentByClient: Buffer;
  sentByServer: Buffer;
  session: Buffer | undefined;
}

export interface TlsStreamOptions {
  maxVersion?: tls.SecureVersion;
  minVersion?: tls.SecureVersion;
  /** TLS 1.2 cipher list (OpenSSL names). */
  ciphers?: string;
  /** TLS 1.3 suites (OpenSSL's `ciphersuites`), e.g. TLS_CHACHA20_POLY1305_SHA256. */
  ciphersuites?: string;
  /** Server's groups; a client key share it does not take makes a HelloRetryRequest. */
  serverCurve?: string;
  alpn?: string[];
  serverName?: string;
  /** A session from an earlier connection: TLS 1.2 resumption. */
  session?: Buffer;
  /** Plaintext writes, alternately client then server. */
  messages: Buffer[];
}

let material: { cert: string; key: string } | null = null;
const contexts = new Map<string, tls.SecureContext>();

function pipePair(): { a: Duplex; b: Duplex; a2b: Buffer[]; b2a: Buffer[] } {
  const a2b: Buffer[] = [];
  const b2a: Buffer[] = [];
  // eslint-disable-next-line prefer-const
  let b: Duplex;
  const a: Duplex = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      a2b.push(Buffer.from(chunk));
      b.push(chunk);
      cb();
    },
    final(cb) {
      b.push(null);
      cb();
    },
  });
  b = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      b2a.push(Buffer.from(chunk));
      a.push(chunk);
      cb();
    },
    final(cb) {
      a.push(null);
      cb();
    },
  });
  return { a, b, a2b, b2a };
}

export async function recordTls(o: TlsStreamOptions): Promise<RecordedTls> {
  material ??= generateSelfSigned();
  const { a, b, a2b, b2a } = pipePair();
  const keylog: string[] = [];
  // one server context per configuration: its ticket keys let a later connection resume
  const ctxKey = JSON.stringify([o.serverCurve, o.ciphers, o.maxVersion, o.minVersion, o.ciphersuites]);
  let ctx = contexts.get(ctxKey);
  if (!ctx) {
    ctx = tls.createSecureContext({ cert: material.cert, key: material.key, ecdhCurve: o.serverCurve, ciphers: o.ciphers, maxVersion: o.maxVersion, minVersion: o.minVersion });
    if (o.ciphersuites) (ctx.context as { setCipherSuites(s: string): void }).setCipherSuites(o.ciphersuites);
    contexts.set(ctxKey, ctx);
  }
  const server = new tls.TLSSocket(b, { isServer: true, secureContext: ctx, ALPNProtocols: o.alpn });
  const client = tls.connect({
    socket: a,
    rejectUnauthorized: false,
    servername: o.serverName,
    ALPNProtocols: o.alpn,
    maxVersion: o.maxVersion,
    minVersion: o.minVersion,
    ciphers: o.ciphers,
    session: o.session,
  });
  client.on('keylog', (line: Buffer) => keylog.push(line.toString('latin1')));
  let session: Buffer | undefined;
  client.on('session', (s: Buffer) => (session = s));
  const gotByServer: Buffer[] = [];
  const gotByClient: Buffer[] = [];
  server.on('data', (d: Buffer) => gotByServer.push(d));
  client.on('data', (d: Buffer) => gotByClient.push(d));
  await new Promise<void>((resolve, reject) => {
    client.once('secureConnect', () => resolve());
    client.once('error', reject);
    server.once('error', reject);
  });
  const sentByClient: Buffer[] = [];
  const sentByServer: Buffer[] = [];
  let want = { c: 0, s: 0 };
  for (let i = 0; i < o.messages.length; i++) {
    const m = o.messages[i]!;
    if (i % 2 === 0) {
      client.write(m);
      sentByClient.push(m);
      want = { ...want, s: want.s + m.length };
    } else {
      server.write(m);
      sentByServer.push(m);
      want = { ...want, c: want.c + m.length };
    }
    // each write arrives before the next one (so the records keep this order)
    for (let k = 0; k < 200 && (Buffer.concat(gotByServer).length < want.s || Buffer.concat(gotByClient).length < want.c); k++) await new Promise((r) => setImmediate(r));
  }
  await new Promise<void>((resolve) => {
    client.end(() => resolve());
  });
  await new Promise((r) => setTimeout(r, 20));
  server.destroy();
  client.destroy();
  return { c2s: Buffer.concat(a2b), s2c: Buffer.concat(b2a), keylog: keylog.join(''), sentByClient: Buffer.concat(sentByClient), sentByServer: Buffer.concat(sentByServer), session };
}
