/**
 * Opening handshake helpers (RFC 6455 §4): the accept hash, sub-protocol
 * offers and replies, request/response checks. Pure functions over header
 * values; the HTTP parsing and the socket belong to the caller.
 *
 * Sub-protocol names are taken as written: Kubernetes uses
 * `SPDY/3.1+portforward.k8s.io`, which is not an HTTP token (`/`), and real
 * servers accept it, so only commas and surrounding blanks delimit names.
 */
import { createHash, randomBytes } from 'node:crypto';
import { WEBSOCKET_GUID } from './constants.js';

/** Headers as node's `IncomingMessage.headers`, raw alternating name/value lists, or name/value pairs. */
export type HeaderSource =
  | Readonly<Record<string, string | readonly string[] | undefined>>
  | readonly string[]
  | ReadonlyArray<readonly [string, string]>;

/** Every value of header `name` (case-insensitive), one entry per header line, in order. */
export function headerValues(headers: HeaderSource, name: string): string[] {
  const want = name.toLowerCase();
  const out: string[] = [];
  if (Array.isArray(headers)) {
    if (headers.length > 0 && Array.isArray(headers[0])) {
      for (const [k, v] of headers as ReadonlyArray<readonly [string, string]>) if (k.toLowerCase() === want) out.push(v);
    } else {
      const raw = headers as readonly string[];
      for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i]!.toLowerCase() === want) out.push(raw[i + 1]!);
    }
    return out;
  }
  for (const [k, v] of Object.entries(headers as Record<string, string | readonly string[] | undefined>)) {
    if (k.toLowerCase() !== want || v === undefined) continue;
    if (typeof v === 'string') out.push(v);
    else out.push(...v);
  }
  return out;
}

/** `base64(SHA-1(key + GUID))`, the key used exactly as sent. */
export function computeAccept(key: string): string {
  return createHash('sha1').update(key + WEBSOCKET_GUID, 'latin1').digest('base64');
}

export function checkAccept(key: string, accept: string | undefined | null): boolean {
  return accept !== undefined && accept !== null && accept.trim() === computeAccept(key);
}

/** A fresh `Sec-WebSocket-Key`: base64 of 16 random bytes (injectable for tests). */
export function generateKey(random: (n: number) => Uint8Array = randomBytes): string {
  return Buffer.from(random(16)).toString('base64');
}

/**
 * Sub-protocols offered, in preference order, from any number of header
 * lines each holding a comma-separated list. Blank entries are dropped.
 */
export function parseProtocolOffer(values: string | readonly string[] | undefined): string[] {
  if (values === undefined) return [];
  const lines = typeof values === 'string' ? [values] : values;
  const out: string[] = [];
  for (const line of lines) {
    for (const part of line.split(',')) {
      const name = part.trim();
      if (name !== '') out.push(name);
    }
  }
  return out;
}

/**
 * Choose a sub-protocol: by default the first client-offered one the server
 * supports (what Kubernetes servers do); `server` preference takes the first
 * supported one that was offered. null when nothing matches.
 */
export function selectProtocol(
  offered: readonly string[],
  supported: readonly string[],
  preference: 'client' | 'server' = 'client',
): string | null {
  if (preference === 'client') {
    for (const p of offered) if (supported.includes(p)) return p;
  } else {
    for (const p of supported) if (offered.includes(p)) return p;
  }
  return null;
}

export type UpgradeRequestCheck =
  | { ok: true; key: string; protocols: string[]; extensions: string[] }
  | { ok: false; status: 400 | 426; reason: string; headers: Array<[string, string]> };

/**
 * Is this a WebSocket upgrade a server can accept (§4.2.1)? On failure the
 * status and headers to answer with (426 + `Sec-WebSocket-Version: 13` for
 * an unsupported version).
 */
export function checkUpgradeRequest(method: string, headers: HeaderSource): UpgradeRequestCheck {
  const fail = (status: 400 | 426, reason: string): UpgradeRequestCheck => ({
    ok: false,
    status,
    reason,
    headers: status === 426 ? [['Sec-WebSocket-Version', '13']] : [],
  });
  if (method.toUpperCase() !== 'GET') return fail(400, `method ${method} cannot upgrade to WebSocket`);
  const upgrade = headerValues(headers, 'upgrade').join(',');
  if (!upgrade.split(',').some((t) => t.trim().toLowerCase() === 'websocket')) return fail(400, 'Upgrade: websocket missing');
  const connection = headerValues(headers, 'connection').join(',');
  if (!connection.split(',').some((t) => t.trim().toLowerCase() === 'upgrade')) return fail(400, 'Connection: Upgrade missing');
  const version = headerValues(headers, 'sec-websocket-version');
  if (version.length !== 1 || version[0]!.trim() !== '13') return fail(426, 'Sec-WebSocket-Version must be 13');
  const keys = headerValues(headers, 'sec-websocket-key');
  const key = keys.length === 1 ? keys[0]!.trim() : '';
  // §4.1: the key is 16 bytes, base64-encoded: 24 characters ending in "==".
  if (!/^[A-Za-z0-9+/]{22}==$/.test(key)) return fail(400, 'Sec-WebSocket-Key missing or malformed');
  return {
    ok: true,
    key,
    protocols: parseProtocolOffer(headerValues(headers, 'sec-websocket-protocol')),
    extensions: parseProtocolOffer(headerValues(headers, 'sec-websocket-extensions')),
  };
}

export interface UpgradeResponseOptions {
  key: string;
  /** The chosen sub-protocol; omit (or null) to send no `Sec-WebSocket-Protocol`; '' sends an empty one, as Kubernetes does when none was offered. */
  protocol?: string | null;
  headers?: ReadonlyArray<readonly [string, string]>;
}

/** The `101 Switching Protocols` response head, ending with the blank line. */
export function buildUpgradeResponse(opts: UpgradeResponseOptions): string {
  const lines = [
    'HTTP/1.1 101 Switching Protocols',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Accept: ${computeAccept(opts.key)}`,
  ];
  if (opts.protocol !== undefined && opts.protocol !== null) lines.push(`Sec-WebSocket-Protocol: ${opts.protocol}`);
  for (const [k, v] of opts.headers ?? []) lines.push(`${k}: ${v}`);
  return lines.join('\r\n') + '\r\n\r\n';
}

export interface UpgradeRequestOptions {
  path: string;
  host: string;
  key: string;
  protocols?: readonly string[];
  headers?: ReadonlyArray<readonly [string, string]>;
}

/** A client's upgrade request head (protocols joined with ", " on one line, as gorilla does). */
export function buildUpgradeRequest(opts: UpgradeRequestOptions): string {
  const lines = [
    `GET ${opts.path} HTTP/1.1`,
    `Host: ${opts.host}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${opts.key}`,
    'Sec-WebSocket-Version: 13',
  ];
  if (opts.protocols && opts.protocols.length > 0) lines.push(`Sec-WebSocket-Protocol: ${opts.protocols.join(', ')}`);
  for (const [k, v] of opts.headers ?? []) lines.push(`${k}: ${v}`);
  return lines.join('\r\n') + '\r\n\r\n';
}

export type UpgradeResponseCheck = { ok: true; protocol: string | null } | { ok: false; reason: string };

/**
 * Client-side check of the server's answer (§4.1): 101, Upgrade and
 * Connection tokens, the accept hash, and a sub-protocol that was offered
 * (an empty or absent one gives `protocol: null`).
 */
export function checkUpgradeResponse(
  status: number,
  headers: HeaderSource,
  expect: { key: string; offered?: readonly string[] },
): UpgradeResponseCheck {
  if (status !== 101) return { ok: false, reason: `status ${status}, not 101` };
  const upgrade = headerValues(headers, 'upgrade').join(',');
  if (!upgrade.split(',').some((t) => t.trim().toLowerCase() === 'websocket')) return { ok: false, reason: 'Upgrade: websocket missing' };
  const connection = headerValues(headers, 'connection').join(',');
  if (!connection.split(',').some((t) => t.trim().toLowerCase() === 'upgrade')) return { ok: false, reason: 'Connection: Upgrade missing' };
  const accept = headerValues(headers, 'sec-websocket-accept');
  if (accept.length !== 1 || !checkAccept(expect.key, accept[0])) return { ok: false, reason: 'Sec-WebSocket-Accept does not match the key' };
  const chosen = parseProtocolOffer(headerValues(headers, 'sec-websocket-protocol'));
  if (chosen.length > 1) return { ok: false, reason: 'more than one sub-protocol chosen' };
  const protocol = chosen[0] ?? null;
  if (protocol !== null && !(expect.offered ?? []).includes(protocol)) return { ok: false, reason: `sub-protocol ${protocol} was not offered` };
  return { ok: true, protocol };
}
