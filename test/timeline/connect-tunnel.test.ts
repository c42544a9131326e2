/**
 * Proxies' tunnels: an HTTP CONNECT (what `HTTPS_PROXY=http://…` makes of
 * every connection) answered 2xx, or a SOCKS5 handshake that succeeded
 * (`socks5://…`): the connection then carries a stream of its own, decoded
 * afresh; a refused CONNECT leaves HTTP going on. Real peers (kubectl, TLS inside) are in
 * test/cli/connect-tunnel.test.ts; these are the shapes a proxy can give.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OPCODE, WebSocketFrameEncoder, fixedMaskSource } from '../../src/websocket/index.js';
import { C, S, cat, decode, enc, rechunk, script, sha256, type Step } from './helpers.js';

const TARGET = 'api.example:6443';
const CONNECT = enc(`CONNECT ${TARGET} HTTP/1.1\r\nHost: ${TARGET}\r\n\r\n`);
const ESTABLISHED = enc('HTTP/1.1 200 Connection established\r\n\r\n');
const SUCCESS = '{"metadata":{},"status":"Success"}';

/** A plaintext WebSocket v4 exec, as it would run inside the tunnel. */
function execInside(): Step[] {
  const c = new WebSocketFrameEncoder({ role: 'client', maskSource: fixedMaskSource(0x01020304) });
  const s = new WebSocketFrameEncoder({ role: 'server' });
  return [
    { d: C, bytes: enc('GET /api/v1/namespaces/ns/pods/p/exec?command=cat&stdin=true&stdout=true HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n') },
    { d: S, bytes: enc('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n') },
    { d: C, bytes: c.encode({ opcode: OPCODE.BINARY, payload: cat(new Uint8Array([0]), enc('tunnelled\n')) }) },
    { d: S, bytes: s.encode({ opcode: OPCODE.BINARY, payload: cat(new Uint8Array([1]), enc('tunnelled\n')) }) },
    { d: S, bytes: s.encode({ opcode: OPCODE.BINARY, payload: cat(new Uint8Array([3]), enc(SUCCESS)) }) },
  ];
}

describe('CONNECT tunnels', () => {
  it('after a 200 the tunnel is decoded as a connection of its own: its requests and its session, no diagnostics', () => {
    const { decoder, events } = decode(script([{ d: C, bytes: CONNECT }, { d: S, bytes: ESTABLISHED }, ...execInside()]));
    const sum = decoder.summary();
    expect(decoder.diagnosticCount).toBe(0);
    expect(sum.requests.map((r) => [r.method, r.path, r.status, r.upgrade])).toEqual([
      ['CONNECT', TARGET, 200, null],
      ['GET', '/api/v1/namespaces/ns/pods/p/exec', 101, 'websocket'],
    ]);
    expect(sum.sessions).toHaveLength(1);
    expect(sum.sessions[0]).toMatchObject({ kind: 'exec', hop: 'client-apiserver', namespace: 'ns', pod: 'p', exit: { status: 'Success' } });
    expect(sum.sessions[0]!.streams.find((s) => s.role === 'stdout')!.serverToClient).toEqual({ bytes: 10, sha256: sha256('tunnelled\n') });
    // offsets inside the tunnel count from its first byte: the inner request starts at 0
    expect(events.find((e) => e.kind === 'http-request' && e.method === 'GET')).toMatchObject({ offset: 0 });
  });

  it('the client may send into the tunnel before the 200 (in the CONNECT’s own segment, too)', () => {
    const [first, ...rest] = execInside();
    const optimistic = decode(script([{ d: C, bytes: cat(CONNECT, first!.bytes) }, { d: S, bytes: ESTABLISHED }, ...rest])).decoder;
    expect(optimistic.diagnosticCount).toBe(0);
    expect(optimistic.summary().sessions).toHaveLength(1);
    expect(optimistic.summary().sessions[0]).toMatchObject({ kind: 'exec', exit: { status: 'Success' } });
  });

  it('a refused CONNECT (407 with a body) leaves HTTP going on: the retry with credentials opens the tunnel', () => {
    const body = 'proxy credentials required';
    const steps: Step[] = [
      { d: C, bytes: CONNECT },
      { d: S, bytes: enc(`HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="p"\r\nContent-Length: ${body.length}\r\n\r\n${body}`) },
      { d: C, bytes: enc(`CONNECT ${TARGET} HTTP/1.1\r\nHost: ${TARGET}\r\nProxy-Authorization: Basic dTpw\r\n\r\n`) },
      { d: S, bytes: ESTABLISHED },
      ...execInside(),
    ];
    const { decoder, events } = decode(script(steps));
    expect(decoder.diagnosticCount).toBe(0);
    expect(decoder.summary().requests.map((r) => [r.method, r.status])).toEqual([
      ['CONNECT', 407],
      ['CONNECT', 200],
      ['GET', 101],
    ]);
    expect(decoder.summary().sessions).toHaveLength(1);
    // the proxy's credentials are a secret like any other
    expect(JSON.stringify(events.filter((e) => e.kind === 'http-request'))).not.toContain('dTpw');
  });

  it('bytes after a refused CONNECT are HTTP again, not a tunnel', () => {
    const steps: Step[] = [
      { d: C, bytes: CONNECT },
      { d: S, bytes: enc('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n') },
      { d: C, bytes: enc('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n') },
      { d: S, bytes: enc('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok') },
    ];
    const { decoder } = decode(script(steps));
    expect(decoder.diagnosticCount).toBe(0);
    expect(decoder.summary().requests.map((r) => [r.method, r.path, r.status])).toEqual([
      ['CONNECT', TARGET, 403],
      ['GET', '/healthz', 200],
    ]);
  });

  it('any chunking gives the same summary', () => {
    const steps: Step[] = [{ d: C, bytes: CONNECT }, { d: S, bytes: ESTABLISHED }, ...execInside()];
    const whole = decode(script(steps)).decoder.summary();
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 6 }), (cuts) => {
        const got = decode(rechunk(script(steps), (len) => cuts.map((x) => x % len))).decoder.summary();
        expect(got).toEqual(whole);
      }),
      { numRuns: 60 },
    );
  });

  const socksHello = { client: new Uint8Array([5, 1, 0, 5, 1, 0, 3, 11, ...enc('api.example'), 0x19, 0x2b]), server: new Uint8Array([5, 0, 5, 0, 0, 1, 127, 0, 0, 1, 0x1f, 0x90]) };

  it('a SOCKS5 CONNECT that succeeded: the tunnel after it is decoded, named by its target, with no diagnostics', () => {
    const steps: Step[] = [{ d: C, bytes: socksHello.client.subarray(0, 3) }, { d: S, bytes: socksHello.server.subarray(0, 2) }, { d: C, bytes: socksHello.client.subarray(3) }, { d: S, bytes: socksHello.server.subarray(2) }, ...execInside()];
    const { decoder, events } = decode(script(steps));
    expect(decoder.diagnosticCount).toBe(0);
    expect(events.filter((e) => e.kind === 'connection-classified').map((e) => e.kind === 'connection-classified' && e.protocol)).toEqual(['socks5', 'http']);
    const sum = decoder.summary();
    expect(sum.requests.map((r) => [r.method, r.status])).toEqual([['GET', 101]]);
    expect(sum.sessions[0]).toMatchObject({ kind: 'exec', pod: 'p', exit: { status: 'Success' } });
    // any chunking, the handshake and the tunnel's first bytes in one segment included
    const merged: Step[] = [{ d: C, bytes: socksHello.client.subarray(0, 3) }, { d: S, bytes: socksHello.server.subarray(0, 2) }, { d: C, bytes: cat(socksHello.client.subarray(3), execInside()[0]!.bytes) }, { d: S, bytes: socksHello.server.subarray(2) }, ...execInside().slice(1)];
    expect(decode(script(merged)).decoder.summary().sessions[0]).toMatchObject({ kind: 'exec', pod: 'p', exit: { status: 'Success' } });
    for (const st of [steps, merged]) {
      const whole = decode(script(st)).decoder.summary();
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 6 }), (cuts) => {
          expect(decode(rechunk(script(st), (len) => cuts.map((x) => x % len))).decoder.summary()).toEqual(whole);
        }),
        { numRuns: 40 },
      );
    }
  });

  it('a SOCKS5 proxy that refuses: the connection is named, nothing after it is decoded or blamed', () => {
    const refused = new Uint8Array([5, 5, 0, 1, 0, 0, 0, 0, 0, 0]);
    const { decoder, events } = decode(script([{ d: C, bytes: socksHello.client.subarray(0, 3) }, { d: S, bytes: socksHello.server.subarray(0, 2) }, { d: C, bytes: socksHello.client.subarray(3) }, { d: S, bytes: refused }]));
    expect(decoder.diagnosticCount).toBe(0);
    expect(events.some((e) => e.kind === 'connection-classified' && e.protocol === 'socks5')).toBe(true);
    expect(decoder.summary().sessions).toEqual([]);
  });
});
