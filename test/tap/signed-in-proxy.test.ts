/**
 * A kubeconfig cluster behind a proxy: the tap reaches the API server as
 * kubectl does, through an HTTP CONNECT tunnel (`proxy-url: http://…`, the
 * URL's userinfo as Proxy-Authorization), a SOCKS5 one (`socks5://…`, the
 * userinfo as RFC 1929 username and password), or the proxy `HTTPS_PROXY`
 * names when the kubeconfig names none; real kubectl's exec works through
 * each.
 */
import { createServer, type Server } from 'node:http';
import { connect, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectlMissing } from '../helpers/kubectl.js';
import { opensslMissing } from '../helpers/pki.js';
import { run, startUpstream, wrapperWay, type Upstream } from './signed-in-harness.js';

let upstream: Upstream;
let proxy: Server;
let proxyPort = 0;
const seen: Array<{ target: string; auth: string | undefined }> = [];
const sockets = new Set<Socket>();
let socks: NetServer;
let socksPort = 0;
const socksSeen: Array<{ target: string; user: string }> = [];

/** A SOCKS5 proxy that wants username `proxy-user` and password `s3cret` (RFC 1929), then CONNECTs. */
function socksServer(): NetServer {
  return createNetServer((c) => {
    sockets.add(c);
    c.on('error', () => c.destroy());
    let buf = Buffer.alloc(0);
    let stage = 0;
    let user = '';
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (stage === 0) {
        if (buf.length < 2 || buf.length < 2 + buf[1]!) return;
        const offered = [...buf.subarray(2, 2 + buf[1]!)];
        buf = buf.subarray(2 + buf[1]!);
        if (!offered.includes(2)) return void c.end(Buffer.from([5, 0xff]));
        c.write(Buffer.from([5, 2]));
        stage = 1;
      }
      if (stage === 1) {
        if (buf.length < 2 || buf.length < 3 + buf[1]! || buf.length < 3 + buf[1]! + buf[2 + buf[1]!]!) return;
        const ulen = buf[1]!;
        user = buf.subarray(2, 2 + ulen).toString();
        const plen = buf[2 + ulen]!;
        const password = buf.subarray(3 + ulen, 3 + ulen + plen).toString();
        buf = buf.subarray(3 + ulen + plen);
        if (user !== 'proxy-user' || password !== 's3cret') return void c.end(Buffer.from([1, 1]));
        c.write(Buffer.from([1, 0]));
        stage = 2;
      }
      if (buf.length < 5) return;
      const type = buf[3]!;
      const end = type === 1 ? 8 : type === 3 ? 5 + buf[4]! : -1;
      if (end < 0 || buf.length < end + 2) return;
      const host = type === 1 ? [...buf.subarray(4, 8)].join('.') : buf.subarray(5, end).toString('latin1');
      const port = buf.readUInt16BE(end);
      c.off('data', onData);
      socksSeen.push({ target: `${host}:${port}`, user });
      const up = connect(port, host, () => {
        c.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
        const rest = buf.subarray(end + 2);
        if (rest.length) up.write(rest);
        c.pipe(up).pipe(c);
      });
      sockets.add(up);
      up.on('error', () => c.destroy());
    };
    c.on('data', onData);
  });
}

beforeAll(async () => {
  if (opensslMissing()) return;
  upstream = await startUpstream();
  proxy = createServer((_req, res) => res.writeHead(405).end());
  proxy.on('connect', (req, client: Socket, head: Buffer) => {
    seen.push({ target: req.url ?? '', auth: req.headers['proxy-authorization'] });
    if (req.headers['proxy-authorization'] !== `Basic ${Buffer.from('proxy-user:s3cret').toString('base64')}`) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    // the proxy can reach what the tap cannot: the documentation address below is this machine, through it
    const [target, port] = (req.url ?? '').split(':');
    const host = target === UNREACHABLE ? '127.0.0.1' : target;
    const server = connect(Number(port), host!, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) server.write(head);
      server.pipe(client);
      client.pipe(server);
    });
    for (const s of [client, server]) {
      sockets.add(s);
      s.on('error', () => client.destroy());
    }
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyPort = (proxy.address() as { port: number }).port;
  socks = socksServer();
  await new Promise<void>((resolve) => socks.listen(0, '127.0.0.1', resolve));
  socksPort = (socks.address() as { port: number }).port;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
  await new Promise<void>((resolve) => (socks ? socks.close(() => resolve()) : resolve()));
  await upstream?.close();
});

/** A documentation address (RFC 5737) the tap cannot reach by itself; only the HTTP proxy knows it is this machine. */
const UNREACHABLE = '198.51.100.123';

/** The kubeconfig with its server at UNREACHABLE (the certificate is still checked, for `localhost`). */
function unreachableServer(kubeconfig: string): string {
  const out = `${kubeconfig}.unreachable`;
  writeFileSync(out, readFileSync(kubeconfig, 'utf8').replace(/(    server: https:\/\/)127\.0\.0\.1(:\d+)\n/, `$1${UNREACHABLE}$2\n    tls-server-name: localhost\n`));
  return out;
}

function behindProxy(kubeconfig: string, proxyUrl: string): string {
  const out = `${kubeconfig}.proxied`;
  writeFileSync(out, readFileSync(kubeconfig, 'utf8').replace(/(    server: .*\n)/, `$1    proxy-url: ${proxyUrl}\n`));
  return out;
}

const missing = kubectlMissing('1.33') ?? opensslMissing();
if (missing) console.warn(`skipping proxy-url through the tap: ${missing}`);
(missing ? describe.skip : describe)('proxy-url', () => {
  it('the tap tunnels to the API server through the proxy, and kubectl 1.33 exec works', async () => {
    const kc = behindProxy(upstream.kubeconfigs.cert, `http://proxy-user:s3cret@127.0.0.1:${proxyPort}`);
    const before = seen.length;
    const r = await run(wrapperWay('1.33', kc), ['exec', '-i', 'web', '--', 'cat'], { stdin: 'through the proxy\n' });
    expect(r.stderr.toString()).toBe('');
    expect(r.stdout.toString()).toBe('through the proxy\n');
    const targets = seen.slice(before).map((s) => s.target);
    expect(targets.length).toBeGreaterThan(0);
    expect(new Set(targets)).toEqual(new Set([new URL(upstream.serve.url).host]));
  });

  it('a proxy that refuses: kubectl shows the tap\'s 502 naming the proxy\'s answer', async () => {
    const kc = behindProxy(upstream.kubeconfigs.cert, `http://proxy-user:wrong@127.0.0.1:${proxyPort}`);
    const r = await run(wrapperWay('1.33', kc), ['get', '--raw', '/api']);
    expect(r.code).toBe(1);
    expect(r.stderr.toString()).toMatch(/refused CONNECT .*407 Proxy Authentication Required/);
  });

  it('socks5:// with a username and password: the tap tunnels through the SOCKS5 proxy, and kubectl 1.33 exec works', async () => {
    const kc = behindProxy(upstream.kubeconfigs.cert, `socks5://proxy-user:s3cret@127.0.0.1:${socksPort}`);
    const before = socksSeen.length;
    const r = await run(wrapperWay('1.33', kc), ['exec', '-i', 'web', '--', 'cat'], { stdin: 'through socks\n' });
    expect(r.stderr.toString()).toBe('');
    expect(r.stdout.toString()).toBe('through socks\n');
    const used = socksSeen.slice(before);
    expect(used.length).toBeGreaterThan(0);
    expect(new Set(used.map((u) => `${u.user}@${u.target}`))).toEqual(new Set([`proxy-user@${new URL(upstream.serve.url).host}`]));
  });

  it('a SOCKS5 proxy that refuses the password: kubectl shows the tap\'s 502 saying so', async () => {
    const kc = behindProxy(upstream.kubeconfigs.cert, `socks5://proxy-user:wrong@127.0.0.1:${socksPort}`);
    const r = await run(wrapperWay('1.33', kc), ['get', '--raw', '/api']);
    expect(r.code).toBe(1);
    expect(r.stderr.toString()).toMatch(/refused the SOCKS5 username and password/);
  });

  it('no proxy-url: HTTPS_PROXY is used as kubectl uses it, and NO_PROXY naming the server goes direct', async () => {
    const kc = unreachableServer(upstream.kubeconfigs.cert);
    const way = wrapperWay('1.33', kc);
    const proxied = { ...way, env: { ...way.env, HTTPS_PROXY: `http://proxy-user:s3cret@127.0.0.1:${proxyPort}` } };
    const before = seen.length;
    const r = await run(proxied, ['exec', '-i', 'web', '--', 'cat'], { stdin: 'via HTTPS_PROXY\n' });
    expect(r.stderr.toString()).toBe('');
    expect(r.stdout.toString()).toBe('via HTTPS_PROXY\n');
    expect(new Set(seen.slice(before).map((s) => s.target))).toEqual(new Set([`${UNREACHABLE}:${new URL(upstream.serve.url).port}`]));
    // NO_PROXY names the server: the tap goes direct, and cannot get there (it gives up within its 10 s connect timeout)
    const direct = { ...proxied, env: { ...proxied.env, NO_PROXY: UNREACHABLE } };
    const mid = seen.length;
    const d = await run(direct, ['get', '--raw', '/api']);
    expect(d.code).not.toBe(0);
    expect(seen.length).toBe(mid);
  }, 60_000);
});
