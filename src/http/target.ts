/**
 * Request targets: path and query split, query parameters decoded the way
 * Go's `url.ParseQuery` does (`+` is a space, repeated keys kept in order).
 */

export interface RequestTarget {
  path: string;
  /** Raw query without `?`; '' when none. */
  query: string;
}

export function splitTarget(target: string): RequestTarget {
  let t = target;
  // absolute-form (proxies): keep only the path part
  const scheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(t);
  if (scheme) t = t.slice(scheme[0].length) || '/';
  const hash = t.indexOf('#');
  if (hash >= 0) t = t.slice(0, hash);
  const q = t.indexOf('?');
  return q < 0 ? { path: t, query: '' } : { path: t.slice(0, q), query: t.slice(q + 1) };
}

/** Query parameters in order; undecodable escapes are kept as they are. */
export function parseQuery(query: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (!query) return out;
  for (const part of query.split(/[&;]/)) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    const v = eq < 0 ? '' : part.slice(eq + 1);
    out.push([unescapeQuery(k), unescapeQuery(v)]);
  }
  return out;
}

export function queryValues(params: Array<[string, string]>, key: string): string[] {
  return params.filter(([k]) => k === key).map(([, v]) => v);
}

function unescapeQuery(s: string): string {
  const plus = s.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(plus);
  } catch {
    return plus;
  }
}

/** Path segments, percent-decoded where possible. */
export function pathSegments(path: string): string[] {
  return path
    .split('/')
    .filter((s) => s.length > 0)
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
}
