/**
 * fast-check arbitraries for WebSocket frames and Kubernetes channel messages.
 */
import fc from 'fast-check';

export interface FrameSpec {
  opcode: number;
  fin: boolean;
  rsv: number;
  payload: Uint8Array;
  /** Masking key (first wire byte most significant), or null for an unmasked frame. */
  maskKey: number | null;
}

const bytes = (maxLength: number) => fc.uint8Array({ maxLength });

/** Payload lengths that exercise all three length encodings, biased to the boundaries. */
export function payloadArb(maxLength = 70000): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 6, arbitrary: bytes(130) },
    { weight: 2, arbitrary: fc.constantFrom(125, 126, 127, 65535, 65536).filter((n) => n <= maxLength).map((n) => new Uint8Array(n).fill(0xa5)) },
    { weight: 1, arbitrary: fc.integer({ min: 126, max: Math.max(126, maxLength) }).map((n) => new Uint8Array(n).map((_, i) => i * 7)) },
  );
}

function maskArb(masked: boolean | undefined): fc.Arbitrary<number | null> {
  if (masked === false) return fc.constant(null);
  const key = fc.integer({ min: 0, max: 0xffffffff });
  return masked === true ? key : fc.option(key, { nil: null });
}

/** A valid data frame (text frames carry UTF-8 only when complete messages are asked for). */
export function dataFrameArb(opts: { masked?: boolean; maxLength?: number } = {}): fc.Arbitrary<FrameSpec> {
  return fc.record({
    opcode: fc.constantFrom(0, 1, 2),
    fin: fc.boolean(),
    rsv: fc.constant(0),
    payload: payloadArb(opts.maxLength),
    maskKey: maskArb(opts.masked),
  });
}

/** A valid control frame: close, ping or pong, FIN, at most 125 bytes. */
export function controlFrameArb(opts: { masked?: boolean } = {}): fc.Arbitrary<FrameSpec> {
  const closePayload = fc.oneof(
    fc.constant(new Uint8Array(0)),
    fc
      .tuple(fc.constantFrom(1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4999), fc.string({ maxLength: 40 }))
      .map(([code, reason]) => {
        const r = new TextEncoder().encode(reason).subarray(0, 100);
        // Cut at a character boundary: re-encode what survives decoding.
        const text = new TextDecoder().decode(r).replace(/\uFFFD/g, '');
        const rb = new TextEncoder().encode(text);
        const out = new Uint8Array(2 + rb.length);
        out[0] = code >> 8;
        out[1] = code & 0xff;
        out.set(rb, 2);
        return out;
      }),
  );
  return fc.oneof(
    fc.record({ opcode: fc.constant(8), fin: fc.constant(true), rsv: fc.constant(0), payload: closePayload, maskKey: maskArb(opts.masked) }),
    fc.record({ opcode: fc.constantFrom(9, 10), fin: fc.constant(true), rsv: fc.constant(0), payload: bytes(125), maskKey: maskArb(opts.masked) }),
  );
}

/** Any valid frame. */
export function frameArb(opts: { masked?: boolean; maxLength?: number } = {}): fc.Arbitrary<FrameSpec> {
  return fc.oneof({ weight: 3, arbitrary: dataFrameArb(opts) }, { weight: 1, arbitrary: controlFrameArb(opts) });
}

/**
 * A well-formed frame sequence: binary messages, each split into 1–4
 * fragments, with control frames (ping/pong) between fragments.
 */
export function messageSequenceArb(opts: { masked?: boolean } = {}): fc.Arbitrary<{ frames: FrameSpec[]; messages: Uint8Array[] }> {
  const message = fc.tuple(fc.array(bytes(300), { minLength: 1, maxLength: 4 }), fc.array(controlFrameArb(opts).filter((f) => f.opcode !== 8), { maxLength: 3 }), maskArb(opts.masked));
  return fc.array(message, { maxLength: 6 }).map((msgs) => {
    const frames: FrameSpec[] = [];
    const messages: Uint8Array[] = [];
    for (const [parts, controls, key] of msgs) {
      parts.forEach((p, i) => {
        frames.push({ opcode: i === 0 ? 2 : 0, fin: i === parts.length - 1, rsv: 0, payload: p, maskKey: key });
        const c = controls[i];
        if (c && i < parts.length - 1) frames.push(c);
      });
      const total = parts.reduce((n, p) => n + p.length, 0);
      const m = new Uint8Array(total);
      let o = 0;
      for (const p of parts) {
        m.set(p, o);
        o += p.length;
      }
      messages.push(m);
    }
    return { frames, messages };
  });
}

/** Serialise a frame spec independently of the encoder under test (minimal lengths). */
export function frameBytes(f: FrameSpec): Uint8Array {
  const n = f.payload.length;
  const ext = n < 126 ? 0 : n < 0x10000 ? 2 : 8;
  const masked = f.maskKey !== null;
  const out = new Uint8Array(2 + ext + (masked ? 4 : 0) + n);
  out[0] = (f.fin ? 0x80 : 0) | (f.rsv << 4) | f.opcode;
  out[1] = (masked ? 0x80 : 0) | (n < 126 ? n : n < 0x10000 ? 126 : 127);
  let o = 2;
  if (ext === 2) {
    out[2] = n >> 8;
    out[3] = n & 0xff;
    o = 4;
  } else if (ext === 8) {
    new DataView(out.buffer).setBigUint64(2, BigInt(n));
    o = 10;
  }
  const key = [0, 0, 0, 0];
  if (masked) {
    const k = f.maskKey!;
    key[0] = k >>> 24;
    key[1] = (k >>> 16) & 0xff;
    key[2] = (k >>> 8) & 0xff;
    key[3] = k & 0xff;
    out.set(key, o);
    o += 4;
  }
  for (let i = 0; i < n; i++) out[o + i] = f.payload[i]! ^ key[i & 3]!;
  return out;
}

export interface ChannelMessageSpec {
  channel: number;
  data: Uint8Array;
}

/** Channel messages of remote command, per direction (client: stdin 0, resize 4; server: 1–3). */
export function channelMessageArb(direction: 'clientToServer' | 'serverToClient', maxLength = 200): fc.Arbitrary<ChannelMessageSpec> {
  return fc.record({
    channel: direction === 'clientToServer' ? fc.constantFrom(0, 4) : fc.constantFrom(1, 2, 3),
    data: bytes(maxLength),
  });
}

/** Port-forward channel messages for `ports` ports. */
export function portForwardMessageArb(ports: number, maxLength = 200): fc.Arbitrary<ChannelMessageSpec> {
  return fc.record({ channel: fc.integer({ min: 0, max: 2 * ports - 1 }), data: bytes(maxLength) });
}
