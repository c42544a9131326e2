/**
 * The proxy a Go client (kubectl, client-go) takes from the environment
 * when its kubeconfig names none: `HTTPS_PROXY` (or `https_proxy`) for an
 * https server, `HTTP_PROXY` (or `http_proxy`) for an http one, unless
 * `NO_PROXY` (or `no_proxy`) names the server. The rules are Go's
 * (`golang.org/x/net/http/httpproxy`), so that the tap reaches a cluster the
 * way kubectl beside it does:
 *
 * - `localhost` and loopback addresses never go through a proxy;
 * - a proxy without a scheme is `http://`;
 * - `NO_PROXY` is a comma-separated list: `*` (everything), an IP address or
 *   a CIDR block, or a domain: `example.com` matches it and its subdomains,
 *   `.example.com` and `*.example.com` only its subdomains; any entry but a
 *   CIDR may end in `:port`, and then matches that port only.
 */
import { BlockList, isIP } from 'node:net';

type Env = Readonly<Record<string, string | undefined>>;

/** The proxy for `server`, or undefined to go direct. */
export function proxyFromEnvironment(env: Env, server: URL): URL | undefined {
  const https = server.protocol === 'https:';
  const value = https ? first(env, 'HTTPS_PROXY', 'https_proxy') : first(env, 'HTTP_PROXY', 'http_proxy');
  if (!value) return undefined;
  const host = server.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const port = server.port || (https ? '443' : '80');
  if (host === 'localhost' || isLoopback(host)) return undefined;
  if (noProxy(first(env, 'NO_PROXY', 'no_proxy') ?? '', host, port)) return undefined;
  return parseProxy(value);
}

function first(env: Env, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = env[n];
    if (v) return v;
  }
  return undefined;
}

function parseProxy(value: string): URL | undefined {
  for (const text of value.includes('://') ? [value] : [value, `http://${value}`]) {
    try {
      const u = new URL(text);
      // `host:port` alone parses as a URL whose scheme is the host: Go tries again with http:// then too
      if (u.hostname && ['http:', 'https:', 'socks5:', 'socks5h:'].includes(u.protocol)) return u;
    } catch {
      // try with a scheme
    }
  }
  return undefined;
}

function isLoopback(host: string): boolean {
  const v = isIP(host);
  if (v === 4) return host.startsWith('127.');
  if (v === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

function noProxy(list: string, host: string, port: string): boolean {
  const ipVersion = isIP(host);
  for (const raw of list.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    const cidr = /^(.+)\/(\d{1,3})$/.exec(entry);
    if (cidr) {
      const v = isIP(cidr[1]!);
      if (v !== 0 && v === ipVersion) {
        const block = new BlockList();
        block.addSubnet(cidr[1]!, Number(cidr[2]), v === 4 ? 'ipv4' : 'ipv6');
        if (block.check(host, v === 4 ? 'ipv4' : 'ipv6')) return true;
      }
      continue;
    }
    const [entryHost, entryPort] = splitHostPort(entry);
    if (!entryHost) continue;
    if (entryPort && entryPort !== port) continue;
    if (isIP(entryHost)) {
      if (ipVersion !== 0 && sameIp(entryHost, host)) return true;
      continue;
    }
    // example.com matches it and below; .example.com and *.example.com only below
    const suffix = entryHost.startsWith('*.') ? entryHost.slice(1) : entryHost.startsWith('.') ? entryHost : `.${entryHost}`;
    const matchesItself = !entryHost.startsWith('.') && !entryHost.startsWith('*.');
    if (host.endsWith(suffix) || (matchesItself && host === suffix.slice(1))) return true;
  }
  return false;
}

/** `host:port`, `[v6]:port`, or a bare host (an IPv6 address has colons of its own). */
function splitHostPort(entry: string): [string, string | null] {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return [bracketed[1]!, bracketed[2] ?? null];
  if (isIP(entry) === 6) return [entry, null];
  const m = /^(.*):(\d+)$/.exec(entry);
  return m ? [m[1]!, m[2]!] : [entry, null];
}

function sameIp(a: string, b: string): boolean {
  const v = isIP(a);
  if (v !== isIP(b)) return false;
  const block = new BlockList();
  block.addAddress(a, v === 4 ? 'ipv4' : 'ipv6');
  return block.check(b, v === 4 ? 'ipv4' : 'ipv6');
}
