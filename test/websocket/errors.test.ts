import { describe, expect, it } from 'vitest';
import {
  MessageAssembler,
  WebSocketFrameDecoder,
  WebSocketFrameEncoder,
  buildUpgradeResponse,
  checkAccept,
  checkUpgradeRequest,
  checkUpgradeResponse,
  computeAccept,
  parseProtocolOffer,
  selectProtocol,
  type WebSocketFrame,
  type WebSocketFrameEvent,
} from '../../src/websocket/index.js';
import { KubewireError } from '../../src/common/errors.js';
import { hex } from './helpers.js';

const codes = (evs: WebSocketFrameEvent[]) => evs.filter((e) => e.kind === 'diagnostic').map((e) => (e.kind === 'diagnostic' ? e.error.code : ''));

// Each: bytes, decoder options, the expected code, and whether a frame is still delivered in inspect mode.
const BAD: Array<{ name: string; bytes: string; opts?: ConstructorParameters<typeof WebSocketFrameDecoder>[0]; code: string; offset: number; frames: number }> = [
  { name: 'RSV1 without an extension', bytes: '8000' + 'c100', code: 'WEBSOCKET_RSV_BITS', offset: 2, frames: 2 },
  { name: 'reserved opcode 3', bytes: '8300', code: 'WEBSOCKET_RESERVED_OPCODE', offset: 0, frames: 1 },
  { name: 'reserved control opcode 0xB', bytes: '8b00', code: 'WEBSOCKET_RESERVED_OPCODE', offset: 0, frames: 1 },
  { name: 'fragmented ping', bytes: '0900', code: 'WEBSOCKET_FRAGMENTED_CONTROL_FRAME', offset: 0, frames: 1 },
  { name: 'ping over 125 bytes', bytes: '897e007e' + '00'.repeat(126), code: 'WEBSOCKET_CONTROL_FRAME_TOO_LARGE', offset: 0, frames: 1 },
  { name: 'non-minimal 16-bit length', bytes: '827e0005' + '0102030405', code: 'WEBSOCKET_NON_MINIMAL_LENGTH', offset: 0, frames: 1 },
  { name: 'non-minimal 64-bit length', bytes: '827f0000000000000003' + '010203', code: 'WEBSOCKET_NON_MINIMAL_LENGTH', offset: 0, frames: 1 },
  { name: '64-bit length with top bit', bytes: '827f8000000000000000', code: 'WEBSOCKET_LENGTH_OVERFLOW', offset: 0, frames: 0 },
  { name: 'payload over the limit', bytes: '820a' + '00'.repeat(10) + '8100', opts: { maxPayload: 4 }, code: 'WEBSOCKET_PAYLOAD_TOO_LARGE', offset: 0, frames: 1 },
  { name: 'unmasked client frame', bytes: '8200', opts: { direction: 'clientToServer' }, code: 'WEBSOCKET_UNMASKED_CLIENT_FRAME', offset: 0, frames: 1 },
  { name: 'masked server frame', bytes: '828000000000', opts: { direction: 'serverToClient' }, code: 'WEBSOCKET_MASKED_SERVER_FRAME', offset: 0, frames: 1 },
  { name: '1-byte close payload', bytes: '880103', code: 'WEBSOCKET_CLOSE_PAYLOAD_SHORT', offset: 0, frames: 1 },
  { name: 'close code 1005 on the wire', bytes: '880203ed', code: 'WEBSOCKET_CLOSE_CODE_INVALID', offset: 0, frames: 1 },
  { name: 'close reason not UTF-8', bytes: '880403e8c328', code: 'WEBSOCKET_INVALID_UTF8', offset: 0, frames: 1 },
];

describe('websocket bad input', () => {
  for (const b of BAD) {
    it(`${b.name}: ${b.code} (strict throws, inspect reports and goes on)`, () => {
      const strict = new WebSocketFrameDecoder(b.opts);
      let thrown: unknown;
      try {
        strict.push(hex(b.bytes));
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(KubewireError);
      expect((thrown as KubewireError).code).toBe(b.code);
      expect((thrown as KubewireError).offset).toBe(b.offset);
      expect((thrown as KubewireError).layer).toBe('websocket');
      // A failed strict decoder stays failed.
      expect(() => strict.push(hex('8200'))).toThrow(KubewireError);
      const inspect = new WebSocketFrameDecoder({ ...b.opts, mode: 'inspect', baseOffset: 1000 });
      const evs = inspect.push(hex(b.bytes));
      expect(codes(evs)).toContain(b.code);
      const diag = evs.find((e) => e.kind === 'diagnostic');
      expect(diag?.kind === 'diagnostic' && diag.error.offset).toBe(1000 + b.offset);
      expect(evs.filter((e) => e.kind !== 'diagnostic')).toHaveLength(b.frames);
    });
  }

  it('stamps direction and connection on errors', () => {
    const d = new WebSocketFrameDecoder({ mode: 'inspect', direction: 'clientToServer', connection: 7 });
    const [ev] = d.push(hex('8200'));
    expect(ev!.kind === 'diagnostic' && ev.error.toJSON()).toMatchObject({ direction: 'clientToServer', connection: 7, scope: 'connection' });
  });

  it('reports a frame cut short at the end of input', () => {
    const d = new WebSocketFrameDecoder({ mode: 'inspect' });
    expect(d.push(hex('8205010203'))).toEqual([]);
    expect(codes(d.end())).toEqual(['WEBSOCKET_TRUNCATED_FRAME']);
    expect(() => {
      const s = new WebSocketFrameDecoder();
      s.push(hex('82'));
      s.end();
    }).toThrow(/input ended inside a frame/);
  });

  it('keeps framing over a gap inside a payload, resynchronises after a gap elsewhere', () => {
    const enc = new WebSocketFrameEncoder();
    const d = new WebSocketFrameDecoder({ mode: 'inspect', direction: 'serverToClient' });
    const big = enc.binary(new Uint8Array(1000));
    expect(d.push(big.subarray(0, 100))).toEqual([]);
    expect(codes(d.gap(500))).toEqual(['WEBSOCKET_GAP']);
    // The rest of the frame is skipped, the next frame decodes.
    const next = d.push(new Uint8Array([...big.subarray(600), ...enc.binary(new Uint8Array([7]))]));
    expect(next.map((e) => e.kind)).toEqual(['binary']);
    expect((next[0] as WebSocketFrame).offset).toBe(1004);
    // A gap between frames: garbage, then frames are found again.
    expect(codes(d.gap(3))).toEqual(['WEBSOCKET_GAP']);
    // Two frames are not proof enough mid-stream (payload bytes look like
    // headers too often); at the end of input, frames reaching the last byte are.
    const pending = d.push(new Uint8Array([0x33, 0x44, ...enc.binary(new Uint8Array([1, 2])), ...enc.binary(new Uint8Array([3]))]));
    expect(pending.filter((e) => e.kind === 'binary')).toEqual([]);
    const after = d.end();
    expect(after.filter((e) => e.kind === 'binary').map((e) => (e as WebSocketFrame).payload.length)).toEqual([2, 1]);
    expect(codes(after)).toEqual(['WEBSOCKET_RESYNC']);
  });

  it('assembler: continuation without a start, interleaved messages, limits, data after close, bad UTF-8', () => {
    const enc = new WebSocketFrameEncoder();
    const frames = (bytes: Uint8Array[]) => bytes.flatMap((b) => new WebSocketFrameDecoder().push(b)) as WebSocketFrame[];
    const run = (fs: WebSocketFrame[], opts = {}) => {
      const a = new MessageAssembler({ mode: 'inspect', ...opts });
      return fs.flatMap((f) => a.push(f)).map((e) => (e.kind === 'diagnostic' ? e.error.code : `msg:${e.data.length}`));
    };
    expect(run(frames([enc.encode({ opcode: 0, payload: new Uint8Array(1) })]))).toEqual(['WEBSOCKET_UNEXPECTED_CONTINUATION']);
    expect(run(frames([enc.encode({ opcode: 2, payload: new Uint8Array(1), fin: false }), enc.binary(new Uint8Array(2))]))).toEqual(['WEBSOCKET_MESSAGE_INTERRUPTED', 'msg:2']);
    expect(run(frames([enc.encode({ opcode: 2, payload: new Uint8Array(3), fin: false }), enc.encode({ opcode: 0, payload: new Uint8Array(3) })]), { maxMessageSize: 5 })).toEqual(['WEBSOCKET_MESSAGE_TOO_LARGE']);
    expect(run(frames([enc.encode({ opcode: 2, payload: new Uint8Array(1), fin: false }), enc.encode({ opcode: 0, payload: new Uint8Array(1), fin: false }), enc.encode({ opcode: 0, payload: new Uint8Array(1) })]), { maxFragments: 2 })).toEqual(['WEBSOCKET_TOO_MANY_FRAGMENTS']);
    expect(run(frames([enc.close(1000), enc.binary(new Uint8Array(1))]))).toEqual(['WEBSOCKET_DATA_AFTER_CLOSE', 'msg:1']);
    expect(run(frames([enc.text(new Uint8Array([0xc3, 0x28]))]))).toEqual(['WEBSOCKET_INVALID_UTF8', 'msg:2']);
    expect(() => new MessageAssembler().push(frames([enc.encode({ opcode: 0, payload: new Uint8Array(1) })])[0]!)).toThrow(KubewireError);
  });
});

describe('handshake helpers', () => {
  it('computes and checks Sec-WebSocket-Accept (RFC 6455 example)', () => {
    expect(computeAccept('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    expect(checkAccept('dGhlIHNhbXBsZSBub25jZQ==', 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=')).toBe(true);
    expect(checkAccept('dGhlIHNhbXBsZSBub25jZQ==', 'x')).toBe(false);
  });

  it('parses offers from several lines and comma lists, non-token names included', () => {
    expect(parseProtocolOffer(['v4.channel.k8s.io, v3.channel.k8s.io', 'channel.k8s.io', ' ,SPDY/3.1+portforward.k8s.io '])).toEqual([
      'v4.channel.k8s.io',
      'v3.channel.k8s.io',
      'channel.k8s.io',
      'SPDY/3.1+portforward.k8s.io',
    ]);
    expect(parseProtocolOffer('v4.channel.k8s.io,v3.channel.k8s.io')).toEqual(['v4.channel.k8s.io', 'v3.channel.k8s.io']);
    expect(selectProtocol(['a', 'b'], ['b', 'a'])).toBe('a');
    expect(selectProtocol(['a', 'b'], ['b', 'a'], 'server')).toBe('b');
    expect(selectProtocol(['x'], ['a'])).toBeNull();
  });

  it('checks requests and builds the 101; checks the response on the client side', () => {
    const headers = {
      host: 'h',
      upgrade: 'websocket',
      connection: 'keep-alive, Upgrade',
      'sec-websocket-version': '13',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'sec-websocket-protocol': 'SPDY/3.1+portforward.k8s.io',
    };
    const ok = checkUpgradeRequest('GET', headers);
    expect(ok).toEqual({ ok: true, key: 'dGhlIHNhbXBsZSBub25jZQ==', protocols: ['SPDY/3.1+portforward.k8s.io'], extensions: [] });
    expect(checkUpgradeRequest('POST', headers)).toMatchObject({ ok: false, status: 400 });
    expect(checkUpgradeRequest('GET', { ...headers, 'sec-websocket-version': '8' })).toMatchObject({ ok: false, status: 426, headers: [['Sec-WebSocket-Version', '13']] });
    expect(checkUpgradeRequest('GET', { ...headers, 'sec-websocket-key': 'short' })).toMatchObject({ ok: false, status: 400 });
    const response = buildUpgradeResponse({ key: 'dGhlIHNhbXBsZSBub25jZQ==', protocol: 'SPDY/3.1+portforward.k8s.io' });
    expect(response).toBe(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: SPDY/3.1+portforward.k8s.io\r\n\r\n',
    );
    const raw = ['Upgrade', 'websocket', 'Connection', 'Upgrade', 'Sec-WebSocket-Accept', 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=', 'Sec-WebSocket-Protocol', 'SPDY/3.1+portforward.k8s.io'];
    expect(checkUpgradeResponse(101, raw, { key: 'dGhlIHNhbXBsZSBub25jZQ==', offered: ['SPDY/3.1+portforward.k8s.io'] })).toEqual({ ok: true, protocol: 'SPDY/3.1+portforward.k8s.io' });
    expect(checkUpgradeResponse(101, raw, { key: 'dGhlIHNhbXBsZSBub25jZQ==', offered: [] })).toMatchObject({ ok: false });
    expect(checkUpgradeResponse(403, raw, { key: 'dGhlIHNhbXBsZSBub25jZQ==' })).toMatchObject({ ok: false });
  });
});
