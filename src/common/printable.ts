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

/**
 * Bytes as an escaped string, the way strace -s shows them: printable ASCII as
 * is, `\n \r \t \" \\`, anything else `\xNN`. Up to `max` bytes, then `…`.
 * Shared by the timeline's previews and the HTML report's byte view.
 */
export function escapeBytes(bytes: Uint8Array, max = Infinity): string {
  let out = '';
  const n = Math.min(bytes.length, max);
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if (b === 0x0a) out += '\\n';
    else if (b === 0x0d) out += '\\r';
    else if (b === 0x09) out += '\\t';
    else if (b === 0x22) out += '\\"';
    else if (b === 0x5c) out += '\\\\';
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return bytes.length > max ? out + '…' : out;
}
