/**
 * A client's request head as the signed-in tap forwards it: the local token
 * taken out, the user's credentials put in, `Host` naming the real server
 * (a proxy or ingress in front of the API server routes by it), and the
 * server URL's path prefix (Rancher-style `/k8s/clusters/ID`) in front of
 * the path, as kubectl would have sent it had it talked to the server itself.
 *
 * Two versions come out: `wire`, sent upstream, and `shown`, for the decoder
 * and the recording, where the user's credential is a placeholder: a
 * `--write` recording never holds the user's token.
 */
import type { HeaderList } from '../http/headers.js';
import type { HttpRequestHead } from '../http/parser.js';

export interface HeadRewrite {
  /** Host (and port) of the real server. */
  host: string;
  /** Path prefix of the server URL, without a trailing slash ('' for none). */
  pathPrefix: string;
  /** The user's headers for this request (Authorization, Impersonate-*). */
  add: HeaderList;
}

/** What `shown` carries where `wire` has the user's credential. */
export const CREDENTIAL_PLACEHOLDER = 'kubewire-tap-credential-not-recorded';

const DROPPED = new Set(['authorization', 'host']);
const IMPERSONATE = /^impersonate-/i;

export function rewriteHead(head: HttpRequestHead, r: HeadRewrite): { wire: Uint8Array; shown: Uint8Array } {
  const ours = r.add.some(([n]) => IMPERSONATE.test(n));
  const kept = head.headers.filter(([n]) => !DROPPED.has(n.toLowerCase()) && !(ours && IMPERSONATE.test(n)));
  const target = r.pathPrefix && head.target.startsWith('/') ? r.pathPrefix + head.target : head.target;
  const start = `${head.method} ${target} ${head.version}\r\nHost: ${r.host}\r\n`;
  const rest = kept.map(([n, v]) => `${n}: ${v}\r\n`).join('');
  const wireAdd = r.add.map(([n, v]) => `${n}: ${v}\r\n`).join('');
  const shownAdd = r.add.map(([n, v]) => `${n}: ${n.toLowerCase() === 'authorization' ? `${v.split(' ')[0]} ${CREDENTIAL_PLACEHOLDER}` : v}\r\n`).join('');
  // Heads are latin1 on the wire (the parser decoded them so).
  return {
    wire: Buffer.from(`${start}${rest}${wireAdd}\r\n`, 'latin1'),
    shown: Buffer.from(`${start}${rest}${shownAdd}\r\n`, 'latin1'),
  };
}
