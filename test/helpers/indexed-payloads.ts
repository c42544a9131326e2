import fc from 'fast-check';

/**
 * Frame payloads that say which frame they are: a 4-byte big-endian index,
 * then random bytes (which now and then look like frame headers, as real
 * payloads do). For checking that a decoder delivers only frames that were sent.
 */
export function indexedPayloads(maxLength: number): fc.Arbitrary<Uint8Array[]> {
  return fc.array(fc.uint8Array({ minLength: 60, maxLength }), { minLength: 12, maxLength: 40 }).map((rs) =>
    rs.map((r, i) => {
      const p = new Uint8Array(4 + r.length);
      new DataView(p.buffer).setUint32(0, i);
      p.set(r, 4);
      return p;
    }),
  );
}

/** The index a payload of `indexedPayloads` carries, or -1 when it has none. */
export function payloadIndex(p: Uint8Array): number {
  return p.length >= 4 ? new DataView(p.buffer, p.byteOffset).getUint32(0) : -1;
}
