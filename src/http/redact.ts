/**
 * Secrets in HTTP heads: `Authorization` and `Proxy-Authorization` values
 * (bearer tokens, basic credentials), `Sec-WebSocket-Key`, cookies, and a
 * bearer token smuggled in `Sec-WebSocket-Protocol`
 * (`base64url.bearer.authorization.k8s.io.<token>`, what browser clients use).
 */
import type { HeaderList } from './headers.js';

export const REDACTED = '[redacted]';

const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'sec-websocket-key', 'cookie', 'set-cookie', 'x-remote-user-token']);

const BEARER_PROTOCOL_PREFIX = 'base64url.bearer.authorization.k8s.io.';
/**
 * Other software carries tokens the same way (wstunnel offers
 * `authorization.bearer.<JWT>`): whatever follows a `bearer.` label is a secret.
 */
const ANY_BEARER_PROTOCOL = /^(.*?\bbearer\.)./i;

/** Whether a header's value is secret. */
export function isSecretHeader(name: string): boolean {
  return SECRET_HEADERS.has(name.toLowerCase());
}

/**
 * Redact one header value. For `Authorization` the scheme stays visible
 * (`Bearer [redacted]`), since it helps debugging and is not secret.
 */
export function redactHeaderValue(name: string, value: string): string {
  const n = name.toLowerCase();
  if (n === 'authorization' || n === 'proxy-authorization') {
    const sp = value.indexOf(' ');
    return sp > 0 ? `${value.slice(0, sp)} ${REDACTED}` : REDACTED;
  }
  if (SECRET_HEADERS.has(n)) return REDACTED;
  if (n === 'sec-websocket-protocol' && /\bbearer\./i.test(value)) return redactProtocolList(value);
  return value;
}

/** A copy of the list with secret values redacted. */
export function redactHeaders(headers: HeaderList): HeaderList {
  return headers.map(([k, v]) => [k, redactHeaderValue(k, v)]);
}

/** Redact a bearer token carried as a WebSocket subprotocol entry. */
export function redactProtocolList(value: string): string {
  return value
    .split(',')
    .map((p) => {
      const t = p.trim();
      const r = redactProtocol(t);
      return r === t ? p : p.replace(t, r);
    })
    .join(',');
}

/** Redact a single subprotocol name if it carries a token. */
export function redactProtocol(p: string): string {
  if (p.startsWith(BEARER_PROTOCOL_PREFIX)) return BEARER_PROTOCOL_PREFIX + REDACTED;
  const m = ANY_BEARER_PROTOCOL.exec(p);
  return m ? m[1]! + REDACTED : p;
}

/** Redact `access_token=` / `token=` query parameters (some clients put tokens in URLs). */
export function redactQuery(query: string): string {
  if (!/(^|&)(access_token|token)=/i.test(query)) return query;
  return query
    .split('&')
    .map((kv) => (/^(access_token|token)=/i.test(kv) ? kv.slice(0, kv.indexOf('=') + 1) + REDACTED : kv))
    .join('&');
}
