/**
 * Text from captures and peers, made safe to print on a terminal.
 */

/**
 * Control characters (ESC, BEL, …, C1) and bidirectional overrides. Text
 * taken from a capture (headers, paths, status messages) is shown with these
 * as escapes: a crafted capture must not retitle, clear or rewrite the
 * terminal of whoever decodes it.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const UNSAFE_ALL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** `s` safe to print on a terminal (see UNSAFE). */
export function printable(s: string): string {
  if (!UNSAFE.test(s)) return s;
  return s.replace(UNSAFE_ALL, (c) => {
    const n = c.charCodeAt(0);
    return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u{${n.toString(16)}}`;
  });
}

/** `printable` applied to every string inside an event or a summary (a copy; bytes are left as they are). */
export function printableDeep<T>(v: T): T {
  if (typeof v === 'string') return printable(v) as T;
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return v;
  if (Array.isArray(v)) return v.map(printableDeep) as T;
  const out: Record<string, unknown> = {};
  // An error's message is not enumerable.
  const keys = v instanceof Error ? Object.getOwnPropertyNames(v) : Object.keys(v);
  for (const k of keys) out[k] = printableDeep((v as Record<string, unknown>)[k]);
  return out as T;
}
