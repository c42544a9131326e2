/** How a TLS connection is described in text (the timeline's `tls` line and the summary). */
import type { TlsDescription } from '../../tls/types.js';
import type { TlsConnectionSummary } from '../../timeline/summary-types.js';

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

/** The last line of a summary with TLS that had no key. */
export const TLS_KEYS_HINT =
  'To decrypt TLS, give its keys with --tls-keylog FILE: SSLKEYLOGFILE=FILE for Python and curl, node --tls-keylog=FILE for Node, `kubewire tap --tls-keylog FILE` for kubectl.';

/**
 * The last line for TLS whose handshake the capture missed. Keys do not
 * help there: a key log names its secrets by the ClientHello's random, and
 * the record keys also need the suite the ServerHello chose.
 */
export const TLS_HANDSHAKE_HINT =
  'TLS whose handshake is not in the capture cannot be decrypted, even with its keys: start the capture before the connection opens (before kubectl runs).';

/** Servers named in the hint for keys that were given but did not cover every connection. */
const SERVERS_NAMED = 3;

/**
 * The last line when keys were given but some connections have none in them. Asking for `--tls-keylog` again would send the
 * user back to the key log they gave: what is missing is another program's
 * secrets. Through a real API server this is the hop to the kubelet, whose
 * TLS only the API server and the kubelet know.
 */
export function tlsOtherKeysHint(missing: readonly Pick<TlsConnectionSummary, 'server' | 'tunnel'>[]): string {
  // through a proxy, the server that holds the other end of the TLS is the tunnel's target
  const servers = [...new Set(missing.map((t) => t.tunnel ?? t.server))];
  const named = servers.slice(0, SERVERS_NAMED).join(', ') + (servers.length > SERVERS_NAMED ? ', …' : '');
  const n = missing.length;
  return (
    `${n} TLS connection${n === 1 ? ' has' : 's have'} no secrets in the keys given (to ${named}): a key log holds the secrets of the program that wrote it, ` +
    '`kubewire tap --tls-keylog` those of the tap\'s own connections, not the API server\'s to a kubelet; give a key log from a program at either end of those connections.'
  );
}

/**
 * The closing lines of a summary for the TLS connections that were not
 * decrypted: how to get what was missing. `keysGiven`: whether secrets were
 * given at all; when the caller does not know, a decrypted connection says so.
 */
export function tlsHints(tls: readonly TlsConnectionSummary[], keysGiven = tls.some((t) => t.decrypted)): string[] {
  const out: string[] = [];
  const noKey = tls.filter((t) => !t.decrypted && t.reason !== 'unsupported-suite' && t.reason !== 'handshake-not-captured');
  // Keys were given: they just do not cover these.
  if (noKey.length > 0) out.push(keysGiven ? tlsOtherKeysHint(noKey) : TLS_KEYS_HINT);
  if (tls.some((t) => !t.decrypted && t.reason === 'handshake-not-captured')) out.push(TLS_HANDSHAKE_HINT);
  return out;
}
