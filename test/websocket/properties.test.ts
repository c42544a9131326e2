import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import {
  MessageAssembler,
  WebSocketFrameDecoder,
  WebSocketFrameEncoder,
  WebSocketStreamDecoder,
  fixedMaskSource,
  maskInPlace,
  maskRange,
  nativeMasking,
  type WebSocketFrame,
} from '../../src/websocket/index.js';
import { isKubewireError } from '../../src/common/errors.js';
import { chunkings, concatBytes, frameArb, frameBytes, messageSequenceArb } from '../../src/testing/index.js';
import { summarise, toHex } from './helpers.js';

const RUNS = { numRuns: 150 };

// @types/ws does not declare the framing classes; they are public in ws's lib.
interface WsReceiver {
  on(event: string, fn: (...args: never[]) => void): void;
  write(b: Buffer, cb: () => void): void;
}
const ws = createRequire(import.meta.url)('ws') as {
  Receiver: new (opts: object) => WsReceiver;
  Sender: { frame(data: Buffer, opts: object): Buffer[] };
};
const { Receiver, Sender } = ws;

describe('websocket properties', () => {
  it('decodes what an independent serialiser wrote, for any chunking', () => {
    fc.assert(
      fc.property(
        fc.array(frameArb({ maxLength: 70000 }), { maxLength: 5 }).chain((frames) => {
          const bytes = concatBytes(frames.map(frameBytes));
          return fc.tuple(fc.constant(frames), fc.constant(bytes), chunkings(bytes, 24), fc.constantFrom<'copy' | 'in-place'>('copy', 'in-place'));
        }),
        ([frames, bytes, chunks, unmask]) => {
          const whole = new WebSocketFrameDecoder().push(bytes.slice());
          const d = new WebSocketFrameDecoder({ unmask });
          const pieces = chunks.flatMap((c) => d.push(c.slice()));
          expect(d.idle).toBe(true);
          expect(summarise(pieces)).toEqual(summarise(whole));
          expect(whole).toHaveLength(frames.length);
          let offset = 0;
          whole.forEach((ev, i) => {
            const f = ev as WebSocketFrame;
            const spec = frames[i]!;
            expect(f.opcode).toBe(spec.opcode);
            expect(f.fin).toBe(spec.fin);
            expect(f.maskKey).toBe(spec.maskKey ?? 0);
            expect(toHex(f.payload)).toBe(toHex(spec.payload));
            expect(f.offset).toBe(offset);
            offset += frameBytes(spec).length;
          });
        },
      ),
      { numRuns: 100 },
    );
  });

  it('round-trips frames through our encoder, byte-identical to the reference serialiser', () => {
    fc.assert(
      fc.property(frameArb({ maxLength: 70000 }), (spec) => {
        const enc = new WebSocketFrameEncoder(spec.maskKey === null ? {} : { role: 'client', maskSource: fixedMaskSource(spec.maskKey) });
        const bytes = enc.encode({ opcode: spec.opcode, payload: spec.payload, fin: spec.fin });
        expect(toHex(bytes)).toBe(toHex(frameBytes(spec)));
      }),
      RUNS,
    );
  });

  it('keeps every frame a client encoder returned intact while later ones are encoded (frames share slabs, never bytes)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 70000 }), { minLength: 1, maxLength: 40 }), fc.integer(), (lengths, seed) => {
        const enc = new WebSocketFrameEncoder({ role: 'client' });
        const payloads = lengths.map((n, i) => Uint8Array.from({ length: n }, (_, j) => (seed + i * 31 + j * 7) & 0xff));
        const frames = payloads.map((p) => enc.binary(p));
        const decoded = new WebSocketFrameDecoder({ direction: 'clientToServer' }).push(concatBytes(frames));
        expect(decoded.map((f) => (f.kind === 'binary' ? toHex(f.payload) : f.kind))).toEqual(payloads.map(toHex));
      }),
      { ...RUNS, numRuns: 60 },
    );
  });

  it('assembles fragmented messages with interleaved control frames, for any chunking', () => {
    fc.assert(
      fc.property(
        messageSequenceArb({ masked: true }).chain((seq) => {
          const bytes = concatBytes(seq.frames.map(frameBytes));
          return fc.tuple(fc.constant(seq), chunkings(bytes, 24));
        }),
        ([seq, chunks]) => {
          const d = new WebSocketStreamDecoder({ direction: 'clientToServer' });
          const events = chunks.flatMap((c) => d.push(c));
          const messages = events.filter((e) => e.kind === 'message');
          expect(messages.map((m) => (m.kind === 'message' ? toHex(m.data) : ''))).toEqual(seq.messages.map(toHex));
          expect(events.filter((e) => e.kind === 'diagnostic')).toEqual([]);
        },
      ),
      RUNS,
    );
  });

  it(`masks word-wise (and natively from 512 bytes: ${nativeMasking() ? 'bufferutil present' : 'bufferutil absent'}) exactly like the byte rule, at any alignment and phase`, () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.integer({ min: 0, max: 0xffffffff }), fc.nat(7), fc.nat(3), (data, key, start, phase) => {
        const buf = new Uint8Array(data.length + start);
        buf.set(data, start);
        const view = buf.subarray(start);
        maskInPlace(view, key, phase);
        const k = [key >>> 24, (key >>> 16) & 255, (key >>> 8) & 255, key & 255];
        expect(toHex(view)).toBe(toHex(data.map((b, i) => b ^ k[(i + phase) & 3]!)));
        maskRange(buf, start, buf.length, key, phase);
        expect(toHex(view)).toBe(toHex(data));
      }),
      RUNS,
    );
  });

  it('never throws anything but a KubewireError on garbage (strict), never throws at all (inspect)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.array(fc.nat(400), { maxLength: 8 }), (garbage, cuts) => {
        const strict = new WebSocketFrameDecoder({ maxPayload: 1 << 16 });
        try {
          strict.push(garbage);
          strict.end();
        } catch (e) {
          expect(isKubewireError(e)).toBe(true);
        }
        const inspect = new WebSocketStreamDecoder({ mode: 'inspect', direction: 'clientToServer', maxPayload: 1 << 16 });
        let prev = 0;
        for (const c of [...cuts].sort((a, b) => a - b)) {
          inspect.push(garbage.subarray(prev, Math.max(prev, c)));
          prev = Math.max(prev, c);
        }
        inspect.push(garbage.subarray(prev));
        inspect.gap(3);
        inspect.push(garbage);
        inspect.end();
      }),
      { numRuns: 300 },
    );
  });
});

describe('interop with ws (Sender and Receiver)', () => {
  it("decodes ws's Sender frames, masked and unmasked, fragmented and whole", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.uint8Array({ maxLength: 70000 }), fc.boolean(), fc.boolean()), { maxLength: 4 }), (msgs) => {
        for (const mask of [false, true]) {
          const parts: Buffer[] = [];
          for (const [data, fin, text] of msgs) {
            const payload = text ? Buffer.from(Buffer.from(data).toString('base64')) : Buffer.from(data);
            parts.push(...Sender.frame(payload, { fin, opcode: text ? 1 : 2, mask, readOnly: true }));
          }
          const frames = new WebSocketFrameDecoder({ direction: mask ? 'clientToServer' : 'serverToClient' }).push(Buffer.concat(parts)) as WebSocketFrame[];
          expect(frames).toHaveLength(msgs.length);
          frames.forEach((f, i) => {
            const [data, fin, text] = msgs[i]!;
            expect(f.masked).toBe(mask);
            expect(f.fin).toBe(fin);
            expect(f.kind).toBe(text ? 'text' : 'binary');
            expect(Buffer.from(f.payload).equals(text ? Buffer.from(Buffer.from(data).toString('base64')) : Buffer.from(data))).toBe(true);
          });
        }
      }),
      { numRuns: 40 },
    );
  });

  it("has our frames accepted by ws's Receiver (server and client roles), control frames included", async () => {
    for (const role of ['client', 'server'] as const) {
      const receiver = new Receiver({ isServer: role === 'client', binaryType: 'nodebuffer' });
      const got: string[] = [];
      receiver.on('message', (data: Buffer, isBinary: boolean) => got.push(`${isBinary ? 'b' : 't'}:${data.toString('hex')}`));
      receiver.on('ping', (data: Buffer) => got.push(`ping:${data.toString('hex')}`));
      receiver.on('conclude', (code: number, reason: Buffer) => got.push(`close:${code}:${reason.toString()}`));
      receiver.on('error', (e: Error) => got.push(`error:${e.message}`));
      const enc = new WebSocketFrameEncoder({ role });
      const big = new Uint8Array(70000).map((_, i) => i * 13);
      const bytes = concatBytes([
        enc.binary([new Uint8Array([1]), new Uint8Array([0xaa, 0xbb])]),
        enc.encode({ opcode: 1, payload: new TextEncoder().encode('Hel'), fin: false }),
        enc.ping(new Uint8Array([1, 2])),
        enc.encode({ opcode: 0, payload: new TextEncoder().encode('lo'), fin: true }),
        enc.binary(big),
        enc.binary(new Uint8Array(0)),
        enc.close(1000, 'done'),
      ]);
      await new Promise<void>((resolve) => receiver.write(Buffer.from(bytes), () => resolve()));
      expect(got).toEqual([
        'b:01aabb',
        'ping:0102',
        `t:${Buffer.from('Hello').toString('hex')}`,
        `b:${Buffer.from(big).toString('hex')}`,
        'b:',
        'close:1000:done',
      ]);
    }
  });
});

describe('message assembler', () => {
  it('joins fragments, keeps single-frame messages as views', () => {
    const enc = new WebSocketFrameEncoder();
    const bytes = concatBytes([enc.binary(new Uint8Array([1, 2])), enc.encode({ opcode: 2, payload: new Uint8Array([3]), fin: false }), enc.encode({ opcode: 0, payload: new Uint8Array([]), fin: false }), enc.encode({ opcode: 0, payload: new Uint8Array([4]), fin: true })]);
    const frames = new WebSocketFrameDecoder().push(bytes) as WebSocketFrame[];
    const a = new MessageAssembler();
    const ms = frames.flatMap((f) => a.push(f));
    expect(ms.map((m) => (m.kind === 'message' ? [toHex(m.data), m.frames] : m.kind))).toEqual([
      ['0102', 1],
      ['0304', 3],
    ]);
    expect(ms[0]!.kind === 'message' && ms[0]!.data).toBe(frames[0]!.payload);
  });
});
