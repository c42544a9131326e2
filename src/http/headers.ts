/**
 * Header lists as on the wire (order and case kept) and the lookups the
 * upgrade logic needs. Names compare case-insensitively (RFC 9110 §5.1).
 */

/** Header lines in wire order. */
export type HeaderList = Array<[name: string, value: string]>;

/** First value of a header, or null. */
export function headerValue(headers: HeaderList, name: string): string | null {
  const n = name.toLowerCase();
  for (const [k, v] of headers) if (k.toLowerCase() === n) return v;
  return null;
}

/** Every value of a header, one per line, in order. */
export function headerValues(headers: HeaderList, name: string): string[] {
  const n = name.toLowerCase();
  const out: string[] = [];
  for (const [k, v] of headers) if (k.toLowerCase() === n) out.push(v);
  return out;
}

/** Comma-separated list elements over every line of a header, trimmed, empties dropped. */
export function headerTokens(headers: HeaderList, name: string): string[] {
  const out: string[] = [];
  for (const v of headerValues(headers, name)) {
    for (const part of v.split(',')) {
      const t = part.trim();
      if (t) out.push(t);
    }
  }
  return out;
}

/** Whether a comma-list header contains a token (case-insensitive). */
export function headerHasToken(headers: HeaderList, name: string, token: string): boolean {
  const t = token.toLowerCase();
  return headerTokens(headers, name).some((x) => x.toLowerCase() === t);
}
