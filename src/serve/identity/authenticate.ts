/**
 * Who sent a request, decided as kube-apiserver's union authenticator does
 * (with anonymous requests off): each configured authenticator is asked in
 * turn (client certificate, then bearer token); the first that recognises
 * the request names its user; when none does, the request is refused with
 * 401 Unauthorized, whatever each one's reason was. The reasons go to our
 * request log only, never to the client (the apiserver, too, answers a bare
 * "Unauthorized").
 */
import type { IncomingHttpHeaders } from 'node:http';
import { printable } from '../../common/printable.js';
import { checkClientCert } from './client-cert.js';
import { bearerToken, type TokenTable } from './tokens.js';

export type AuthMethod = 'x509' | 'token';

export interface Identity {
  user: string;
  /** Empty for certificates and for `--token`. */
  uid: string;
  groups: string[];
  method: AuthMethod;
}

export type AuthOutcome =
  /** No authenticator is configured: every request is let in (loopback only). */
  | { kind: 'open' }
  | { kind: 'authenticated'; identity: Identity }
  | { kind: 'unauthorized'; reason: string };

export interface AuthenticatorConfig {
  /** The server verifies client certificates (it was started with a client CA). */
  clientCerts: boolean;
  /** `--token` and `--token-file` entries; null when neither was given. */
  tokens: TokenTable | null;
}

/**
 * Authenticate one request from its socket (a TLSSocket when serving
 * HTTPS) and headers.
 */
export function authenticate(config: AuthenticatorConfig, socket: unknown, headers: IncomingHttpHeaders): AuthOutcome {
  if (!config.clientCerts && !config.tokens) return { kind: 'open' };
  const reasons: string[] = [];
  if (config.clientCerts) {
    const cert = checkClientCert(socket);
    if (cert.kind === 'verified') {
      return { kind: 'authenticated', identity: { user: cert.user, uid: '', groups: cert.groups, method: 'x509' } };
    }
    if (cert.kind === 'rejected') reasons.push(cert.reason);
  }
  if (config.tokens) {
    const token = bearerToken(headers.authorization);
    if (token !== null) {
      const who = config.tokens.lookup(token);
      if (who) return { kind: 'authenticated', identity: { ...who, method: 'token' } };
      reasons.push('invalid bearer token');
    }
  }
  if (reasons.length === 0) {
    reasons.push(config.clientCerts && config.tokens ? 'no client certificate and no bearer token' : config.clientCerts ? 'no client certificate' : 'no bearer token');
  }
  return { kind: 'unauthorized', reason: reasons.join('; ') };
}

/**
 * The outcome for the request log: `user=alice groups=dev,ops auth=x509`,
 * or `401 Unauthorized (reason)`; empty when the server is open. Names are
 * quoted when they hold spaces, commas, quotes or `=`, and made printable. A
 * token never appears.
 */
export function describeOutcome(outcome: AuthOutcome): string {
  switch (outcome.kind) {
    case 'open':
      return '';
    case 'authenticated': {
      const { user, groups, method } = outcome.identity;
      const g = groups.length ? ` groups=${groups.map(quoteName).join(',')}` : '';
      return `user=${quoteName(user)}${g} auth=${method}`;
    }
    case 'unauthorized':
      return `401 Unauthorized (${outcome.reason})`;
    default: {
      const never: never = outcome;
      return never;
    }
  }
}

function quoteName(s: string): string {
  return printable(/^[^\s,"=]+$/.test(s) ? s : JSON.stringify(s));
}
