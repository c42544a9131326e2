/** How a TLS connection is described in text (the timeline's `tls` line and the summary). */
import type { TlsDescription } from '../../tls/types.js';

const REASON_TEXT: Record<NonNullable<TlsDescription['reason']>, string> = {
  'no-key': 'no key for this client random',
  'unsupported-suite': 'cipher suite not supported',
  'handshake-not-captured': 'handshake not captured',
};

export function tlsText(t: TlsDescription): string {
  const parts = [t.version ?? 'TLS (version unknown)'];
  if (t.serverName) parts.push(`SNI ${t.serverName}`);
  if (t.alpnOffered.length > 0 || t.alpn) parts.push(`ALPN ${t.alpnOffered.length ? t.alpnOffered.join(',') : '-'} → ${t.alpn ?? '-'}`);
  if (t.cipherSuite) parts.push(t.cipherSuite);
  const notes = [t.resumed ? 'resumed' : '', t.extendedMasterSecret ? 'extended master secret' : '', t.helloRetryRequest ? 'HelloRetryRequest' : ''].filter(Boolean);
  if (notes.length) parts.push(notes.join(', '));
  return parts.join(', ');
}

export function tlsStatus(t: TlsDescription): string {
  if (t.decrypted) return t.recordsFailed > 0 ? `decrypted (${t.recordsFailed} record${t.recordsFailed === 1 ? '' : 's'} failed)` : 'decrypted';
  return `not decrypted: ${t.reason ? REASON_TEXT[t.reason] : 'unknown'}`;
}

/** The last line of a summary with TLS that was not decrypted. */
export const TLS_KEYS_HINT =
  'To decrypt TLS, give its keys with --tls-keylog FILE: SSLKEYLOGFILE=FILE for Python and curl, node --tls-keylog=FILE for Node, `kubewire tap --tls-keylog FILE` for kubectl.';
