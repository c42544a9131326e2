/**
 * The request head an upgrade-aware proxy (apiserver → kubelet, kubelet →
 * runtime) sends on: the client's own headers kept (User-Agent,
 * Kubectl-Command, Kubectl-Session, every X-Stream-Protocol-Version line),
 * `Authorization` dropped (the next hop trusts the proxy, not the user's
 * credential), the peer's address appended to `X-Forwarded-For`, and Go's
 * write order: Host, User-Agent, Content-Length, then the rest sorted by name.
 */
import type { HeaderLines } from './upstream.js';

const DROPPED = new Set(['authorization', 'host', 'user-agent', 'content-length', 'x-forwarded-for']);

export interface ForwardOptions {
  /** The client's address as this hop saw it. */
  remoteAddress: string;
  /** The Host to send instead of the client's. */
  host?: string;
  /** Replace headers (name → value) or, with null, remove them. */
  set?: Record<string, string | string[] | null>;
}

/** Go's http.CanonicalHeaderKey. */
export function canonicalKey(name: string): string {
  return name
    .toLowerCase()
    .split('-')
    .map((w) => (w ? w[0]!.toUpperCase() + w.slice(1) : w))
    .join('-');
}

/** `rawHeaders` of a Node request (name, value, name, value …) as forwarded lines. */
export function forwardHeaders(rawHeaders: readonly string[], opts: ForwardOptions): HeaderLines {
  const byName = new Map<string, string[]>();
  let host = '';
  let userAgent: string | null = null;
  const prior: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const value = rawHeaders[i + 1]!;
    const lower = name.toLowerCase();
    if (lower === 'host') host = value;
    else if (lower === 'user-agent') userAgent = value;
    else if (lower === 'x-forwarded-for') prior.push(value);
    if (DROPPED.has(lower)) continue;
    const key = canonicalKey(name);
    const list = byName.get(key) ?? [];
    list.push(value);
    byName.set(key, list);
  }
  for (const [name, value] of Object.entries(opts.set ?? {})) {
    const key = canonicalKey(name);
    if (value === null) byName.delete(key);
    else byName.set(key, Array.isArray(value) ? value : [value]);
  }
  byName.set('X-Forwarded-For', [[...prior, opts.remoteAddress.replace(/^::ffff:/, '')].join(', ')]);
  const out: HeaderLines = [['Host', opts.host ?? host]];
  if (userAgent !== null) out.push(['User-Agent', userAgent]);
  out.push(['Content-Length', '0']);
  for (const key of [...byName.keys()].sort()) for (const v of byName.get(key)!) out.push([key, v]);
  return out;
}
