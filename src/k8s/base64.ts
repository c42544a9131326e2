/**
 * Standard base64 with padding, decoded strictly (Go's `base64.StdEncoding`,
 * which the Kubernetes servers use, rejects what this rejects).
 */
const STRICT = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const LATIN1 = new TextDecoder('latin1');

/** Decoded bytes, or null when `text` (ASCII bytes) is not strict padded base64. */
export function decodeBase64Strict(text: Uint8Array): Uint8Array | null {
  const s = LATIN1.decode(text);
  if (!STRICT.test(s)) return null;
  const b = Buffer.from(s, 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

export function encodeBase64(bytes: Uint8Array): Uint8Array {
  const b = Buffer.from(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64'), 'latin1');
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}
