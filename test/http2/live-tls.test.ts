/**
 * Decrypted h2: Node's `http2` secure client and server on loopback (ALPN
 * h2, TLS 1.3), the client's key log, tcpdump. Once the TLS layer decrypts
 * the connection, its plaintext starts with the client preface and the
 * requests come out as for h2c.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { startCapture, stopCapture, which } from '../capture/live-helpers.js';
import { cliMissing, runCli } from '../cli/helpers.js';

const tcpdump = which('tcpdump');
const openssl = which('openssl');
const missing = !tcpdump ? 'tcpdump not found' : !openssl ? 'openssl not found' : cliMissing();
if (missing) console.warn(`skipping the decrypted h2 capture: ${missing}`);

const PLAN = [
  { method: 'GET', path: '/api?timeout=32s', body: '', status: 200 },
  { method: 'POST', path: '/api/v1/namespaces/default/pods', body: 'y'.repeat(3000), status: 201 },
  { method: 'GET', path: '/api/v1/namespaces/default/pods/missing', body: '', status: 404 },
];

describe.skipIf(missing !== null)('h2 over TLS, decrypted with the client key log', () => {
  let dir = '';
  let cannot: string | null = null;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubewire-h2tls-'));
    const key = join(dir, 'key.pem');
    const crt = join(dir, 'crt.pem');
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', crt, '-subj', '/CN=localhost', '-days', '1']);
    if (r.status !== 0) {
      cannot = `openssl: ${r.stderr}`;
      return;
    }
    const server = http2.createSecureServer({ key: readFileSync(key), cert: readFileSync(crt) });
    server.on('stream', (stream, headers) => {
      const step = PLAN.find((p) => p.path === headers[':path']);
      stream.on('data', () => undefined);
      stream.on('end', () => {
        stream.respond({ ':status': step?.status ?? 500 });
        stream.end('{}');
      });
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
    const port = (server.address() as { port: number }).port;
    const keys: string[] = [];
    try {
      const cap = await startCapture('tcpdump', ['-i', 'lo', '-U', '--immediate-mode', '-Z', 'root', '-w', join(dir, 'h2.pcap'), `tcp port ${port}`], /listening on/);
      await new Promise((res) => setTimeout(res, 500));
      const client = http2.connect(`https://127.0.0.1:${port}`, { ca: readFileSync(crt), servername: 'localhost' });
      // the handshake's secrets come before 'connect': listen on the socket at once
      client.socket.on('keylog', (line: Buffer) => keys.push(line.toString()));
      for (const step of PLAN) {
        await new Promise<void>((res, rej) => {
          const q = client.request({ ':method': step.method, ':path': step.path });
          q.on('data', () => undefined);
          q.on('end', () => res());
          q.on('error', rej);
          q.end(step.body || undefined);
        });
      }
      await new Promise<void>((res) => client.close(() => res()));
      await stopCapture(cap);
    } catch (e) {
      cannot = (e as Error).message.split('\n')[0]!;
    }
    writeFileSync(join(dir, 'keys.log'), keys.join(''));
    await new Promise<void>((res) => server.close(() => res()));
  }, 60_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('lists the requests with method, path and status, no diagnostics', async (ctx: TestContext) => {
    if (cannot !== null) {
      console.warn(`skipping: ${cannot}`);
      ctx.skip();
    }
    const r = await runCli(['decode', join(dir, 'h2.pcap'), '--tls-keylog', join(dir, 'keys.log'), '--summary', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout.toString('utf8'));
    expect(s.diagnostics).toBe(0);
    expect(s.requests.map((x: { method: string; path: string; query: string; status: number }) => [x.method, x.path + (x.query ? '?' + x.query : ''), x.status])).toEqual(
      PLAN.map((p) => [p.method, p.path, p.status]),
    );
    // without the keys: TLS, not decrypted, and no requests
    const opaque = await runCli(['decode', join(dir, 'h2.pcap'), '--summary', '--json']);
    expect(JSON.parse(opaque.stdout.toString('utf8')).requests).toEqual([]);
  });
});
