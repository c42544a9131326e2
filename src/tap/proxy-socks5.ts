/**
 * A cluster behind a SOCKS5 proxy (`proxy-url: socks5://…`, or
 * `HTTPS_PROXY=socks5://…`; an `ssh -D` tunnel is the usual one): the
 * tunnel to the API server as client-go's dialer opens it (RFC 1928). The
 * server's name goes to the proxy as it is, so the proxy resolves it; userinfo
 * in the proxy URL is offered as a username and password (RFC 1929).
 */
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { readSocks5 } from '../socks/index.js';
import { parseAddress } from '../tcp/segment.js';
import type { UpstreamAddress } from './addresses.js';
import { proxyHandshake, type ProxyAnswer } from './proxy-handshake.js';

const REPLIES: Record<number, string> = {
  1: 'general failure',
  2: 'connection not allowed by ruleset',
  3: 'network unreachable',
  4: 'host unreachable',
  5: 'connection refused',
  6: 'TTL expired',
  7: 'command not supported',
  8: 'address type not supported',
};

export function openThroughSocks5(proxy: URL, target: UpstreamAddress, timeoutMs: number): Promise<Socket> {
  const port = Number(proxy.port) || 1080;
  const host = proxy.hostname.replace(/^\[(.*)\]$/, '$1');
  const user = proxy.username ? Buffer.from(decodeURIComponent(proxy.username)) : null;
  const password = Buffer.from(decodeURIComponent(proxy.password));
  if (user && (user.length > 255 || password.length > 255)) return Promise.reject(new Error(`proxy ${proxy.host}: a SOCKS5 username and password are 255 bytes at most`));
  const greeting = user ? Buffer.from([5, 2, 0, 2]) : Buffer.from([5, 1, 0]);
  const auth = user ? Buffer.concat([Buffer.from([1, user.length]), user, Buffer.from([password.length]), password]) : null;
  const request = Buffer.concat([Buffer.from([5, 1, 0]), address(target.host), Buffer.from([target.port >> 8, target.port & 0xff])]);
  const where = `${target.host}:${target.port}`;
  const socket = netConnect({ host, port });
  // what was sent so far, beside what came: readSocks5 says when the handshake is over
  const sent: Buffer[] = [greeting];
  let stage: 'method' | 'auth' | 'reply' = 'method';
  const fail = (message: string): ProxyAnswer => ({ kind: 'fail', error: new Error(`proxy ${proxy.host} ${message}`) });
  const send = (b: Buffer) => {
    sent.push(b);
    socket.write(b);
  };
  return proxyHandshake(socket, proxy, timeoutMs, 'connect', () => socket.write(greeting), (received) => {
    if (stage === 'method') {
      if (received.length < 2) return { kind: 'more' };
      if (received[0] !== 5) return fail('does not speak SOCKS5');
      if (received[1] === 0xff || (received[1] === 2 && !auth) || (received[1] !== 0 && received[1] !== 2)) {
        return fail(`accepts none of the SOCKS5 methods offered (${user ? 'none, username/password' : 'none; give a username and password in the proxy URL'})`);
      }
      stage = received[1] === 2 ? 'auth' : 'reply';
      send(stage === 'auth' ? auth! : request);
    }
    if (stage === 'auth') {
      if (received.length < 4) return { kind: 'more' };
      if (received[3] !== 0) return fail('refused the SOCKS5 username and password');
      stage = 'reply';
      send(request);
    }
    const r = readSocks5(Buffer.concat(sent), received);
    if (r.kind === 'more') return r;
    if (r.kind === 'no') return fail('sent an answer that is not SOCKS5');
    if (r.reply !== 0) return fail(`refused CONNECT ${where}: ${REPLIES[r.reply] ?? `reply ${r.reply}`}`);
    return { kind: 'done', tunnelFrom: r.serverBytes };
  });
}

/** ATYP and address: an IP literal as such, a name for the proxy to resolve. */
function address(host: string): Buffer {
  const v = isIP(host);
  if (v === 4) return Buffer.from([1, ...host.split('.').map(Number)]);
  if (v === 6) return Buffer.concat([Buffer.from([4]), Buffer.from(parseAddress(host) as string, 'hex')]);
  const name = Buffer.from(host, 'latin1');
  return Buffer.concat([Buffer.from([3, name.length]), name]);
}
