/**
 * `--listen` and `--upstream` as the user types them, checked up front so a
 * typo is a usage error (exit 2) rather than a failure on the first
 * connection.
 */
import { isIP } from 'node:net';

export interface ListenAddress {
  host: string;
  port: number;
}

export interface UpstreamAddress {
  protocol: 'http' | 'https';
  host: string;
  port: number;
}

/** Loopback unless the user names another address: a tap sees credentials. */
export const DEFAULT_LISTEN_HOST = '127.0.0.1';

/**
 * `PORT`, `HOST:PORT`, `:PORT` or `[IPv6]:PORT`. Port 0 asks the system for a
 * free port. A bare port or `:PORT` stays on loopback.
 */
export function parseListen(text: string): ListenAddress {
  const t = text.trim();
  if (/^\d+$/.test(t)) return { host: DEFAULT_LISTEN_HOST, port: port(t, text) };
  const bracket = /^\[([^\]]+)\]:(\d+)$/.exec(t);
  if (bracket) {
    if (isIP(bracket[1]!) !== 6) throw new TypeError(`--listen: not an IPv6 address in ${JSON.stringify(text)}`);
    return { host: bracket[1]!, port: port(bracket[2]!, text) };
  }
  const colon = t.lastIndexOf(':');
  if (colon < 0 || t.indexOf(':') !== colon) {
    throw new TypeError(`--listen: expected HOST:PORT, [IPv6]:PORT or PORT, got ${JSON.stringify(text)}`);
  }
  const host = t.slice(0, colon) || DEFAULT_LISTEN_HOST;
  return { host, port: port(t.slice(colon + 1), text) };
}

/** `http://HOST:PORT` or `https://HOST:PORT`; the port defaults to 80 / 443. */
export function parseUpstream(text: string): UpstreamAddress {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new TypeError(`--upstream: not a URL: ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`--upstream: scheme must be http or https, got ${JSON.stringify(url.protocol)}`);
  }
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    throw new TypeError(`--upstream: only scheme, host and port are allowed, got ${JSON.stringify(text)}`);
  }
  const protocol = url.protocol === 'https:' ? 'https' : 'http';
  // URL keeps IPv6 literals in brackets; sockets want them bare.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const p = url.port ? Number(url.port) : protocol === 'https' ? 443 : 80;
  return { protocol, host, port: p };
}

/** `host:port` with IPv6 literals bracketed, for URLs and messages. */
export function hostPort(host: string, p: number): string {
  return isIP(host) === 6 ? `[${host}]:${p}` : `${host}:${p}`;
}

function port(digits: string, whole: string): number {
  const n = Number(digits);
  if (!/^\d+$/.test(digits) || n > 65535) throw new TypeError(`--listen: bad port in ${JSON.stringify(whole)}`);
  return n;
}
