import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ChannelDecoder,
  PortForwardChannelDecoder,
  channelFrame,
  encodeChannelMessage,
  encodeCloseSignal,
  encodePortPrefix,
  encodeResize,
  ResizeDecoder,
  negotiateSpdy,
  negotiateWebSocket,
  spdyReplyProtocol,
  remoteCommandProtocol,
  protocolInfo,
  SPDY_REMOTE_COMMAND_SERVER,
  WEBSOCKET_REMOTE_COMMAND_PROTOCOLS,
  type ChannelEvent,
} from '../../src/k8s/index.js';
import { WebSocketFrameDecoder, WebSocketFrameEncoder, fixedMaskSource, type WebSocketFrame } from '../../src/websocket/index.js';
import { KubewireError } from '../../src/common/errors.js';
import { channelMessageArb, chunkings, concatBytes } from '../../src/testing/index.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const ascii = (s: string) => new TextEncoder().encode(s);
const brief = (e: ChannelEvent) =>
  e.kind === 'data' ? `${e.role}:${toHex(e.data)}` : e.kind === 'close' ? `close:${e.role}` : e.kind === 'empty' ? 'empty' : e.error.code;

describe('remote command channel messages: golden', () => {
  it('v5 binary: stdin, resize, close signal, server channels, connected message', () => {
    const c2s = new ChannelDecoder({ protocol: 'v5.channel.k8s.io', direction: 'clientToServer' });
    expect(brief(c2s.decode(hex('00666f6f0a')))).toBe('stdin:666f6f0a');
    expect(brief(c2s.decode(ascii('\x04{"Width":80,"Height":24}\n')))).toBe(`resize:${toHex(ascii('{"Width":80,"Height":24}\n'))}`);
    expect(brief(c2s.decode(hex('ff00')))).toBe('close:stdin');
    expect(c2s.isClosed(0)).toBe(true);
    const s2c = new ChannelDecoder({ protocol: 'v5.channel.k8s.io', direction: 'serverToClient' });
    expect(brief(s2c.decode(hex('01')))).toBe('stdout:');
    expect(brief(s2c.decode(hex('0268690a')))).toBe('stderr:68690a');
    expect(brief(s2c.decode(ascii('\x03{"metadata":{},"status":"Success"}')))).toMatch(/^error:/);
    expect(brief(s2c.decode(new Uint8Array(0)))).toBe('empty');
  });

  it('base64 variants: digit then base64, in text messages', () => {
    const d = new ChannelDecoder({ protocol: 'v4.base64.channel.k8s.io', direction: 'clientToServer' });
    expect(brief(d.decode(ascii('0Zm9vCg=='), true))).toBe('stdin:666f6f0a');
    expect(toHex(encodeChannelMessage(0, ascii('foo\n'), { base64: true }))).toBe(toHex(ascii('0Zm9vCg==')));
    const s = new ChannelDecoder({ protocol: 'base64.channel.k8s.io', direction: 'serverToClient' });
    expect(brief(s.decode(ascii('1'), true))).toBe('stdout:');
    expect(brief(s.decode(ascii('2aGk='), true))).toBe('stderr:6869');
  });

  it('encoders: channel byte + data, close signal, frames without a copy', () => {
    expect(toHex(encodeChannelMessage(1, ascii('hi')))).toBe('016869');
    expect(toHex(encodeCloseSignal(0))).toBe('ff00');
    const enc = new WebSocketFrameEncoder({ role: 'client', maskSource: fixedMaskSource(0) });
    expect(toHex(enc.encode(channelFrame(0, ascii('ab'))))).toBe('82830000000000' + '6162');
    expect(toHex(new WebSocketFrameEncoder().encode(channelFrame(2, ascii('hi'), { base64: true })))).toBe('8105' + toHex(ascii('2aGk=')));
  });

  it('python clients send str stdin as TEXT frames on binary protocols: same bytes', () => {
    const d = new ChannelDecoder({ protocol: 'v4.channel.k8s.io', direction: 'clientToServer' });
    expect(brief(d.decode(ascii('\x00ls\n'), true))).toBe('stdin:6c730a');
  });
});

describe('remote command channel messages: bad input gives diagnostics', () => {
  const inspect = (protocol: string, opts: { channels?: number[]; direction?: 'clientToServer' | 'serverToClient' } = {}) =>
    new ChannelDecoder({ protocol, direction: opts.direction ?? 'clientToServer', mode: 'inspect', channels: opts.channels });
  it.each([
    ['channel out of range', 'v5.channel.k8s.io', hex('0700'), 'K8S_CHANNEL_OUT_OF_RANGE'],
    ['255 on v4 is just out of range', 'v4.channel.k8s.io', hex('ff00'), 'K8S_CHANNEL_OUT_OF_RANGE'],
    ['close signal too long', 'v5.channel.k8s.io', hex('ff0000'), 'K8S_CLOSE_SIGNAL_INVALID'],
    ['close signal too short', 'v5.channel.k8s.io', hex('ff'), 'K8S_CLOSE_SIGNAL_INVALID'],
    ['close signal for channel 9', 'v5.channel.k8s.io', hex('ff09'), 'K8S_CHANNEL_OUT_OF_RANGE'],
    ['client writing stdout', 'v5.channel.k8s.io', hex('0141'), 'K8S_CHANNEL_UNEXPECTED'],
    ['bad base64', 'v4.base64.channel.k8s.io', ascii('0Zm9v!'), 'K8S_BASE64_INVALID'],
    ['base64 channel digit out of range', 'v4.base64.channel.k8s.io', ascii('9Zm9v'), 'K8S_CHANNEL_OUT_OF_RANGE'],
  ])('%s', (_name, protocol, bytes, code) => {
    const ev = inspect(protocol).decode(bytes, false, 42);
    expect(ev.kind === 'diagnostic' && [ev.error.code, ev.error.offset, ev.error.layer]).toEqual([code, 42, 'k8s']);
    expect(() => new ChannelDecoder({ protocol, direction: 'clientToServer' }).decode(bytes)).toThrow(KubewireError);
  });

  it('close signal for a channel never opened, twice, and data after close', () => {
    const d = inspect('v5.channel.k8s.io', { channels: [1, 2, 3, 4] }); // no stdin requested
    expect(brief(d.decode(hex('ff00')))).toBe('K8S_CLOSE_UNKNOWN_CHANNEL');
    expect(brief(d.decode(hex('0061')))).toBe('K8S_CHANNEL_UNEXPECTED');
    const e = inspect('v5.channel.k8s.io');
    expect(brief(e.decode(hex('ff00')))).toBe('close:stdin');
    expect(brief(e.decode(hex('ff00')))).toBe('K8S_CHANNEL_ALREADY_CLOSED');
    expect(brief(e.decode(hex('0061')))).toBe('K8S_DATA_AFTER_CLOSE');
  });

  it('garbage never throws in inspect mode, only KubewireError in strict', () => {
    fc.assert(
      fc.property(fc.constantFrom(...WEBSOCKET_REMOTE_COMMAND_PROTOCOLS), fc.uint8Array({ maxLength: 40 }), fc.boolean(), (protocol, bytes, text) => {
        inspect(protocol).decode(bytes, text);
        try {
          new ChannelDecoder({ protocol, direction: 'serverToClient' }).decode(bytes, text);
        } catch (e) {
          expect(e).toBeInstanceOf(KubewireError);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('channel messages: round trip through WebSocket frames, any chunking', () => {
  for (const protocol of ['v5.channel.k8s.io', 'v4.base64.channel.k8s.io']) {
    it(protocol, () => {
      const base64 = protocol.includes('base64');
      fc.assert(
        fc.property(
          fc.array(channelMessageArb('clientToServer'), { maxLength: 8 }).chain((msgs) => {
            const enc = new WebSocketFrameEncoder({ role: 'client' });
            const bytes = concatBytes(msgs.map((m) => enc.encode(channelFrame(m.channel, m.data, { base64 }))));
            return fc.tuple(fc.constant(msgs), chunkings(bytes, 16), fc.boolean());
          }),
          ([msgs, chunks, split]) => {
            const frames = new WebSocketFrameDecoder({ direction: 'clientToServer', splitFirstByte: split });
            const channels = new ChannelDecoder({ protocol, direction: 'clientToServer' });
            const got = chunks
              .flatMap((c) => frames.push(c))
              .map((ev) => {
                const f = ev as WebSocketFrame;
                return split ? channels.decodeSplit(f.prefix, f.payload, f.kind === 'text', f.offset) : channels.decode(f.payload, f.kind === 'text', f.offset);
              });
            expect(got.map(brief)).toEqual(msgs.map((m) => `${m.channel === 0 ? 'stdin' : 'resize'}:${toHex(m.data)}`));
          },
        ),
        { numRuns: 100 },
      );
    });
  }
});

describe('port-forward over WebSocket', () => {
  it('strips the 2-byte little-endian port prefix of each channel once (binary and base64)', () => {
    const d = new PortForwardChannelDecoder({ protocol: 'v4.channel.k8s.io', direction: 'serverToClient', ports: [8080, 9090] });
    const ev = (b: Uint8Array) => d.decode(b).map((e) => (e.kind === 'port' ? `port:${e.channel}:${e.port}` : e.kind === 'data' ? `${e.role}:${e.pair}:${toHex(e.data)}` : e.kind === 'empty' ? 'empty' : e.error.code));
    expect(toHex(encodePortPrefix(8080))).toBe('901f');
    expect(ev(hex('00901f'))).toEqual(['port:0:8080']);
    expect(ev(hex('01901f'))).toEqual(['port:1:8080']);
    expect(ev(hex('00901f'))).toEqual(['data:0:901f']); // later messages are data, even if they look like a port
    expect(ev(hex('02822341'))).toEqual(['port:2:9090', 'data:1:41']);
    expect(() => ev(hex('07'))).toThrow(/channel 7 beyond the 2 requested ports/);
  });

  it('base64 variant and client direction', () => {
    const d = new PortForwardChannelDecoder({ protocol: 'v4.base64.channel.k8s.io', direction: 'serverToClient' });
    const [p] = d.decode(ascii('0' + Buffer.from([0x90, 0x1f]).toString('base64')));
    expect(p!.kind === 'port' && p!.port).toBe(8080);
    const c = new PortForwardChannelDecoder({ protocol: 'v4.channel.k8s.io', direction: 'clientToServer' });
    expect(c.decode(hex('004142')).map((e) => e.kind === 'data' && toHex(e.data))).toEqual(['4142']);
  });

  it('a short port prefix, an out-of-range channel, a client on an error channel: diagnostics', () => {
    const d = new PortForwardChannelDecoder({ protocol: 'v4.channel.k8s.io', direction: 'serverToClient', ports: [80], mode: 'inspect' });
    expect(d.decode(hex('0050')).map((e) => e.kind === 'diagnostic' && e.error.code)).toEqual(['K8S_PORT_PREFIX_SHORT']);
    expect(d.decode(hex('025000')).map((e) => e.kind === 'diagnostic' && e.error.code)).toEqual(['K8S_CHANNEL_OUT_OF_RANGE']);
    expect(d.decode(hex('015100')).map((e) => (e.kind === 'diagnostic' ? e.error.code : e.kind))).toEqual(['port', 'K8S_PORT_MISMATCH']);
    const c = new PortForwardChannelDecoder({ protocol: 'v4.channel.k8s.io', direction: 'clientToServer', mode: 'inspect' });
    expect(c.decode(hex('0141')).map((e) => e.kind === 'diagnostic' && e.error.code)).toEqual(['K8S_CHANNEL_UNEXPECTED']);
    expect(() => new PortForwardChannelDecoder({ protocol: '', direction: 'serverToClient' }).decode(hex('0050'))).toThrow(KubewireError);
  });
});

describe('resize', () => {
  it('encodes as Go json.Encoder does and decodes a stream in any pieces, case-insensitively', () => {
    expect(new TextDecoder().decode(encodeResize({ width: 80, height: 24 }))).toBe('{"Width":80,"Height":24}\n');
    const text = '{"Width":80,"Height":24}\n  {"width":120,"HEIGHT":40}\n{"Width":1,"Height":2}';
    fc.assert(
      fc.property(chunkings(ascii(text), 12), (chunks) => {
        const d = new ResizeDecoder();
        const sizes = chunks.flatMap((c) => d.push(c));
        expect(sizes).toEqual([
          { kind: 'resize', width: 80, height: 24 },
          { kind: 'resize', width: 120, height: 40 },
          { kind: 'resize', width: 1, height: 2 },
        ]);
      }),
      { numRuns: 50 },
    );
  });
  it('reports garbage and out-of-range sizes', () => {
    const d = new ResizeDecoder({ mode: 'inspect' });
    expect(d.push(ascii('xx{"Width":70000,"Height":1}{"Width":3,"Height":4}')).map((e) => (e.kind === 'resize' ? e.width : e.error.code))).toEqual([
      'K8S_RESIZE_INVALID',
      'K8S_RESIZE_INVALID',
      3,
    ]);
  });
});

describe('negotiation and protocol facts', () => {
  it('SPDY: first client-offered supported protocol, 400 without offer, 403 with accepted list', () => {
    expect(negotiateSpdy(['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io'], SPDY_REMOTE_COMMAND_SERVER)).toEqual({
      ok: true,
      protocol: 'v4.channel.k8s.io',
      headers: [['X-Stream-Protocol-Version', 'v4.channel.k8s.io']],
    });
    expect(negotiateSpdy(['v2.channel.k8s.io, v4.channel.k8s.io'], SPDY_REMOTE_COMMAND_SERVER)).toMatchObject({ ok: true, protocol: 'v2.channel.k8s.io' });
    expect(negotiateSpdy([], SPDY_REMOTE_COMMAND_SERVER)).toMatchObject({ ok: false, status: 400 });
    const refused = negotiateSpdy(['v9.channel.k8s.io'], ['portforward.k8s.io']);
    expect(refused).toMatchObject({ ok: false, status: 403, headers: [['X-Accepted-Stream-Protocol-Versions', 'portforward.k8s.io']] });
    expect(spdyReplyProtocol([])).toBe('channel.k8s.io');
    expect(spdyReplyProtocol(['v4.channel.k8s.io'])).toBe('v4.channel.k8s.io');
  });
  it('WebSocket: first offered wins, no offer gives an empty protocol line, first-line-only option', () => {
    expect(negotiateWebSocket(['v5.channel.k8s.io'], WEBSOCKET_REMOTE_COMMAND_PROTOCOLS)).toMatchObject({ ok: true, protocol: 'v5.channel.k8s.io' });
    expect(negotiateWebSocket(['v4.channel.k8s.io,v3.channel.k8s.io,v2.channel.k8s.io,channel.k8s.io'], WEBSOCKET_REMOTE_COMMAND_PROTOCOLS)).toMatchObject({ protocol: 'v4.channel.k8s.io' });
    expect(negotiateWebSocket([], WEBSOCKET_REMOTE_COMMAND_PROTOCOLS)).toEqual({ ok: true, protocol: '', headers: [['Sec-WebSocket-Protocol', '']] });
    expect(negotiateWebSocket(['x', 'v4.channel.k8s.io'], WEBSOCKET_REMOTE_COMMAND_PROTOCOLS, { firstLineOnly: true })).toMatchObject({ ok: false, status: 403 });
    expect(negotiateWebSocket(['SPDY/3.1+portforward.k8s.io'], ['SPDY/3.1+portforward.k8s.io'])).toMatchObject({ ok: true, protocol: 'SPDY/3.1+portforward.k8s.io' });
  });
  it('knows what each protocol carries', () => {
    expect(remoteCommandProtocol('v5.channel.k8s.io')).toMatchObject({ version: 5, closeSignal: true, statusFormat: 'json' });
    expect(remoteCommandProtocol('v3.channel.k8s.io')).toMatchObject({ version: 3, resize: true, statusFormat: 'text' });
    expect(remoteCommandProtocol('')).toMatchObject({ version: 1, base64: false });
    expect(remoteCommandProtocol('v4.base64.channel.k8s.io')).toMatchObject({ version: 4, base64: true, transports: ['websocket'] });
    expect(protocolInfo('SPDY/3.1+portforward.k8s.io')).toEqual({ family: 'tunnel', name: 'SPDY/3.1+portforward.k8s.io', inner: 'portforward.k8s.io' });
    expect(protocolInfo('v4.channel.k8s.io', 'portforward')).toMatchObject({ family: 'portforward', base64: false });
  });
});

describe('channel session interpreter (both directions)', () => {
  it('turns a v5 exec session into roles, resize, close and status events', async () => {
    const { ChannelSessionInterpreter, encodeExitCodeStatus } = await import('../../src/k8s/index.js');
    const s = new ChannelSessionInterpreter({ protocol: 'v5.channel.k8s.io', mode: 'inspect' });
    const c = (b: Uint8Array) => s.push(b, false, 'clientToServer');
    const v = (b: Uint8Array) => s.push(b, false, 'serverToClient');
    const all = [
      ...v(hex('01')),
      ...c(encodeChannelMessage(4, encodeResize({ width: 100, height: 30 }))),
      ...c(hex('00616263')),
      ...c(encodeCloseSignal(0)),
      ...v(hex('01616263')),
      ...v(encodeChannelMessage(3, encodeExitCodeStatus(3))),
      ...v(encodeChannelMessage(3, ascii('{oops'))),
    ];
    expect(
      all.map((e) =>
        e.kind === 'channel-data'
          ? `${e.direction === 'clientToServer' ? 'c' : 's'}:${e.role}:${e.data.length}`
          : e.kind === 'status'
            ? `status:${e.status.outcome}:${e.status.exitCode}`
            : e.kind === 'resize'
              ? `resize:${e.width}x${e.height}`
              : e.kind === 'channel-close'
                ? `close:${e.role}`
                : e.kind === 'diagnostic'
                  ? e.error.code
                  : e.kind,
      ),
    ).toEqual(['s:stdout:0', 'c:resize:26', 'resize:100x30', 'c:stdin:3', 'close:stdin', 's:stdout:3', 's:error:212', 'status:exit:3', 's:error:5', 'K8S_STATUS_NOT_JSON', 'status:failure:null']);
  });
});

describe('ChannelDecoder.route (allocation-free demultiplexing)', () => {
  it('returns the channel, or a code with the detail on the decoder', async () => {
    const { ROUTE_CLOSE, ROUTE_DIAGNOSTIC, ROUTE_EMPTY } = await import('../../src/k8s/index.js');
    const d = new ChannelDecoder({ protocol: 'v5.channel.k8s.io', direction: 'clientToServer', mode: 'inspect' });
    expect(d.route(0, ascii('x'))).toBe(0);
    expect(d.route(4, ascii('{}'))).toBe(4);
    expect(d.route(-1, new Uint8Array(0))).toBe(ROUTE_EMPTY);
    expect(d.route(255, hex('00'))).toBe(ROUTE_CLOSE);
    expect(d.lastChannel).toBe(0);
    expect(d.route(0, ascii('late'), 9)).toBe(ROUTE_DIAGNOSTIC);
    expect([d.lastError?.code, d.lastError?.offset]).toEqual(['K8S_DATA_AFTER_CLOSE', 9]);
    expect(d.route(1, ascii('x'))).toBe(ROUTE_DIAGNOSTIC);
    expect(d.lastError?.code).toBe('K8S_CHANNEL_UNEXPECTED');
    expect(() => new ChannelDecoder({ protocol: 'v5.channel.k8s.io', direction: 'clientToServer' }).route(7, ascii('x'))).toThrow(KubewireError);
  });
});
