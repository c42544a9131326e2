import { describe, expect, it } from 'vitest';
import {
  WebSocketFrameDecoder,
  WebSocketFrameEncoder,
  MessageAssembler,
  fixedMaskSource,
  OPCODE,
  type WebSocketFrame,
} from '../../src/websocket/index.js';
import { hex, toHex } from './helpers.js';

// RFC 6455 §5.7 examples, plus length boundaries and close frames.
const GOLDEN: Array<{ name: string; bytes: string; kind: string; fin: boolean; payload: string; key?: number }> = [
  { name: 'unmasked text "Hello"', bytes: '810548656c6c6f', kind: 'text', fin: true, payload: '48656c6c6f' },
  { name: 'masked text "Hello"', bytes: '818537fa213d7f9f4d5158', kind: 'text', fin: true, payload: '48656c6c6f', key: 0x37fa213d },
  { name: 'first fragment "Hel"', bytes: '010348656c', kind: 'text', fin: false, payload: '48656c' },
  { name: 'last fragment "lo"', bytes: '80026c6f', kind: 'continuation', fin: true, payload: '6c6f' },
  { name: 'unmasked ping "Hello"', bytes: '890548656c6c6f', kind: 'ping', fin: true, payload: '48656c6c6f' },
  { name: 'masked pong "Hello"', bytes: '8a8537fa213d7f9f4d5158', kind: 'pong', fin: true, payload: '48656c6c6f', key: 0x37fa213d },
  { name: 'close 1000', bytes: '880203e8', kind: 'close', fin: true, payload: '03e8' },
  { name: 'empty binary', bytes: '8200', kind: 'binary', fin: true, payload: '' },
];

describe('websocket golden vectors', () => {
  for (const g of GOLDEN) {
    it(`decodes ${g.name}`, () => {
      const d = new WebSocketFrameDecoder();
      const [f, ...rest] = d.push(hex(g.bytes)) as WebSocketFrame[];
      expect(rest).toEqual([]);
      expect(f!.kind).toBe(g.kind);
      expect(f!.fin).toBe(g.fin);
      expect(toHex(f!.payload)).toBe(g.payload);
      expect(f!.masked).toBe(g.key !== undefined);
      expect(f!.maskKey).toBe(g.key ?? 0);
      expect(f!.offset).toBe(0);
      expect(f!.headerLength).toBe(hex(g.bytes).length - g.payload.length / 2);
    });
    it(`encodes ${g.name}`, () => {
      const enc = new WebSocketFrameEncoder(g.key === undefined ? {} : { role: 'client', maskSource: fixedMaskSource(g.key) });
      const opcode = { text: 1, binary: 2, continuation: 0, close: 8, ping: 9, pong: 10 }[g.kind]!;
      expect(toHex(enc.encode({ opcode, payload: hex(g.payload), fin: g.fin }))).toBe(g.bytes);
    });
  }

  it('uses the 16-bit length from 126 and the 64-bit length from 65536', () => {
    const enc = new WebSocketFrameEncoder();
    expect(toHex(enc.binary(new Uint8Array(125)).subarray(0, 2))).toBe('827d');
    expect(toHex(enc.binary(new Uint8Array(126)).subarray(0, 4))).toBe('827e007e');
    expect(toHex(enc.binary(new Uint8Array(256)).subarray(0, 4))).toBe('827e0100');
    expect(toHex(enc.binary(new Uint8Array(65535)).subarray(0, 4))).toBe('827effff');
    expect(toHex(enc.binary(new Uint8Array(65536)).subarray(0, 10))).toBe('827f0000000000010000');
    for (const n of [125, 126, 65535, 65536]) {
      const f = new WebSocketFrameDecoder().push(enc.binary(new Uint8Array(n).fill(7)))[0] as WebSocketFrame;
      expect(f.payload.length).toBe(n);
      expect(f.payload.every((b) => b === 7)).toBe(true);
    }
  });

  it('encodes close frames with code and reason, and empty ones', () => {
    const enc = new WebSocketFrameEncoder();
    expect(toHex(enc.close(1000))).toBe('880203e8');
    expect(toHex(enc.close())).toBe('8800');
    expect(toHex(enc.close(1001, 'bye'))).toBe('880503e9627965');
    const f = new WebSocketFrameDecoder().push(enc.close(4001, 'é'))[0] as WebSocketFrame;
    expect(f.kind === 'close' && [f.code, f.reason]).toEqual([4001, 'é']);
    expect(() => enc.close(1005)).toThrow(RangeError);
    expect(() => enc.close(1000, 'x'.repeat(124))).toThrow(RangeError);
  });

  it('encodes a channel message from pieces and as [header, payload] parts', () => {
    const enc = new WebSocketFrameEncoder({ role: 'client', maskSource: fixedMaskSource(0x01020304) });
    // v5 stdin "hi": channel 0 then the data; masked with 01 02 03 04.
    expect(toHex(enc.binary([new Uint8Array([0]), new TextEncoder().encode('hi')]))).toBe('828301020304' + '016a6a');
    const server = new WebSocketFrameEncoder();
    const data = new Uint8Array(300).fill(1);
    const parts = server.encodeParts({ opcode: OPCODE.BINARY, payload: data });
    expect(parts.length).toBe(2);
    expect(toHex(parts[0]!)).toBe('827e012c');
    expect(parts[1]).toBe(data);
    expect(toHex(server.encodeHeader(OPCODE.BINARY, 5, true, 0xaabbccdd))).toBe('8285aabbccdd');
  });

  it('splits the first payload byte off when asked, for masked and unmasked frames', () => {
    const enc = new WebSocketFrameEncoder({ role: 'client', maskSource: fixedMaskSource(0xdeadbeef) });
    const big = new Uint8Array(1000).map((_, i) => i);
    const bytes = [enc.binary(new Uint8Array([1, 2, 3])), enc.binary(big), enc.binary(new Uint8Array(0)), enc.ping(new Uint8Array([9, 8]))];
    for (const unmask of ['copy', 'in-place'] as const) {
      const d = new WebSocketFrameDecoder({ splitFirstByte: true, unmask });
      const fs = bytes.flatMap((b) => d.push(b.slice())) as WebSocketFrame[];
      expect(fs.map((f) => [f.prefix, f.payload.length])).toEqual([
        [1, 2],
        [0, 999],
        [-1, 0],
        [-1, 2],
      ]);
      expect(toHex(fs[0]!.payload)).toBe('0203');
      expect(fs[1]!.payload.every((b, i) => b === ((i + 1) & 255))).toBe(true);
      expect(toHex(fs[3]!.payload)).toBe('0908');
    }
  });

  it('assembles the RFC fragmented message around an interleaved ping', () => {
    const d = new WebSocketFrameDecoder();
    const a = new MessageAssembler();
    const frames = d.push(hex('010348656c' + '890548656c6c6f' + '80026c6f')) as WebSocketFrame[];
    expect(frames.map((f) => f.kind)).toEqual(['text', 'ping', 'continuation']);
    const messages = frames.flatMap((f) => a.push(f));
    expect(messages).toHaveLength(1);
    const m = messages[0]!;
    expect(m.kind === 'message' && [m.type, new TextDecoder().decode(m.data), m.frames, m.offset]).toEqual(['text', 'Hello', 2, 0]);
  });
});

describe('large frames split across chunks', () => {
  it('buffers a multi-MiB masked frame arriving in uneven pieces', () => {
    for (const size of [(1 << 20) + 1, 3 * (1 << 20) + 5]) {
      const data = new Uint8Array(size).map((_, i) => (i * 11) & 255);
      const bytes = new WebSocketFrameEncoder({ role: 'client', maskSource: fixedMaskSource(0x9abcdef0) }).binary(data);
      for (const cuts of [[100], [bytes.length - 3], [7, 700_000, 2_000_000]]) {
        const d = new WebSocketFrameDecoder({ direction: 'clientToServer', splitFirstByte: cuts.length === 3 });
        let prev = 0;
        const frames: WebSocketFrame[] = [];
        for (const c of [...cuts.filter((c) => c < bytes.length), bytes.length]) {
          frames.push(...(d.push(bytes.subarray(prev, c)) as WebSocketFrame[]));
          prev = c;
        }
        expect(frames).toHaveLength(1);
        const f = frames[0]!;
        const split = cuts.length === 3;
        expect(f.payload.length).toBe(size - (split ? 1 : 0));
        expect(f.prefix).toBe(split ? data[0] : -1);
        expect(Buffer.from(f.payload).equals(Buffer.from(data.subarray(split ? 1 : 0)))).toBe(true);
      }
    }
  });
});
