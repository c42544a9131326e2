import { X509Certificate } from 'node:crypto';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import type { KubewireError } from '../../src/common/errors.js';
import { generateSelfSigned, kubeconfigSnippet, startTap, type Tap } from '../../src/tap/index.js';
import { EventRecorder, receiveStream, runClient, sendStream, startSinkServer } from './helpers.js';

const MiB = 1024 * 1024;
let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

describe('self-signed certificate', () => {
  it('is a valid v3 certificate for loopback and the names asked for, signed by its own key', () => {
    const now = new Date(Date.UTC(2030, 0, 2, 3, 4, 5));
    const { cert, key } = generateSelfSigned({ names: ['10.0.0.7', 'tap.example', '2001:db8::42'], now, days: 10 });
    const x = new X509Certificate(cert);
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.subject).toBe('CN=kubewire tap');
    expect(x.issuer).toBe(x.subject);
    expect(x.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x.checkIP('::1')).toBe('::1');
    expect(x.checkIP('10.0.0.7')).toBe('10.0.0.7');
    expect(x.checkIP('2001:db8::42')).toBe('2001:db8::42');
    expect(x.checkIP('10.0.0.8')).toBeUndefined();
    expect(x.checkHost('tap.example')).toBe('tap.example');
    expect(x.checkHost('localhost')).toBe('localhost');
    expect(new Date(x.validFrom).getTime()).toBe(now.getTime() - 3600_000);
    expect(new Date(x.validTo).getTime()).toBe(now.getTime() + 10 * 86400_000);
    expect(x.ca).toBe(true);
    expect(x.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('writes GeneralizedTime for dates from 2050 on', () => {
    const now = new Date(Date.UTC(2051, 5, 6, 7, 8, 9));
    const x = new X509Certificate(generateSelfSigned({ now, days: 1 }).cert);
    expect(new Date(x.validTo).getTime()).toBe(now.getTime() + 86400_000);
  });
});

describe('tap over TLS', () => {
  it('terminates TLS for the client with a generated certificate and decodes plaintext', async () => {
    const server = await startSinkServer(() => 1 * MiB);
    cleanups.push(() => server.close());
    const tlsCert = generateSelfSigned();
    const recorder = new EventRecorder();
    const tap = await startTap({
      upstream: { protocol: 'http', host: '127.0.0.1', port: server.port },
      tls: tlsCert,
      consumer: recorder.consume,
    });
    cleanups.push(() => tap.close(0));
    expect(tap.url).toBe(`https://127.0.0.1:${tap.address.port}`);
    const client = await runClient(tap.address.port, 5, 2 * MiB, (port) =>
      tlsConnect({ port, host: '127.0.0.1', ca: tlsCert.cert, ...({ allowHalfOpen: true } as object) }),
    );
    const srv = await server.results.get(5)!;
    expect(srv.receivedHash).toBe(client.sentHash);
    expect(client.receivedHash).toBe(srv.sentHash);
    await tap.close(1000);
    const [conn] = [...recorder.connections().values()];
    expect(conn!.hash.clientToServer).toBe(client.sentHash);
    expect(conn!.hash.serverToClient).toBe(srv.sentHash);
    expect(conn!.problems).toEqual([]);

    const snippet = kubeconfigSnippet({ server: tap.url, caPem: tlsCert.cert });
    expect(snippet).toContain(`server: ${tap.url}`);
    expect(snippet).toContain(`certificate-authority-data: ${Buffer.from(tlsCert.cert).toString('base64')}`);
  });

  it('reports a client that does not speak TLS, and goes on serving the next one', async () => {
    const { server, pair, reports, tap } = await tlsTapToSink();
    const { connect } = await import('node:net');
    const plain = connect({ port: tap.address.port, host: '127.0.0.1' });
    plain.on('error', () => {});
    plain.resume();
    plain.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((resolve) => plain.once('close', resolve));
    expect(reports.map((e) => e.code)).toEqual(['TAP_CLIENT_TLS_FAILED']);
    expect(tap.stats().accepted).toBe(0);
    const ok = await runClient(tap.address.port, 1, 1000, (port) =>
      tlsConnect({ port, host: '127.0.0.1', ca: pair.cert, ...({ allowHalfOpen: true } as object) }),
    );
    expect(ok.receivedHash).toBe((await server.results.get(1)!).sentHash);
  });

  it('forwarding, says once that a client certificate stops at the tap (the upstream never sees it), and still forwards', async () => {
    const { server, pair, reports, tap } = await tlsTapToSink();
    const withoutCert = await runClient(tap.address.port, 1, 1000, (port) =>
      tlsConnect({ port, host: '127.0.0.1', ca: pair.cert, ...({ allowHalfOpen: true } as object) }),
    );
    expect(withoutCert.receivedHash).toBe((await server.results.get(1)!).sentHash);
    expect(reports).toEqual([]);
    const user = generateSelfSigned();
    for (const session of [2, 3]) {
      const r = await runClient(tap.address.port, session, 1000, (port) =>
        tlsConnect({ port, host: '127.0.0.1', ca: pair.cert, cert: user.cert, key: user.key, ...({ allowHalfOpen: true } as object) }),
      );
      expect(r.receivedHash).toBe((await server.results.get(session)!).sentHash);
    }
    expect(reports.map((e) => e.code)).toEqual(['TAP_CLIENT_CERTIFICATE_NOT_FORWARDED']);
    expect(reports[0]!.message).toMatch(/cannot pass on.*Leave out --upstream/);
  });

  /** A TLS tap (self-signed) forwarding to a plain sink server, recording its reports. */
  async function tlsTapToSink() {
    const server = await startSinkServer(() => 1000);
    cleanups.push(() => server.close());
    const pair = generateSelfSigned();
    const reports: KubewireError[] = [];
    const tap = await startTap({
      upstream: { protocol: 'http', host: '127.0.0.1', port: server.port },
      tls: pair,
      onReport: (e) => reports.push(e),
    });
    cleanups.push(() => tap.close(0));
    return { server, pair, reports, tap };
  }

  async function tlsUpstream(): Promise<{ port: number; ca: string }> {
    const pair = generateSelfSigned();
    const server = createTlsServer({ cert: pair.cert, key: pair.key, allowHalfOpen: true }, (s) => {
      s.on('error', () => {});
      void receiveStream(s).then((r) => s.end(`got ${r.bytes} ${r.hash}`));
    });
    // A client that gives up mid-handshake can leave the server's side half open.
    const raw = new Set<import('node:net').Socket>();
    server.on('connection', (c) => {
      raw.add(c);
      c.on('close', () => raw.delete(c));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const c of raw) c.destroy();
          server.close(() => resolve());
        }),
    );
    return { port: (server.address() as { port: number }).port, ca: pair.cert };
  }

  async function exchange(tap: Tap, bytes: number): Promise<{ answer: string; sent: string }> {
    const { connect } = await import('node:net');
    const socket = connect({ port: tap.address.port, host: '127.0.0.1', allowHalfOpen: true });
    socket.on('error', () => {});
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    await new Promise((resolve) => socket.once('connect', resolve));
    const sent = await sendStream(socket, bytes, 9);
    await closed;
    return { answer: Buffer.concat(chunks).toString(), sent: sent.hash };
  }

  it('verifies an https upstream against the given CA', async () => {
    const up = await tlsUpstream();
    const tap = await startTap({ upstream: { protocol: 'https', host: '127.0.0.1', port: up.port }, upstreamCa: up.ca });
    cleanups.push(() => tap.close(0));
    const { answer, sent } = await exchange(tap, 3 * MiB);
    expect(answer).toBe(`got ${3 * MiB} ${sent}`);
  });

  it('refuses an https upstream it cannot verify, unless told --insecure', async () => {
    const up = await tlsUpstream();
    const reports: KubewireError[] = [];
    const strict = await startTap({
      upstream: { protocol: 'https', host: '127.0.0.1', port: up.port },
      onReport: (e) => reports.push(e),
    });
    cleanups.push(() => strict.close(0));
    const refused = await exchange(strict, 1000);
    expect(refused.answer).toBe('');
    expect(reports).toHaveLength(1);
    expect(reports[0]!.code).toBe('TAP_UPSTREAM_CONNECT_FAILED');
    expect(reports[0]!.message).toMatch(/self.signed|certificate/i);

    const insecure = await startTap({ upstream: { protocol: 'https', host: '127.0.0.1', port: up.port }, insecure: true });
    cleanups.push(() => insecure.close(0));
    const { answer, sent } = await exchange(insecure, 1000);
    expect(answer).toBe(`got 1000 ${sent}`);
  });
});
