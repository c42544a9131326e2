/**
 * Traffic that is not Kubernetes is shown as what it is: a WebSocket
 * session of other software as its messages (never as channels, never with
 * K8S_* diagnostics), a subprotocol-less one decided by its URL and its
 * first messages, a raw upgrade (Docker's `Upgrade: tcp`) as its bytes.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { WebSocketFrameEncoder, fixedMaskSource, OPCODE } from '../../src/websocket/index.js';
import { C, S, cat, decode, enc, rechunk, script, type Step } from './helpers.js';
import { websocketApplication } from '../../src/timeline/websocket-application.js';
import { requestInfo } from '../../src/timeline/request-info.js';
import type { TimelineEvent } from '../../src/timeline/index.js';

const ACCEPT = 'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n';

function wsPair() {
  return { c: new WebSocketFrameEncoder({ role: 'client', maskSource: fixedMaskSource(0x0badf00d) }), s: new WebSocketFrameEncoder({ role: 'server' }) };
}

function handshake(path: string, protocol: string | null): Step[] {
  const proto = protocol === null ? '' : `Sec-WebSocket-Protocol: ${protocol}\r\n`;
  return [
    { d: C, bytes: enc(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${proto}\r\n`) },
    { d: S, bytes: enc(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${ACCEPT}${proto}\r\n`) },
  ];
}

/** A JSON-over-WebSocket chat: text both ways, a fragmented binary reply, ping/pong, close. */
function chat(path = '/socket', protocol: string | null = 'chat.v2'): Step[] {
  const { c, s } = wsPair();
  return [
    ...handshake(path, protocol),
    { d: C, bytes: c.encode({ opcode: OPCODE.TEXT, payload: enc('{"op":"hello","who":"\u00e9\u001b[2J"}') }) },
    { d: S, bytes: s.encode({ opcode: OPCODE.TEXT, payload: enc('{"op":"welcome"}') }) },
    { d: S, bytes: cat(s.encode({ opcode: OPCODE.BINARY, fin: false, payload: new Uint8Array([9, 8, 7]) }), s.encode({ opcode: OPCODE.CONTINUATION, payload: new Uint8Array([6, 5]) })) },
    { d: C, bytes: c.encode({ opcode: OPCODE.PING, payload: enc('p') }) },
    { d: S, bytes: s.encode({ opcode: OPCODE.PONG, payload: enc('p') }) },
    { d: C, bytes: c.encode({ opcode: OPCODE.CLOSE, payload: new Uint8Array([0x03, 0xe9]) }) },
    { d: S, bytes: s.encode({ opcode: OPCODE.CLOSE, payload: new Uint8Array([0x03, 0xe9]) }) },
  ];
}

/** Kubernetes channel messages (V1 binary: channel byte first) on a URL that does not say exec. */
function channels(path: string): Step[] {
  const { c, s } = wsPair();
  const msg = (ch: number, text: string) => cat(new Uint8Array([ch]), enc(text));
  return [
    ...handshake(path, null),
    { d: S, bytes: cat(s.encode({ opcode: OPCODE.BINARY, payload: new Uint8Array([1]) }), s.encode({ opcode: OPCODE.BINARY, payload: new Uint8Array([2]) })) },
    { d: C, bytes: c.encode({ opcode: OPCODE.BINARY, payload: msg(0, 'ls\n') }) },
    { d: S, bytes: s.encode({ opcode: OPCODE.BINARY, payload: msg(1, 'file\n') }) },
    { d: S, bytes: s.encode({ opcode: OPCODE.CLOSE, payload: new Uint8Array([0x03, 0xe8]) }) },
  ];
}

describe('a WebSocket session of other software', () => {
  it('is shown as its messages, pings and close, with no Kubernetes reading', () => {
    const { decoder, events } = decode(script(chat()));
    expect(decoder.diagnosticCount).toBe(0);
    const s = decoder.summary().sessions[0]!;
    expect(s).toMatchObject({
      kind: 'unknown',
      transport: 'websocket',
      protocol: 'chat.v2',
      application: 'websocket',
      streams: [],
      exit: null,
      end: 'websocket-close',
      pings: { clientToServer: 1, serverToClient: 1 },
      websocketClose: { direction: 'clientToServer', code: 1001, reason: '' },
      messages: {
        clientToServer: { text: 1, binary: 0, frames: 1, bytes: 29 },
        serverToClient: { text: 1, binary: 1, frames: 3, bytes: 21 },
      },
    });
    const msgs = events.flatMap((e) => (e.kind === 'websocket-message' ? [{ d: e.direction, type: e.type, length: e.length, frames: e.frames, text: e.text, head: e.head }] : []));
    expect(msgs).toEqual([
      { d: C, type: 'text', length: 29, frames: 1, text: '{"op":"hello","who":"\u00e9\u001b[2J"}', head: null },
      { d: S, type: 'text', length: 16, frames: 1, text: '{"op":"welcome"}', head: null },
      { d: S, type: 'binary', length: 5, frames: 2, text: null, head: '0908070605' },
    ]);
    expect(events.filter((e) => e.kind === 'websocket-close').length).toBe(2);
    expect(events.filter((e) => e.kind === 'stream-open' || e.kind === 'stream-data' || e.kind === 'exit')).toEqual([]);
    const start = events.find((e) => e.kind === 'session-start');
    expect(start).toMatchObject({ application: 'websocket', sessionKind: 'unknown', hop: 'unknown' });
  });

  it('is the same whatever the TCP chunking', () => {
    const whole = decode(script(chat())).decoder.summary();
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }), (cuts) => {
        const ev = rechunk(script(chat()), (len) => {
          const out: number[] = [];
          let at = 0;
          for (let i = 0; at < len; i++) {
            at += cuts[i % cuts.length]!;
            if (at < len) out.push(at);
          }
          return out;
        });
        expect(decode(ev).decoder.summary()).toEqual(whole);
      }),
      { numRuns: 50 },
    );
  });

  it('never gets a Kubernetes diagnostic, whatever its messages (property)', () => {
    const { c, s } = wsPair();
    const frame = fc.record({
      d: fc.constantFrom(C, S),
      opcode: fc.constantFrom(OPCODE.TEXT, OPCODE.BINARY, OPCODE.PING, OPCODE.PONG),
      payload: fc.uint8Array({ maxLength: 40 }),
    });
    fc.assert(
      fc.property(fc.array(frame, { maxLength: 20 }), fc.constantFrom('chat.v2', 'sip', 'v1', null), (frames, protocol) => {
        const steps: Step[] = [...handshake('/ws', protocol)];
        // without a subprotocol, messages that all look like channel messages are Kubernetes
        // (and may then get its diagnostics): one that does not makes the session plain
        if (protocol === null) steps.push({ d: C, bytes: c.encode({ opcode: OPCODE.TEXT, payload: enc('{"hello":1}') }) });
        for (const f of frames) {
          // text frames must be UTF-8; control frames at most 125 bytes
          const payload = f.opcode === OPCODE.TEXT ? enc(Buffer.from(f.payload).toString('latin1')) : f.payload;
          steps.push({ d: f.d, bytes: (f.d === C ? c : s).encode({ opcode: f.opcode, payload }) });
        }
        const { events } = decode(script(steps));
        const codes = events.flatMap((e) => (e.kind === 'diagnostic' ? [e.error.code] : []));
        expect(codes.filter((x) => x.startsWith('K8S_') || x.startsWith('TIMELINE_'))).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });

  it('shows text with the control characters escaped in the timeline', async () => {
    const { formatTimelineEvent } = await import('../../src/cli/output/timeline.js');
    const { createChalk } = await import('../../src/cli/output/style.js');
    const { events } = decode(script(chat()));
    const line = formatTimelineEvent(events.find((e) => e.kind === 'websocket-message')!, createChalk(false));
    expect(line).toContain('ws text message 29 B "{"op":"hello","who":"\u00e9\\x1b[2J"}"');
    expect(line).not.toContain('\u001b');
  });
});

describe('a WebSocket session without a subprotocol', () => {
  it('is Kubernetes when its URL is an exec, attach or port-forward path, even behind a proxy prefix', () => {
    const app = (path: string) => websocketApplication(null, [], path, requestInfo(path, ''));
    expect(app('/exec/ns/pod/container')).toBe('kubernetes');
    expect(app('/api/v1/namespaces/ns/pods/p/attach')).toBe('kubernetes');
    expect(app('/k8s/clusters/c-1/api/v1/namespaces/ns/pods/p/exec')).toBe('kubernetes');
    expect(app('/v1/events')).toBe('by-messages');
    expect(websocketApplication('v4.channel.k8s.io', [], '/anything', requestInfo('/anything', ''))).toBe('kubernetes');
    expect(websocketApplication('SPDY/3.1+portforward.k8s.io', [], '/x', requestInfo('/x', ''))).toBe('kubernetes');
    expect(websocketApplication('v1', [], '/exec/ns/pod/c', requestInfo('/exec/ns/pod/c', ''))).toBe('websocket');
    expect(websocketApplication(null, ['v5.channel.k8s.io'], '/x', requestInfo('/x', ''))).toBe('kubernetes');
  });

  it('elsewhere, is Kubernetes when its messages are channel messages', () => {
    const { decoder, events } = decode(script(channels('/some/proxy')));
    const s = decoder.summary().sessions[0]!;
    expect(s.application).toBe('kubernetes');
    expect(s.streams.map((x) => [x.id, x.role, x.clientToServer.bytes, x.serverToClient.bytes])).toEqual([
      [0, 'stdin', 3, 0],
      [1, 'stdout', 0, 5],
      [2, 'stderr', 0, 0],
    ]);
    expect(events.filter((e) => e.kind === 'session-start').length).toBe(1);
    expect(decoder.diagnosticCount).toBe(0);
  });

  it('elsewhere, is plain WebSocket when its messages are not channel messages', () => {
    const { decoder, events } = decode(script(chat('/socket', null)));
    expect(decoder.summary().sessions[0]!.application).toBe('websocket');
    expect(decoder.diagnosticCount).toBe(0);
    expect(events.filter((e) => e.kind === 'session-start').length).toBe(1);
    expect(events.filter((e) => e.kind === 'websocket-message').length).toBe(3);
  });

  it('keeps the Kubernetes reading on an exec URL', () => {
    const { decoder } = decode(script(channels('/exec/ns/pod/c')));
    const s = decoder.summary().sessions[0]!;
    expect(s).toMatchObject({ application: 'kubernetes', kind: 'exec', hop: 'apiserver-kubelet' });
  });
});

describe('a wrong Sec-WebSocket-Accept', () => {
  const wrong = (protocol: string | null) => ({
    d: S,
    bytes: enc(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=-wrong\r\n${protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : ''}\r\n`),
  });
  const codes = (events: TimelineEvent[], kind: 'diagnostic' | 'note') => events.flatMap((e) => (e.kind === kind ? [e.error.code] : []));

  it('in software that is not Kubernetes is a note about that software, not a diagnostic', () => {
    const steps = chat();
    steps[1] = wrong('chat.v2');
    const { decoder, events } = decode(script(steps));
    expect(codes(events, 'note')).toEqual(['TIMELINE_WEBSOCKET_BAD_ACCEPT']);
    expect(codes(events, 'diagnostic')).toEqual([]);
    expect(decoder.diagnosticCount).toBe(0);
    expect(decoder.summary().sessions[0]).toMatchObject({ application: 'websocket', notes: 1, diagnostics: 0 });
  });

  it('decided by the messages (no subprotocol, a URL that says nothing): a note once they show other software', () => {
    const steps = chat('/socket', null);
    steps[1] = wrong(null);
    const { decoder, events } = decode(script(steps));
    expect(codes(events, 'note')).toEqual(['TIMELINE_WEBSOCKET_BAD_ACCEPT']);
    expect(decoder.diagnosticCount).toBe(0);
    // said after the session-start of the interpreter chosen
    const start = events.findIndex((e) => e.kind === 'session-start');
    expect(events.findIndex((e) => e.kind === 'note')).toBeGreaterThan(start);
  });

  it('in a Kubernetes session is a diagnostic: kubectl fails that connection', () => {
    const steps = channels('/exec/ns/pod/c');
    steps[1] = wrong(null);
    const { decoder, events } = decode(script(steps));
    expect(codes(events, 'diagnostic')).toEqual(['TIMELINE_WEBSOCKET_BAD_ACCEPT']);
    expect(codes(events, 'note')).toEqual([]);
    expect(decoder.summary().sessions[0]).toMatchObject({ application: 'kubernetes', notes: 0, diagnostics: 1 });
  });
});

describe('an unmasked client frame', () => {
  const unmasked = (steps: Step[]) => {
    const plain = new WebSocketFrameEncoder({ role: 'server' });
    return [...steps.slice(0, 2), { d: C, bytes: plain.encode({ opcode: OPCODE.BINARY, payload: cat(new Uint8Array([0]), enc('ls\n')) }) }, ...steps.slice(2)];
  };

  it('from software that is not Kubernetes (wstunnel does this) is a note', () => {
    const { decoder, events } = decode(script(unmasked(chat())));
    expect(events.flatMap((e) => (e.kind === 'note' ? [e.error.code] : []))).toEqual(['WEBSOCKET_UNMASKED_CLIENT_FRAME']);
    expect(decoder.diagnosticCount).toBe(0);
  });

  it('from a Kubernetes client is a diagnostic', () => {
    const { decoder, events } = decode(script(unmasked(channels('/exec/ns/pod/c'))));
    expect(events.flatMap((e) => (e.kind === 'diagnostic' ? [e.error.code] : []))).toEqual(['WEBSOCKET_UNMASKED_CLIENT_FRAME']);
    expect(decoder.diagnosticCount).toBe(1);
  });
});

describe('a raw upgrade', () => {
  const steps: Step[] = [
    { d: C, bytes: enc('POST /v1.41/containers/abc/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\nHost: api\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n') },
    { d: S, bytes: enc('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n/ # ') },
    { d: C, bytes: enc('ls\r') },
    { d: S, bytes: enc('ls\r\nbin  etc\r\n/ # ') },
  ];

  it('is named as such, and its bytes are one data stream', () => {
    const { decoder, events } = decode(script(steps));
    expect(decoder.diagnosticCount).toBe(0);
    const s = decoder.summary().sessions[0]!;
    expect(s).toMatchObject({ application: 'raw', transport: 'raw', protocol: 'tcp', kind: 'unknown', messages: null, end: 'tcp-fin' });
    expect(s.streams.map((x) => [x.id, x.role, x.clientToServer.bytes, x.serverToClient.bytes])).toEqual([[0, "data", 3, 22]]);
    const data = events.flatMap((e) => (e.kind === 'stream-data' ? [Buffer.from(e.bytes).toString('latin1')] : []));
    expect(data.join('')).toBe('/ # ls\rls\r\nbin  etc\r\n/ # ');
  });

  it('is not made of an h2c upgrade, which is HTTP/2', () => {
    const { decoder } = decode(
      script([
        { d: C, bytes: enc('GET / HTTP/1.1\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n') },
        { d: S, bytes: enc('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n') },
      ]),
    );
    expect(decoder.summary().sessions).toEqual([]);
  });
});
