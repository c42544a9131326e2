/**
 * Close frame payloads (RFC 6455 §5.5.1, §7.4): empty, or a 2-byte
 * big-endian status code followed by an optional UTF-8 reason.
 */
import { MAX_CONTROL_PAYLOAD } from './constants.js';

/**
 * Codes a peer may put on the wire (§7.4.1/§7.4.2 and the IANA registry):
 * 1000–1003, 1007–1014, 3000–4999. 1004, 1005, 1006 and 1015 are reserved
 * for local use and must never be sent.
 */
export function isValidCloseCode(code: number): boolean {
  if (code >= 1000 && code <= 1014) return code !== 1004 && code !== 1005 && code !== 1006;
  return code >= 3000 && code <= 4999;
}

export type ClosePayloadProblem = 'short' | 'invalid-code' | 'invalid-utf8' | null;

export interface ClosePayload {
  /** null when the payload is empty (the peer gave no status: 1005 locally). */
  code: number | null;
  reason: string;
  problem: ClosePayloadProblem;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const UTF8_LENIENT = new TextDecoder('utf-8');

export function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    UTF8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Decode a close payload; problems are reported, never thrown. */
export function parseClosePayload(payload: Uint8Array): ClosePayload {
  if (payload.length === 0) return { code: null, reason: '', problem: null };
  if (payload.length === 1) return { code: null, reason: '', problem: 'short' };
  const code = (payload[0]! << 8) | payload[1]!;
  const reasonBytes = payload.subarray(2);
  let reason: string;
  let problem: ClosePayloadProblem = isValidCloseCode(code) ? null : 'invalid-code';
  try {
    reason = UTF8.decode(reasonBytes);
  } catch {
    reason = UTF8_LENIENT.decode(reasonBytes);
    problem ??= 'invalid-utf8';
  }
  return { code, reason, problem };
}

const ENCODER = new TextEncoder();

/**
 * Build a close payload. `code` undefined gives an empty payload (and then
 * no reason is allowed). Throws on API misuse (invalid code, reason too long).
 */
export function encodeClosePayload(code?: number, reason = ''): Uint8Array {
  if (code === undefined) {
    if (reason !== '') throw new RangeError('a close reason needs a status code');
    return new Uint8Array(0);
  }
  if (!isValidCloseCode(code)) throw new RangeError(`close code ${code} may not be sent`);
  const r = ENCODER.encode(reason);
  if (r.length + 2 > MAX_CONTROL_PAYLOAD) throw new RangeError('close reason longer than 123 bytes');
  const out = new Uint8Array(2 + r.length);
  out[0] = code >>> 8;
  out[1] = code & 0xff;
  out.set(r, 2);
  return out;
}
