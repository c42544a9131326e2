/**
 * Identity from a client certificate, as kube-apiserver's `--client-ca-file`
 * gives it.
 *
 * The apiserver's TLS layer only *requests* a certificate (Go's
 * `tls.RequestClientCert`, advertising the client CAs): a handshake without
 * one, or with one it cannot verify, still succeeds. The x509 authenticator
 * then verifies the chain per request; a failure is an authentication error
 * like any other, so the client gets the server's own 401 rather than a
 * broken handshake. Node's equivalent is `requestCert: true`,
 * `rejectUnauthorized: false` with the CA as `ca`: OpenSSL verifies the chain
 * (for the TLS client purpose, so a certificate whose extended key usage
 * leaves out clientAuth fails, as Go's `ExtKeyUsageClientAuth` check does)
 * and reports the outcome as `authorized` / `authorizationError`.
 *
 * User = Subject CN, groups = Subject O values; an empty CN authenticates
 * nobody (the apiserver's CommonNameUserConversion says "no opinion").
 */
import type { TLSSocket } from 'node:tls';

export type CertCheck =
  | { kind: 'none' }
  | { kind: 'verified'; user: string; groups: string[] }
  | { kind: 'rejected'; reason: string };

/** What the socket's client certificate says (`none` for a plain socket or no certificate). */
export function checkClientCert(socket: unknown): CertCheck {
  const tls = socket as Partial<TLSSocket>;
  if (typeof tls.getPeerCertificate !== 'function') return { kind: 'none' };
  const cert = tls.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return { kind: 'none' };
  if (!tls.authorized) {
    const why = tls.authorizationError;
    return { kind: 'rejected', reason: `client certificate did not verify against --client-ca (${why ? String(why) : 'unknown reason'})` };
  }
  const cn = asList(cert.subject?.CN)[0] ?? '';
  if (cn === '') return { kind: 'rejected', reason: 'client certificate has no Subject CN' };
  return { kind: 'verified', user: cn, groups: asList(cert.subject?.O) };
}

/** Node gives a multi-valued attribute as an array, a single one as a string. */
function asList(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}
