/**
 * A kubeconfig cluster's `proxy-url` (or the proxy the environment names):
 * an HTTP CONNECT tunnel to the API server through an HTTP (or HTTPS)
 * proxy, as client-go opens it, or a SOCKS5 one (proxy-socks5.ts). Userinfo
 * in the proxy URL becomes `Proxy-Authorization: Basic …`.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { hostPort, type UpstreamAddress } from './addresses.js';
import { proxyHandshake } from './proxy-handshake.js';
import { openThroughSocks5 } from './proxy-socks5.js';

/** Largest proxy answer head we read. */
const MAX_HEAD = 16 * 1024;

export function openThroughProxy(proxy: URL, target: UpstreamAddress, timeoutMs: number): Promise<Socket> {
  if (proxy.protocol === 'socks5:' || proxy.protocol === 'socks5h:') return openThroughSocks5(proxy, target, timeoutMs);
  const port = Number(proxy.port) || (proxy.protocol === 'https:' ? 443 : 80);
  const host = proxy.hostname.replace(/^\[(.*)\]$/, '$1');
  const socket: Socket =
    proxy.protocol === 'https:' ? tlsConnect({ host, port, servername: host, ALPNProtocols: ['http/1.1'] }) : netConnect({ host, port });
  const authority = hostPort(target.host, target.port);
  const lines = [`CONNECT ${authority} HTTP/1.1`, `Host: ${authority}`];
  if (proxy.username) {
    const cred = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
    lines.push(`Proxy-Authorization: Basic ${Buffer.from(cred).toString('base64')}`);
  }
  const connected = proxy.protocol === 'https:' ? 'secureConnect' : 'connect';
  return proxyHandshake(socket, proxy, timeoutMs, connected, () => socket.write(`${lines.join('\r\n')}\r\n\r\n`), (head) => {
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return head.length > MAX_HEAD ? { kind: 'fail', error: new Error(`proxy ${proxy.host} sent an oversized answer`) } : { kind: 'more' };
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(head.subarray(0, end).toString('latin1'));
    if (!status || status[1] !== '200') {
      const line = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
      return { kind: 'fail', error: new Error(`proxy ${proxy.host} refused CONNECT ${authority}: ${JSON.stringify(line)}`) };
    }
    return { kind: 'done', tunnelFrom: end + 4 };
  });
}
