import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  SpdyStreamInterpreter,
  TunnelDecoder,
  TunnelEncoder,
  encodeExitCodeStatus,
  encodeInternalErrorStatus,
  encodeStatus,
  encodeSuccessStatus,
  encodeResize,
  parseStatus,
  portForwardStreamHeaders,
  remoteCommandStreamHeaders,
  streamInfoFromHeaders,
  type SpdyStreamEvent,
} from '../../src/k8s/index.js';
import { SpdyFrameDecoder, SpdyFrameEncoder, type SpdyFrame } from '../../src/spdy/index.js';
import type { SpdyFrameInput } from '../../src/spdy/types.js';
import { WebSocketFrameDecoder, WebSocketFrameEncoder, type WebSocketFrame } from '../../src/websocket/index.js';
import { KubewireError } from '../../src/common/errors.js';
import { spdyFrames, cutPoints, splitAt } from '../../src/testing/index.js';

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const ascii = (s: string) => new TextEncoder().encode(s);

describe('status (error channel)', () => {
  it('builds exactly what Kubernetes writes', () => {
    expect(text(encodeSuccessStatus())).toBe('{"metadata":{},"status":"Success"}');
    expect(text(encodeExitCodeStatus(3))).toBe(
      '{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: command terminated with exit code 3","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}',
    );
    expect(text(encodeInternalErrorStatus('boom <x>'))).toBe(
      '{"metadata":{},"status":"Failure","message":"Internal error occurred: boom \\u003cx\\u003e","reason":"InternalError","details":{"causes":[{"message":"boom \\u003cx\\u003e"}]},"code":500}',
    );
  });

  it('parses success, exit codes, failures, text errors and empty streams', () => {
    expect(parseStatus(encodeSuccessStatus(), 'json').status).toMatchObject({ outcome: 'success', status: 'Success', exitCode: null });
    expect(parseStatus(encodeExitCodeStatus(42), 'json').status).toMatchObject({ outcome: 'exit', exitCode: 42, reason: 'NonZeroExitCode' });
    // Newer servers: no metadata, keys in another order.
    expect(parseStatus(ascii('{"details":{"causes":[{"message":"7","reason":"ExitCode"}]},"reason":"NonZeroExitCode","status":"Failure"}'), 'json').status.exitCode).toBe(7);
    expect(parseStatus(encodeInternalErrorStatus('x'), 'json').status).toMatchObject({ outcome: 'failure', code: 500, message: 'Internal error occurred: x' });
    expect(parseStatus(ascii('command terminated with non-zero exit code: 1'), 'text').status).toMatchObject({ outcome: 'failure', message: 'command terminated with non-zero exit code: 1' });
    expect(parseStatus(new Uint8Array(0), 'json').status.outcome).toBe('success');
    expect(parseStatus(new Uint8Array(0), 'text').status.outcome).toBe('success');
  });

  it.each([
    ['not JSON', 'oops', 'K8S_STATUS_NOT_JSON'],
    ['JSON array', '[1]', 'K8S_STATUS_NOT_OBJECT'],
    ['exit code 256', '{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"256"}]}}', 'K8S_STATUS_BAD_EXIT_CODE'],
    ['exit code not a number', '{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"-1"}]}}', 'K8S_STATUS_BAD_EXIT_CODE'],
    ['no ExitCode cause', '{"status":"Failure","reason":"NonZeroExitCode"}', 'K8S_STATUS_NO_EXIT_CODE'],
    ['unknown status', '{"status":"Maybe"}', 'K8S_STATUS_UNKNOWN'],
  ])('%s gives a diagnostic, not a crash', (_n, body, code) => {
    const r = parseStatus(ascii(body), 'json', { streamId: 1 });
    expect(r.diagnostics.map((d) => [d.code, d.streamId])).toEqual([[code, 1]]);
    expect(r.status.exitCode).toBeNull();
  });

  it('round-trips arbitrary status fields', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.integer({ min: 0, max: 255 }), (message, reason, exit) => {
        const parsed = parseStatus(encodeStatus({ status: 'Failure', message, reason, details: { causes: [{ reason: 'x', message: String(exit) }] } }), 'json');
        expect(parsed.status.message ?? '').toBe(message);
        expect(parsed.status.reason ?? '').toBe(reason);
        expect(parsed.status.causes).toEqual([{ reason: 'x', message: String(exit) }]);
      }),
      { numRuns: 100 },
    );
  });
});

/** Run frames through our SPDY encoder/decoder, then the interpreter. */
function interpret(protocol: string, frames: Array<[SpdyFrameInput, 'clientToServer' | 'serverToClient']>, mode: 'strict' | 'inspect' = 'inspect'): SpdyStreamEvent[] {
  const enc = { clientToServer: new SpdyFrameEncoder(), serverToClient: new SpdyFrameEncoder() };
  const dec = { clientToServer: new SpdyFrameDecoder({ direction: 'clientToServer' }), serverToClient: new SpdyFrameDecoder({ direction: 'serverToClient' }) };
  const it = new SpdyStreamInterpreter({ protocol, mode });
  const out: SpdyStreamEvent[] = [];
  for (const [f, dir] of frames) {
    for (const ev of dec[dir].push(enc[dir].encode(f))) {
      if (ev.kind === 'diagnostic') throw ev.error;
      out.push(...it.push(ev as SpdyFrame, dir));
    }
  }
  return out;
}

const syn = (streamId: number, headers: [string, string][], fin = false): SpdyFrameInput => ({ kind: 'syn_stream', streamId, associatedStreamId: 0, priority: 0, slot: 0, fin, unidirectional: false, headers });
const reply = (streamId: number): SpdyFrameInput => ({ kind: 'syn_reply', streamId, fin: false, headers: [] });
const data = (streamId: number, bytes: Uint8Array, fin = false): SpdyFrameInput => ({ kind: 'data', streamId, fin, data: bytes });

describe('SPDY stream roles (remote command and port-forward)', () => {
  it('reads roles from streamtype headers and follows an exec -it session', () => {
    expect(remoteCommandStreamHeaders('stdin')).toEqual([['streamtype', 'stdin']]);
    const evs = interpret('v4.channel.k8s.io', [
      [syn(1, remoteCommandStreamHeaders('error')), 'clientToServer'],
      [reply(1), 'serverToClient'],
      [syn(3, remoteCommandStreamHeaders('stdin')), 'clientToServer'],
      [syn(5, remoteCommandStreamHeaders('stdout')), 'clientToServer'],
      [syn(7, remoteCommandStreamHeaders('resize')), 'clientToServer'],
      [data(7, encodeResize({ width: 80, height: 24 }).subarray(0, 10)), 'clientToServer'],
      [data(7, encodeResize({ width: 80, height: 24 }).subarray(10)), 'clientToServer'],
      [data(3, ascii('ls\n')), 'clientToServer'],
      [data(3, new Uint8Array(0), true), 'clientToServer'],
      [data(5, ascii('file\n')), 'serverToClient'],
      [data(1, encodeExitCodeStatus(2).subarray(0, 20)), 'serverToClient'],
      [data(1, encodeExitCodeStatus(2).subarray(20), true), 'serverToClient'],
    ]);
    const brief = evs.map((e) =>
      e.kind === 'diagnostic' ? e.error.code : e.kind === 'stream-data' ? `${e.role}:${text(e.data)}` : e.kind === 'stream-end' ? `end:${e.role}:${e.how}` : e.kind === 'status' ? `status:${e.status.outcome}:${e.status.exitCode}` : e.kind === 'resize' ? `resize:${e.width}x${e.height}` : `${e.kind}:${e.role}`,
    );
    expect(brief).toEqual([
      'stream-open:error',
      'stream-open:stdin',
      'stream-open:stdout',
      'stream-open:resize',
      `resize:${''}`.slice(0, 0) + 'resize:{"Width":8',
      'resize:0,"Height":24}\n',
      'resize:80x24',
      'stdin:ls\n',
      'end:stdin:fin',
      'stdout:file\n',
      `error:${text(encodeExitCodeStatus(2).subarray(0, 20))}`,
      `error:${text(encodeExitCodeStatus(2).subarray(20))}`,
      'end:error:fin',
      'status:exit:2',
    ]);
  });

  it('pairs port-forward streams by requestid and port; reports errors', () => {
    expect(streamInfoFromHeaders(portForwardStreamHeaders('data', 8080, 0))).toEqual({ role: 'data', streamType: 'data', port: 8080, requestId: '0' });
    const evs = interpret('portforward.k8s.io', [
      [syn(1, portForwardStreamHeaders('error', 8080, 0)), 'clientToServer'],
      [data(1, new Uint8Array(0), true), 'clientToServer'],
      [syn(3, portForwardStreamHeaders('data', 8080, 0)), 'clientToServer'],
      [data(3, ascii('GET /')), 'clientToServer'],
      [data(3, ascii('200 OK')), 'serverToClient'],
      [syn(5, portForwardStreamHeaders('error', 9999, 1)), 'clientToServer'],
      [syn(7, portForwardStreamHeaders('data', 9998, 1)), 'clientToServer'],
      [syn(9, [['streamtype', 'data']]), 'clientToServer'],
      [data(5, ascii('error forwarding port 9999')), 'serverToClient'],
      [{ kind: 'rst_stream', streamId: 5, status: 5 }, 'serverToClient'],
    ]);
    const brief = evs.map((e) =>
      e.kind === 'diagnostic' ? e.error.code : e.kind === 'portforward-error' ? `pf-error:${e.requestId}:${e.port}:${e.message}` : 'port' in e ? `${e.kind}:${e.role}:${e.requestId}:${e.port}` : (e as { kind: string }).kind,
    );
    expect(brief).toEqual([
      'stream-open:error:0:8080',
      'stream-end:error:0:8080',
      'stream-open:data:0:8080',
      'stream-data:data:0:8080',
      'stream-data:data:0:8080',
      'stream-open:error:1:9999',
      'K8S_PORT_MISMATCH',
      'stream-open:data:1:9998',
      'K8S_PORT_INVALID',
      'stream-open:data:7:null',
      'stream-data:error:1:9999',
      'stream-end:error:1:9999',
      'pf-error:1:9999:error forwarding port 9999',
    ]);
  });

  it('unknown stream types and bad status JSON are diagnostics (inspect) or errors (strict)', () => {
    const frames: Array<[SpdyFrameInput, 'clientToServer' | 'serverToClient']> = [
      [syn(1, [['streamtype', 'error']]), 'clientToServer'],
      [syn(3, [['streamtype', 'bogus']]), 'clientToServer'],
      [data(1, ascii('not json'), true), 'serverToClient'],
    ];
    const evs = interpret('v4.channel.k8s.io', frames);
    expect(evs.filter((e) => e.kind === 'diagnostic').map((e) => e.kind === 'diagnostic' && e.error.code)).toEqual(['K8S_UNKNOWN_STREAM_TYPE', 'K8S_STATUS_NOT_JSON']);
    expect(evs.find((e) => e.kind === 'status')).toMatchObject({ status: { outcome: 'failure', message: 'not json' } });
    expect(() => interpret('v4.channel.k8s.io', frames, 'strict')).toThrow(KubewireError);
    // V2: plain-text errors.
    const v2 = interpret('v2.channel.k8s.io', [
      [syn(1, [['streamtype', 'error']]), 'clientToServer'],
      [data(1, ascii('command terminated with non-zero exit code: 1'), true), 'serverToClient'],
    ]);
    expect(v2.find((e) => e.kind === 'status')).toMatchObject({ status: { outcome: 'failure', message: 'command terminated with non-zero exit code: 1' } });
  });
});

describe('SPDY tunnel in WebSocket messages', () => {
  it('decodes the same SPDY frames for any split of the bytes across messages, empty ones included', () => {
    fc.assert(
      fc.property(
        spdyFrames({ maxFrames: 6 }).chain((frames) => {
          const enc = new SpdyFrameEncoder();
          const bytes = Buffer.concat(frames.map((f) => enc.encode(f)));
          return fc.tuple(fc.constant(new Uint8Array(bytes)), cutPoints(bytes.length, 40), fc.constantFrom<'client' | 'server'>('client', 'server'));
        }),
        ([bytes, cuts, role]) => {
          const reference = new SpdyFrameDecoder({ direction: 'clientToServer' }).push(bytes.slice());
          // One WebSocket message per piece (1-, 2-, 4-byte and empty ones appear), framed and decoded again.
          const tunnel = new TunnelEncoder({ role });
          const wire = Buffer.concat(splitAt(bytes, cuts).map((piece) => tunnel.bytes(piece.slice())));
          const direction = role === 'client' ? 'clientToServer' : 'serverToClient';
          const ws = new WebSocketFrameDecoder({ direction });
          const dec = new TunnelDecoder({ direction });
          const got = ws.push(wire).flatMap((f) => dec.pushFrame(f as WebSocketFrame));
          expect(dec.end()).toEqual([]);
          const strip = (v: unknown): unknown =>
            v instanceof Uint8Array
              ? Buffer.from(v).toString('hex')
              : Array.isArray(v)
                ? v.map(strip)
                : v !== null && typeof v === 'object'
                  ? Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'headerBlock' && k !== 'offset').map(([k, x]) => [k, strip(x)]))
                  : v;
          expect(strip(got)).toEqual(strip(reference));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('gorilla-style fragmentation (a non-final frame with everything, then an empty final continuation) decodes', () => {
    const spdy = new SpdyFrameEncoder();
    const bytes = Buffer.concat([
      spdy.encode({ kind: 'syn_reply', streamId: 1, fin: false, headers: [] }),
      spdy.encode({ kind: 'data', streamId: 3, fin: false, data: new Uint8Array(5000).fill(9) }),
    ]);
    const ws = new WebSocketFrameEncoder();
    const wire = Buffer.concat([ws.encode({ opcode: 2, payload: bytes, fin: false }), ws.encode({ opcode: 0, payload: new Uint8Array(0), fin: true }), ws.ping()]);
    const dec = new TunnelDecoder({ direction: 'serverToClient' });
    const got = new WebSocketFrameDecoder({ direction: 'serverToClient' }).push(wire).flatMap((f) => dec.pushFrame(f as WebSocketFrame));
    expect(got.map((e) => (e.kind === 'data' ? `data:${e.streamId}:${e.data.length}` : e.kind))).toEqual(['syn_reply', 'data:3:5000']);
  });

  it('a text message in the tunnel is an error; its bytes never reach SPDY', () => {
    const enc = new WebSocketFrameEncoder();
    const ws = new WebSocketFrameDecoder();
    const dec = new TunnelDecoder({ direction: 'serverToClient', mode: 'inspect' });
    const evs = ws.push(enc.text('hello')).flatMap((f) => dec.pushFrame(f as WebSocketFrame));
    expect(evs.map((e) => e.kind === 'diagnostic' && e.error.code)).toEqual(['K8S_TUNNEL_TEXT_MESSAGE']);
    expect(dec.spdy.offset).toBe(0);
    expect(() => new TunnelDecoder({ direction: 'serverToClient' }).pushFrame(new WebSocketFrameDecoder().push(enc.text('x'))[0] as WebSocketFrame)).toThrow(KubewireError);
  });
});

describe('SPDY stream roles inferred for a capture joined mid-session', () => {
  it('guesses stdin, resize, stdout, stderr and the status from direction and bytes, marked as inferred', () => {
    const it2 = new SpdyStreamInterpreter({ protocol: 'v4.channel.k8s.io', mode: 'inspect' });
    const frame = (streamId: number, bytes: Uint8Array, fin = false): SpdyFrame => ({ kind: 'data', streamId, fin, flags: fin ? 1 : 0, data: bytes });
    const evs = [
      ...it2.push(frame(3, ascii('ls\n')), 'clientToServer'),
      ...it2.push(frame(7, encodeResize({ width: 90, height: 20 })), 'clientToServer'),
      ...it2.push(frame(5, ascii('a.txt\n')), 'serverToClient'),
      ...it2.push(frame(9, ascii('oops\n')), 'serverToClient'),
      ...it2.push(frame(1, encodeExitCodeStatus(1), true), 'serverToClient'),
      // A SYN_STREAM whose header block could not be inflated: role from the data too.
      ...it2.push({ kind: 'syn_stream', streamId: 11, associatedStreamId: 0, priority: 0, slot: 0, fin: false, unidirectional: false, flags: 0, headers: null }, 'clientToServer'),
      ...it2.push(frame(11, ascii('more')), 'clientToServer'),
    ];
    const opened = evs.filter((e) => e.kind === 'stream-open').map((e) => e.kind === 'stream-open' && [e.streamId, e.role, e.inferred]);
    expect(opened).toEqual([
      [3, 'stdin', true],
      [7, 'resize', true],
      [5, 'stdout', true],
      [9, 'stderr', true],
      [1, 'error', true],
      [11, 'stdin', true],
    ]);
    expect(evs.find((e) => e.kind === 'resize')).toMatchObject({ width: 90, height: 20, inferred: true });
    expect(evs.find((e) => e.kind === 'status')).toMatchObject({ status: { outcome: 'exit', exitCode: 1 } });
  });
});

describe('SPDY stream state is dropped once a stream is closed both ways or reset', () => {
  it('forgets finished port-forward streams and does not guess a role for their late data', () => {
    const interp = new SpdyStreamInterpreter({ protocol: 'portforward.k8s.io', mode: 'inspect' });
    const enc = new SpdyFrameEncoder();
    const dec = new SpdyFrameDecoder();
    const feed = (f: SpdyFrameInput, dir: 'clientToServer' | 'serverToClient') => dec.push(enc.encode(f)).flatMap((ev) => interp.push(ev as SpdyFrame, dir));
    for (let i = 0; i < 200; i++) {
      const id = 2 * i + 1;
      feed(syn(id, portForwardStreamHeaders('data', 80, i)), 'clientToServer');
      feed(data(id, new Uint8Array(0), true), 'clientToServer');
      expect(interp.roleOf(id)).toBe('data');
      feed(data(id, new Uint8Array(0), true), 'serverToClient');
      expect(interp.roleOf(id)).toBeNull();
    }
    const late = feed(data(1, ascii('late')), 'serverToClient');
    expect(late.map((e) => e.kind === 'stream-data' && e.role)).toEqual([null]);
  });
});
