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
  if (n === 'sec-websocket-protocol' && value.includes(BEARER_PROTOCOL_PREFIX)) return redactProtocolList(value);
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
      return t.startsWith(BEARER_PROTOCOL_PREFIX) ? p.replace(t, BEARER_PROTOCOL_PREFIX + REDACTED) : p;
    })
    .join(',');
}

/** Redact a single subprotocol name if it carries a token. */
export function redactProtocol(p: string): string {
  return p.startsWith(BEARER_PROTOCOL_PREFIX) ? BEARER_PROTOCOL_PREFIX + REDACTED : p;
}

/** Redact `access_token=` / `token=` query parameters (some clients put tokens in URLs). */
export function redactQuery(query: string): string {
  if (!/(^|&)(access_token|token)=/i.test(query)) return query;
  return query
    .split('&')
    .map((kv) => (/^(access_token|token)=/i.test(kv) ? kv.slice(0, kv.indexOf('=') + 1) + REDACTED : kv))
    .join('&');
}
