/**
 * Our client side (handshake helpers, masked encoder, stream decoder) against
 * a real `ws` server over loopback.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import {
  WebSocketFrameEncoder,
  WebSocketStreamDecoder,
  buildUpgradeRequest,
  checkUpgradeResponse,
  generateKey,
  OPCODE,
  type WebSocketStreamEvent,
} from '../../src/websocket/index.js';

let wss: WebSocketServer | null = null;
let sock: Socket | null = null;
afterEach(async () => {
  sock?.destroy();
  await new Promise<void>((r) => (wss ? wss.close(() => r()) : r()));
  wss = null;
});

describe('our client against a ws server over loopback', () => {
  it('handshakes with a sub-protocol, echoes fragmented and large messages, answers pings, closes cleanly', async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, handleProtocols: (protocols) => [...protocols][1] ?? false });
    wss.on('connection', (ws) => {
      ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
    });
    await new Promise<void>((r) => wss!.once('listening', () => r()));
    const port = (wss.address() as { port: number }).port;
    const key = generateKey();
    const offered = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
    const events: WebSocketStreamEvent[] = [];
    let head = Buffer.alloc(0);
    let upgraded: ReturnType<typeof checkUpgradeResponse> | null = null;
    const decoder = new WebSocketStreamDecoder({ direction: 'serverToClient' });
    const enc = new WebSocketFrameEncoder({ role: 'client' });
    const done = new Promise<void>((resolve, reject) => {
      sock = connect(port, '127.0.0.1', () => {
        sock!.write(buildUpgradeRequest({ path: '/exec', host: `127.0.0.1:${port}`, key, protocols: offered }));
      });
      sock.on('error', reject);
      sock.on('close', () => resolve());
      sock.on('data', (d: Buffer) => {
        if (upgraded === null) {
          head = Buffer.concat([head, d]);
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) return;
          const lines = head.subarray(0, end).toString('latin1').split('\r\n');
          const status = Number(lines[0]!.split(' ')[1]);
          const raw = lines.slice(1).flatMap((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]);
          upgraded = checkUpgradeResponse(status, raw, { key, offered });
          if (!upgraded.ok) return reject(new Error(upgraded.reason));
          const big = new Uint8Array(70000).map((_, i) => i * 3);
          sock!.write(enc.binary([new Uint8Array([1]), big]));
          sock!.write(enc.encode({ opcode: OPCODE.TEXT, payload: new TextEncoder().encode('Hel'), fin: false }));
          sock!.write(enc.ping(new Uint8Array([7, 7])));
          sock!.write(enc.encode({ opcode: OPCODE.CONTINUATION, payload: new TextEncoder().encode('lo'), fin: true }));
          d = head.subarray(end + 4);
        }
        for (const ev of decoder.push(d)) {
          events.push(ev.kind === 'message' ? { ...ev, data: ev.data.slice() } : ev);
          if (ev.kind === 'message' && ev.type === 'text') sock!.write(enc.close(1000, 'bye'));
          if (ev.kind === 'close') sock!.end();
        }
      });
    });
    await done;
    expect(upgraded).toEqual({ ok: true, protocol: 'v4.channel.k8s.io' });
    const brief = events.map((e) =>
      e.kind === 'message'
        ? `message:${e.type}:${e.data.length}:${e.type === 'text' ? new TextDecoder().decode(e.data) : e.data[0]}`
        : e.kind === 'close'
          ? `close:${e.code}:${e.reason}`
          : e.kind === 'diagnostic'
            ? e.error.code
            : `${e.kind}:${e.payload.length}`,
    );
    expect(brief).toEqual(['binary:70001', 'message:binary:70001:1', 'pong:2', 'text:5', 'message:text:5:Hello', 'close:1000:bye']);
    const echoed = events.find((e) => e.kind === 'message' && e.type === 'binary');
    expect(echoed?.kind === 'message' && echoed.data.subarray(1).every((b, i) => b === ((i * 3) & 255))).toBe(true);
  });
});
