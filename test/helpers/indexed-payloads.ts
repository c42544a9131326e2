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

/** A streaming decoder told about lost bytes (the SPDY and WebSocket frame decoders). */
interface GapDecoder<E> {
  push(chunk: Uint8Array): E[];
  gap(size: number): E[];
  end(): E[];
}

/**
 * `wire` pushed in `chunk`-byte pieces with bytes [cut, cut + loss) lost
 * (reported with `gap`), then `end`: every event, diagnostics included.
 */
export function decodeAcrossGap<E>(dec: GapDecoder<E>, wire: Uint8Array, cut: number, loss: number, chunk: number): E[] {
  const out: E[] = [];
  for (let o = 0; o < cut; o += chunk) out.push(...dec.push(wire.subarray(o, Math.min(o + chunk, cut))));
  out.push(...dec.gap(loss));
  for (let o = cut + loss; o < wire.length; o += chunk) out.push(...dec.push(wire.subarray(o, Math.min(o + chunk, wire.length))));
  out.push(...dec.end());
  return out;
}

/**
 * Delivered payloads that are not sent ones in increasing order (impostors:
 * bytes that passed for a frame), given each delivered payload and whether
 * the frame around it is what was sent for its index.
 */
export function countImpostors(delivered: Array<{ payload: Uint8Array; sentAs: (index: number) => boolean }>, payloads: Uint8Array[]): number {
  let last = -1;
  let impostors = 0;
  for (const { payload, sentAs } of delivered) {
    const i = payloadIndex(payload);
    if (i > last && i < payloads.length && Buffer.from(payload).equals(Buffer.from(payloads[i]!)) && sentAs(i)) last = i;
    else impostors++;
  }
  return impostors;
}
