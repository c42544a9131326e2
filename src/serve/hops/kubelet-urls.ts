/**
 * The kubelet's streaming URL forms, as the apiserver writes them and the
 * kubelet reads them:
 *
 *   /exec/{ns}/{pod}/{container}?command=…&error=1&input=1&output=1&tty=1
 *   /attach/{ns}/{pod}/{container}?error=1&input=1&output=1&tty=1
 *   /portForward/{ns}/{pod}
 *
 * (a `{uid}` segment before the container, or after the pod for
 * port-forward, is also accepted). The query is Go's `url.Values.Encode`:
 * keys sorted, `command` repeated in order, spaces as `+`.
 */
import type { ExecRequest } from '../exec.js';

export type Subresource = 'exec' | 'attach' | 'portforward';

/** What a kubelet URL names: an exec request's fields, under the subresource (port-forward too) instead of its kind. */
export type KubeletTarget = Omit<ExecRequest, 'kind'> & { sub: Subresource };

/** Go's url.QueryEscape: everything but A-Z a-z 0-9 - _ . ~ escaped, space as '+'. */
export function goQueryEscape(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Go's url.PathEscape of one segment. */
function pathEscape(s: string): string {
  return goQueryEscape(s).replace(/\+/g, '%20');
}

/** The kubelet path and query for an exec/attach request, or a port-forward. */
export function kubeletPath(t: KubeletTarget): string {
  const base = [t.namespace, t.pod].map(pathEscape).join('/');
  if (t.sub === 'portforward') return `/portForward/${base}`;
  const q: string[] = [];
  if (t.sub === 'exec') for (const c of t.command) q.push(`command=${goQueryEscape(c)}`);
  if (t.stderr) q.push('error=1');
  if (t.stdin) q.push('input=1');
  if (t.stdout) q.push('output=1');
  if (t.tty) q.push('tty=1');
  return `/${t.sub}/${base}/${pathEscape(t.container)}${q.length ? `?${q.join('&')}` : ''}`;
}

/** The kubelet reads a flag as set only when it is `1` (`true` is not: the API server writes `1`). */
const TRUE = new Set(['1']);

/** Read a kubelet streaming URL; null when the path is none of its forms. */
export function parseKubeletUrl(url: URL): KubeletTarget | null {
  const seg = url.pathname.split('/').filter(Boolean).map((s) => decodeURIComponent(s));
  const q = url.searchParams;
  const flag = (name: string) => TRUE.has(q.get(name) ?? '');
  if ((seg[0] === 'exec' || seg[0] === 'attach') && (seg.length === 4 || seg.length === 5)) {
    return {
      sub: seg[0],
      namespace: seg[1]!,
      pod: seg[2]!,
      container: seg[seg.length - 1]!,
      command: seg[0] === 'exec' ? q.getAll('command') : [],
      stdin: flag('input'),
      stdout: flag('output'),
      stderr: flag('error'),
      tty: flag('tty'),
    };
  }
  if (seg[0] === 'portForward' && (seg.length === 3 || seg.length === 4)) {
    return { sub: 'portforward', namespace: seg[1]!, pod: seg[2]!, container: '', command: [], stdin: false, stdout: false, stderr: false, tty: false };
  }
  return null;
}
