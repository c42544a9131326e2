/**
 * Is this the start of an HTTP/1.x message? Used to classify connections by
 * content, on any port. `maybe`: too few bytes to tell yet.
 */
export type SniffResult = 'request' | 'response' | 'no' | 'maybe';

const METHOD_CHAR = /^[A-Z]$/;
const RESPONSE_PREFIX = 'HTTP/1.';
/** Longest method name we wait for before giving up (e.g. "PROPPATCH", "MKCALENDAR"). */
const MAX_METHOD = 16;

export function sniffHttp(bytes: Uint8Array): SniffResult {
  if (bytes.length === 0) return 'maybe';
  // response: "HTTP/1."
  let isResponsePrefix = true;
  for (let i = 0; i < Math.min(bytes.length, RESPONSE_PREFIX.length); i++) {
    if (bytes[i] !== RESPONSE_PREFIX.charCodeAt(i)) {
      isResponsePrefix = false;
      break;
    }
  }
  if (isResponsePrefix) return bytes.length >= RESPONSE_PREFIX.length ? 'response' : 'maybe';
  // request: upper-case method, space, a target starting with '/' or '*' or a scheme
  let i = 0;
  while (i < bytes.length && i <= MAX_METHOD && METHOD_CHAR.test(String.fromCharCode(bytes[i]!))) i++;
  if (i === bytes.length) return i <= MAX_METHOD ? 'maybe' : 'no';
  if (i === 0 || bytes[i] !== 0x20) return 'no';
  if (i + 1 === bytes.length) return 'maybe';
  const t = bytes[i + 1]!;
  // origin-form '/', asterisk-form '*', absolute-form 'h'ttp, authority-form (CONNECT) any
  return t === 0x2f || t === 0x2a || (t >= 0x61 && t <= 0x7a) || (t >= 0x30 && t <= 0x39) ? 'request' : 'no';
}
