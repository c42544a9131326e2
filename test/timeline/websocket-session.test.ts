import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { WebSocketFrameEncoder, fixedMaskSource, OPCODE } from '../../src/websocket/index.js';
import { SpdyFrameEncoder } from '../../src/spdy/index.js';
import { C, S, decode, enc, rechunk, script, sha256, cat, type Step } from './helpers.js';

const SUCCESS = '{"metadata":{},"status":"Success"}';

function wsPair() {
  return { c: new WebSocketFrameEncoder({ role: 'client', maskSource: fixedMaskSource(0x11223344) }), s: new WebSocketFrameEncoder({ role: 'server' }) };
}

function closePayload(code: number): Uint8Array {
  return new Uint8Array([code >> 8, code & 0xff]);
}

/** kubectl 1.33 exec -i over WebSocket v5, stdin EOF by close signal, Success. */
export function wsExec(): Step[] {
  const { c, s } = wsPair();
  const bin = (ch: number, p: Uint8Array | string) => cat(new Uint8Array([ch]), typeof p === 'string' ? enc(p) : p);
  return [
    {
      d: C,
      bytes: enc(
        'GET /api/v1/namespaces/ns1/pods/p1/exec?command=cat&container=c1&stdin=true&stdout=true&stderr=true HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n',
      ),
    },
    {
      d: S,
      bytes: cat(
        enc('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n'),
        s.encode({ opcode: OPCODE.BINARY, payload: new Uint8Array([1]) }),
      ),
    },
    { d: C, bytes: c.encode({ opcode: OPCODE.BINARY, payload: bin(0, 'hello\n') }) },
    { d: C, bytes: c.encode({ opcode: OPCODE.PING }) },
    { d: S, bytes: s.encode({ opcode: OPCODE.PONG }) },
    { d: S, bytes: s.encode({ opcode: OPCODE.BINARY, payload: bin(1, 'hello\n') }) },
    { d: S, bytes: s.encode({ opcode: OPCODE.BINARY, payload: bin(2, 'warn\n') }) },
    { d: C, bytes: c.encode({ opcode: OPCODE.BINARY, payload: new Uint8Array([255, 0]) }) },
    { d: S, bytes: s.encode({ opcode: OPCODE.BINARY, payload: bin(3, SUCCESS) }) },
    { d: S, bytes: s.encode({ opcode: OPCODE.CLOSE, payload: closePayload(1000) }) },
    { d: C, bytes: c.encode({ opcode: OPCODE.CLOSE, payload: closePayload(1000) }) },
  ];
}

describe('WebSocket exec session', () => {
  it('decodes channels, the v5 close signal and the status', () => {
    const { decoder, events } = decode(script(wsExec()));
    const s = decoder.summary().sessions[0]!;
    expect(s).toMatchObject({
      kind: 'exec',
      transport: 'websocket',
      protocol: 'v5.channel.k8s.io',
      namespace: 'ns1',
      pod: 'p1',
      container: 'c1',
      command: ['cat'],
      stdinClosed: true,
      exit: { status: 'Success', code: 0 },
      websocketClose: { direction: S, code: 1000 },
      pings: { clientToServer: 1, serverToClient: 1 },
    });
    const byRole = Object.fromEntries(s.streams.map((x) => [x.role, x]));
    expect(byRole.stdin!.clientToServer).toEqual({ bytes: 6, sha256: sha256('hello\n') });
    expect(byRole.stdout!.serverToClient).toEqual({ bytes: 6, sha256: sha256('hello\n') });
    expect(byRole.stderr!.serverToClient).toEqual({ bytes: 5, sha256: sha256('warn\n') });
    expect(byRole.error!.serverToClient.sha256).toBe(sha256(SUCCESS));
    expect(s.streams.map((x) => x.id)).toEqual([0, 1, 2, 3]);
    expect(decoder.diagnosticCount).toBe(0);
    expect(JSON.stringify(events)).not.toContain('dGhlIHNhbXBsZSBub25jZQ==');
  });

  it('decodes base64 channel protocols and strips nothing else', () => {
    const { c, s } = wsPair();
    const steps: Step[] = [
      { d: C, bytes: enc('GET /exec/ns/pod/ctr?command=sh&input=1&output=1 HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Protocol: v4.base64.channel.k8s.io\r\n\r\n') },
      { d: S, bytes: enc('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: v4.base64.channel.k8s.io\r\n\r\n') },
      { d: C, bytes: c.encode({ opcode: OPCODE.TEXT, payload: enc('0Zm9vCg==') }) },
      { d: S, bytes: s.encode({ opcode: OPCODE.TEXT, payload: enc('1' + Buffer.from('bar\n').toString('base64')) }) },
      { d: S, bytes: s.encode({ opcode: OPCODE.TEXT, payload: enc('3' + Buffer.from(SUCCESS).toString('base64')) }) },
    ];
    const sum = decode(script(steps)).decoder.summary().sessions[0]!;
    expect(sum).toMatchObject({ hop: 'apiserver-kubelet', namespace: 'ns', pod: 'pod', container: 'ctr', stdin: true, exit: { status: 'Success' } });
    const byRole = Object.fromEntries(sum.streams.map((x) => [x.role, x]));
    expect(byRole.stdin!.clientToServer).toEqual({ bytes: 4, sha256: sha256('foo\n') });
    expect(byRole.stdout!.serverToClient).toEqual({ bytes: 4, sha256: sha256('bar\n') });
  });

  it("names an exec through the API server's nodes/{node}/proxy as the client hop, with the kubelet URL's target", () => {
    // the path a WebSocket client takes with only `get` on nodes/proxy: the API server hands it to the kubelet as it is
    const { s } = wsPair();
    const steps: Step[] = [
      { d: C, bytes: enc('GET /api/v1/nodes/node-1/proxy/exec/ns/pod/ctr?command=id&output=1 HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n') },
      { d: S, bytes: enc('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n') },
      { d: S, bytes: s.encode({ opcode: OPCODE.BINARY, payload: cat(new Uint8Array([1]), enc('uid=0(root)\n')) }) },
      { d: S, bytes: s.encode({ opcode: OPCODE.BINARY, payload: cat(new Uint8Array([3]), enc(SUCCESS)) }) },
    ];
    const { decoder, events } = decode(script(steps));
    const sum = decoder.summary().sessions[0]!;
    expect(sum).toMatchObject({ kind: 'exec', hop: 'client-apiserver', nodeProxy: 'node-1', namespace: 'ns', pod: 'pod', container: 'ctr', command: ['id'], stdout: true, stdin: false, exit: { status: 'Success' } });
    expect(events.find((e) => e.kind === 'session-start')).toMatchObject({ hop: 'client-apiserver', nodeProxy: 'node-1' });
    expect(decoder.diagnosticCount).toBe(0);
  });

  it('decodes native WebSocket port-forward: channel pairs, port prefix stripped', () => {
    const { c, s } = wsPair();
    const port = new Uint8Array([0x90, 0x1f]); // 8080 little-endian
    const steps: Step[] = [
      { d: C, bytes: enc('GET /api/v1/namespaces/default/pods/web/portforward?ports=8080 HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n') },
      { d: S, bytes: enc('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n') },
      { d: S, bytes: cat(s.encode({ opcode: OPCODE.BINARY, payload: cat(new Uint8Array([0]), port) }), s.encode({ opcode: OPCODE.BINARY, payload: cat(new Uint8Array([1]), port) })) },
      { d: C, bytes: c.encode({ opcode: OPCODE.BINARY, payload: cat(new Uint8Array([0]), enc('GET / HTTP/1.0\r\n\r\n')) }) },
      { d: S, bytes: s.encode({ opcode: OPCODE.BINARY, payload: cat(new Uint8Array([0]), enc('HTTP/1.0 200 OK\r\n\r\nhi')) }) },
    ];
    const sum = decode(script(steps)).decoder.summary().sessions[0]!;
    expect(sum.kind).toBe('portforward');
    expect(sum.streams).toMatchObject([
      { id: 0, role: 'data', port: 8080, clientToServer: { bytes: 18 }, serverToClient: { bytes: 21, sha256: sha256('HTTP/1.0 200 OK\r\n\r\nhi') } },
      { id: 1, role: 'error', port: 8080, serverToClient: { bytes: 0 } },
    ]);
  });

  it('gives the same summary for any TCP chunking', () => {
    const steps = wsExec();
    const whole = decode(script(steps)).decoder.summary();
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 6 }), (cuts) => {
        const got = decode(rechunk(script(steps), (len) => cuts.map((x) => x % len))).decoder.summary();
        expect(got).toEqual(whole);
      }),
      { numRuns: 60 },
    );
  });

  it('joins a WebSocket session mid-way and swaps client and server when masking says so', () => {
    const steps = wsExec().slice(2);
    // the TCP layer guessed the wrong way round: what the client sent arrives labelled server→client
    const flipped = steps.map((x) => ({ d: x.d === C ? S : C, bytes: x.bytes }));
    const { decoder, events } = decode(script(flipped, { startedLate: true, client: { address: '127.0.0.1', port: 6443 }, server: { address: '127.0.0.1', port: 54321 } }));
    expect(events.some((e) => e.kind === 'connection-swap')).toBe(true);
    const s = decoder.summary().sessions[0]!;
    expect(s).toMatchObject({ transport: 'websocket', inferred: true, client: '127.0.0.1:54321', server: '127.0.0.1:6443', exit: { status: 'Success' } });
    const byRole = Object.fromEntries(s.streams.map((x) => [x.role, x]));
    expect(byRole.stdin!.clientToServer.sha256).toBe(sha256('hello\n'));
    expect(byRole.stdout!.serverToClient.sha256).toBe(sha256('hello\n'));
  });
});

/** kubectl 1.31+ port-forward: SPDY inside WebSocket, each SPDY write its own small message. */
export function tunnelPortForward(): Step[] {
  const { c, s } = wsPair();
  const sc = new SpdyFrameEncoder();
  const ss = new SpdyFrameEncoder();
  const steps: Step[] = [
    { d: C, bytes: enc('GET /api/v1/namespaces/default/pods/web/portforward HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: a2V5\r\nSec-WebSocket-Protocol: SPDY/3.1+portforward.k8s.io\r\n\r\n') },
    { d: S, bytes: enc('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: SPDY/3.1+portforward.k8s.io\r\n\r\n') },
  ];
  // client SPDY bytes cut into 1-, 2- and 4-byte messages
  const clientSpdy = cat(
    sc.encode({ kind: 'syn_stream', streamId: 1, headers: [['streamtype', 'error'], ['port', '8080'], ['requestid', '0']] }),
    sc.encode({ kind: 'data', streamId: 1, data: new Uint8Array(0), fin: true }),
    sc.encode({ kind: 'syn_stream', streamId: 3, headers: [['streamtype', 'data'], ['port', '8080'], ['requestid', '0']] }),
    sc.encode({ kind: 'data', streamId: 3, data: enc('GET / HTTP/1.1\r\n\r\n') }),
  );
  const sizes = [2, 2, 4, 4, 4, 1, 1];
  let o = 0;
  let k = 0;
  while (o < clientSpdy.length) {
    const n = Math.min(sizes[k++ % sizes.length]!, clientSpdy.length - o);
    steps.push({ d: C, bytes: c.encode({ opcode: OPCODE.BINARY, payload: clientSpdy.subarray(o, o + n) }) });
    o += n;
  }
  const serverSpdy = cat(
    ss.encode({ kind: 'syn_reply', streamId: 1, headers: [] }),
    ss.encode({ kind: 'syn_reply', streamId: 3, headers: [] }),
    ss.encode({ kind: 'data', streamId: 3, data: enc('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok') }),
    ss.encode({ kind: 'data', streamId: 3, data: new Uint8Array(0), fin: true }),
  );
  steps.push({ d: S, bytes: s.encode({ opcode: OPCODE.BINARY, payload: serverSpdy.subarray(0, 20) }) });
  steps.push({ d: S, bytes: s.encode({ opcode: OPCODE.BINARY, payload: serverSpdy.subarray(20) }) });
  steps.push({ d: C, bytes: c.encode({ opcode: OPCODE.BINARY, payload: sc.encode({ kind: 'goaway', lastGoodStreamId: 0, status: 0 }) }) });
  steps.push({ d: C, bytes: c.encode({ opcode: OPCODE.CLOSE, payload: closePayload(1000) }) });
  return steps;
}

describe('SPDY tunnelled in WebSocket', () => {
  it('decodes the inner SPDY session with ports and request ids', () => {
    const { decoder } = decode(script(tunnelPortForward()));
    const s = decoder.summary().sessions[0]!;
    expect(s).toMatchObject({ kind: 'portforward', transport: 'websocket+spdy/3.1', protocol: 'SPDY/3.1+portforward.k8s.io', exit: null });
    expect(s.streams).toMatchObject([
      { id: 1, role: 'error', port: 8080, requestId: '0', halfClosed: { clientToServer: true } },
      { id: 3, role: 'data', port: 8080, requestId: '0', clientToServer: { bytes: 18, sha256: sha256('GET / HTTP/1.1\r\n\r\n') }, serverToClient: { sha256: sha256('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok') } },
    ]);
    expect(s.goaway).toEqual([{ direction: C, lastGoodStreamId: 0, status: 0 }]);
    expect(decoder.diagnosticCount).toBe(0);
  });
});

describe('SPDY tunnel joined mid-session', () => {
  it('recognises SPDY inside WebSocket messages and still decodes DATA', () => {
    const steps = tunnelPortForward().slice(2 + 10); // no HTTP, and the first SYN_STREAM partly lost
    const { decoder } = decode(script(steps, { startedLate: true }));
    const s = decoder.summary().sessions[0]!;
    expect(s).toMatchObject({ transport: 'websocket+spdy/3.1', kind: 'portforward', inferred: true });
    const data = s.streams.find((x) => x.id === 3)!;
    expect(data).toMatchObject({ role: 'data', inferred: true, clientToServer: { sha256: sha256('GET / HTTP/1.1\r\n\r\n') }, serverToClient: { sha256: sha256('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok') } });
  });
});
