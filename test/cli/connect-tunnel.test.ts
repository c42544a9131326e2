/**
 * Clients behind a proxy: with `HTTPS_PROXY=http://…` every connection to
 * the proxy is `CONNECT host:port`, a 200, then TLS to the API server inside
 * the tunnel; with `socks5://…` a SOCKS5 handshake takes the CONNECT's place. Captured between the client and the proxy, `decode` must see
 * the TLS inside (and decrypt it with the client's key log), raise no false
 * alarm without keys, and find the exec session in it.
 *
 * Peers: real kubectl 1.33 through the proxy (`HTTPS_PROXY`; Go skips the
 * proxy for loopback addresses, so the server listens on this machine's
 * other address when it has one), and a `ws` client whose TLS socket is made
 * over the tunnel by Node with its key log events written down.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync } from 'node:fs';
import net from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, type ServeHandle } from '../../src/serve/index.js';
import { captureLo, chainCaptureUnavailable } from '../helpers/chain.js';
import { kubectlBinary, kubectlMissing, runKubectl } from '../helpers/kubectl.js';
import { cliMissing, runCli } from './helpers.js';

const skip = cliMissing() ?? chainCaptureUnavailable();
if (skip) console.warn(`skipping decode of CONNECT tunnels: ${skip}`);

interface Proxy {
  port: number;
  close(): Promise<void>;
}

type Handshake = (c: net.Socket, bytes: Buffer) => { host: string; port: number; answer: Buffer; rest: Buffer } | null;

/**
 * A proxy on a free loopback port. Per connection, `handshake()` makes a
 * reader of the client's first bytes as they come; once it knows where to,
 * it returns the target, the answer to send when connected, and the bytes
 * after the handshake (null: not yet).
 */
async function proxyServer(handshake: () => Handshake): Promise<Proxy> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((c) => {
    sockets.add(c);
    c.on('error', () => c.destroy());
    const read = handshake();
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const to = read(c, buf);
      if (!to) return;
      c.off('data', onData);
      const up = net.connect(to.port, to.host, () => {
        c.write(to.answer);
        if (to.rest.length) up.write(to.rest);
        c.pipe(up).pipe(c);
      });
      sockets.add(up);
      up.on('error', () => c.destroy());
      c.on('error', () => up.destroy());
    };
    c.on('data', onData);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** A CONNECT proxy: one line of HTTP in, a 200, then bytes both ways. */
function connectProxy(): Promise<Proxy> {
  return proxyServer(() => (c, head) => {
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return null;
    const m = /^CONNECT ([^\s:]+):(\d+) HTTP\/1\.1\r\n/.exec(head.toString('latin1'));
    if (!m) return void c.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'), null;
    return { host: m[1]!, port: Number(m[2]), answer: Buffer.from('HTTP/1.1 200 Connection established\r\n\r\n'), rest: head.subarray(end + 4) };
  });
}

/** A SOCKS5 proxy (RFC 1928): no authentication, CONNECT to an IPv4 address or a name. */
function socksProxy(): Promise<Proxy> {
  return proxyServer(() => {
    let greeted = false;
    return (c, buf) => {
    if (!greeted) {
      if (buf.length < 2 || buf.length < 2 + buf[1]!) return null;
      c.write(Buffer.from([5, 0]));
      greeted = true;
    }
    const r = buf.subarray(2 + buf[1]!);
    if (r.length < 5) return null;
    const type = r[3]!;
    const end = type === 1 ? 8 : type === 3 ? 5 + r[4]! : -1;
    if (end < 0) return void c.destroy(), null;
    if (r.length < end + 2) return null;
    const host = type === 1 ? [...r.subarray(4, 8)].join('.') : r.subarray(5, end).toString('latin1');
    return { host, port: r.readUInt16BE(end), answer: Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]), rest: r.subarray(end + 2) };
    };
  });
}

/** A non-loopback IPv4 address of this machine (Go's proxy rule skips loopback), or null. */
function otherAddress(): string | null {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return null;
}

interface Summary {
  sessions: Array<{ kind: string; hop: string; pod: string | null; exit: { code: number | null } | null; streams: Array<{ role: string; serverToClient: { bytes: number; sha256: string | null } }> }>;
  requests: Array<{ method: string; path: string; status: number | null }>;
  tlsConnections: Array<{ tunnel: string | null; decrypted: boolean; reason: string | null; version: string | null }>;
  diagnostics: number;
}

async function decode(file: string, keys?: string): Promise<{ code: number | null; summary: Summary; text: string }> {
  const args = ['decode', file, ...(keys ? ['--tls-keylog', keys] : [])];
  const json = await runCli([...args, '--summary', '--json'], { timeoutMs: 60_000 });
  const text = await runCli([...args, '--summary'], { timeoutMs: 60_000, env: { NO_COLOR: '1' } });
  return { code: json.code, summary: JSON.parse(json.stdout.toString('utf8')) as Summary, text: text.stdout.toString('utf8') };
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe.skipIf(skip !== null)('decode: TLS inside a proxy’s CONNECT tunnel', () => {
  let proxy: Awaited<ReturnType<typeof connectProxy>>;
  let socks: Awaited<ReturnType<typeof socksProxy>>;
  let serve: ServeHandle;
  const dir = mkdtempSync(join(tmpdir(), 'kubewire-connect-'));
  const host = otherAddress();
  beforeAll(async () => {
    proxy = await connectProxy();
    socks = await socksProxy();
    serve = await startServe({ tls: true, token: 'tunnel-token', listen: `${host ?? '127.0.0.1'}:0` });
  });
  afterAll(async () => {
    await proxy?.close();
    await socks?.close();
    await serve?.close();
  });

  it('a ws exec over TLS in the tunnel: decrypted with the client’s key log into the exec session; without keys, no false alarm', async () => {
    const file = join(dir, 'ws.pcap');
    const keys = join(dir, 'ws.keys');
    const cap = await captureLo(file, [proxy.port]);
    let out = '';
    try {
      const { default: WebSocket } = await import('ws');
      const tunnel = net.connect(proxy.port, '127.0.0.1');
      await new Promise<void>((resolve, reject) => {
        tunnel.once('error', reject);
        tunnel.write(`CONNECT ${serve.host}:${serve.port} HTTP/1.1\r\nHost: ${serve.host}:${serve.port}\r\n\r\n`);
        tunnel.once('data', (d: Buffer) => (/^HTTP\/1\.1 200 /.test(d.toString('latin1')) ? resolve() : reject(new Error(d.toString()))));
      });
      const secure = tls.connect({ socket: tunnel, rejectUnauthorized: false, servername: 'kube.test', ALPNProtocols: ['http/1.1'] });
      secure.on('keylog', (line) => appendFileSync(keys, line));
      const url = `wss://${serve.host}:${serve.port}/api/v1/namespaces/default/pods/web/exec?command=echo&command=through-the-tunnel&stdout=true`;
      out = await new Promise<string>((resolve, reject) => {
        const ws = new WebSocket(url, ['v4.channel.k8s.io'], { createConnection: () => secure, headers: { Authorization: 'Bearer tunnel-token' } });
        let stdout = '';
        ws.on('message', (data: Buffer) => {
          if (data[0] === 1) stdout += data.subarray(1).toString('utf8');
        });
        ws.on('close', () => resolve(stdout));
        ws.on('error', reject);
      });
    } finally {
      await cap.stop();
    }
    expect(out).toBe('through-the-tunnel\n');

    const plain = await decode(file);
    expect(plain.code).toBe(0);
    expect(plain.summary.diagnostics).toBe(0);
    expect(plain.summary.requests.map((r) => [r.method, r.status])).toEqual([['CONNECT', 200]]);
    expect(plain.summary.tlsConnections).toMatchObject([{ tunnel: `${serve.host}:${serve.port}`, decrypted: false, reason: 'no-key', version: 'TLS 1.3' }]);
    expect(plain.text).toContain(`(a proxy's tunnel to ${serve.host}:${serve.port}) TLS 1.3`);

    const keyed = await decode(file, keys);
    expect(keyed.code).toBe(0);
    expect(keyed.summary.diagnostics).toBe(0);
    expect(keyed.summary.tlsConnections).toMatchObject([{ tunnel: `${serve.host}:${serve.port}`, decrypted: true }]);
    expect(keyed.summary.requests.map((r) => [r.method, r.path.split('?')[0], r.status])).toEqual([
      ['CONNECT', `${serve.host}:${serve.port}`, 200],
      ['GET', '/api/v1/namespaces/default/pods/web/exec', 101],
    ]);
    expect(keyed.summary.sessions).toHaveLength(1);
    const s = keyed.summary.sessions[0]!;
    expect({ kind: s.kind, hop: s.hop, pod: s.pod, code: s.exit?.code }).toEqual({ kind: 'exec', hop: 'client-apiserver', pod: 'web', code: 0 });
    expect(s.streams.find((x) => x.role === 'stdout')?.serverToClient).toEqual({ bytes: out.length, sha256: sha(out) });
  }, 60_000);

  /** kubectl 1.33 exec -i with HTTPS_PROXY set to `proxyUrl`, captured on `port`: what it printed and exited with, and the capture's decode. */
  async function kubectlThrough(name: string, proxyUrl: string, port: number, exitCode: number) {
    const file = join(dir, `${name}.pcap`);
    const kubeconfig = join(dir, `kubeconfig-${name}`);
    appendFileSync(kubeconfig, serve.kubeconfig);
    const cap = await captureLo(file, [port]);
    let r;
    try {
      r = await runKubectl(kubectlBinary('1.33')!, ['exec', '-i', 'web', '--', 'sh', '-c', `cat; exit ${exitCode}`], {
        kubeconfig,
        stdin: Buffer.from(`via ${name}\n`),
        env: { HTTPS_PROXY: proxyUrl, NO_PROXY: '' },
      });
    } finally {
      await cap.stop();
    }
    expect(r.stdout.toString()).toBe(`via ${name}\n`);
    expect(r.code).toBe(exitCode);
    const d = await decode(file);
    expect(d.code).toBe(0);
    expect(d.summary.diagnostics).toBe(0);
    expect(d.summary.tlsConnections.length).toBeGreaterThan(0);
    for (const t of d.summary.tlsConnections) expect(t).toMatchObject({ tunnel: `${serve.host}:${serve.port}`, decrypted: false, version: 'TLS 1.3' });
    return { file, summary: d.summary };
  }

  it.skipIf(kubectlMissing('1.33') !== null || host === null)('kubectl 1.33 with HTTPS_PROXY: every connection is a tunnel with TLS in it, and nothing is a false alarm', async () => {
    const { summary } = await kubectlThrough('http-proxy', `http://127.0.0.1:${proxy.port}`, proxy.port, 3);
    for (const q of summary.requests) expect([q.method, q.path, q.status]).toEqual(['CONNECT', `${serve.host}:${serve.port}`, 200]);
    expect(summary.tlsConnections).toHaveLength(summary.requests.length);
  }, 60_000);

  it.skipIf(kubectlMissing('1.33') !== null || host === null)('kubectl 1.33 through a SOCKS5 proxy: the handshake is named and the TLS in its tunnel listed, with no false alarm', async () => {
    const { file, summary } = await kubectlThrough('socks', `socks5://127.0.0.1:${socks.port}`, socks.port, 4);
    expect(summary.requests).toEqual([]);
    const ndjson = await runCli(['decode', file, '--ndjson'], { timeoutMs: 60_000 });
    const classified = ndjson.stdout.toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; protocol?: string }).filter((e) => e.kind === 'connection-classified');
    expect(classified.filter((e) => e.protocol === 'socks5')).toHaveLength(summary.tlsConnections.length);
  }, 60_000);
});
