/**
 * A kubeconfig cluster behind an HTTP proxy (`proxy-url`): the tap reaches
 * the API server through a CONNECT tunnel, with the proxy URL's userinfo as
 * Proxy-Authorization, and real kubectl's exec works through both.
 */
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
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
    const [host, port] = (req.url ?? '').split(':');
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
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
  await upstream?.close();
});

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
});
