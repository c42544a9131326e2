/**
 * The tap's live decode of a normal end: the client's closing GOAWAY cut by
 * the server's RST after the exit status is teardown, not a diagnostic; the
 * same cut before the status stays one (issue 16).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SpdyFrameEncoder } from '../../src/spdy/index.js';
import { startTap, type Tap } from '../../src/tap/index.js';
import { SessionDecoder, type TimelineEvent } from '../../src/timeline/index.js';
import { delay } from './helpers.js';

const SUCCESS = '{"metadata":{},"status":"Success"}';
let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

/**
 * A runtime streaming server as containerd's answers: 101, replies to the
 * client's streams, the status (unless `status` is false), then a RST as
 * soon as the client sends anything more.
 */
async function resettingServer(status: boolean): Promise<Server> {
  const server = createServer((sock) => {
    sock.on('error', () => {});
    const enc = new SpdyFrameEncoder();
    let head = Buffer.alloc(0);
    let upgraded = false;
    let received = 0;
    sock.on('data', (d: Buffer) => {
      if (!upgraded) {
        head = Buffer.concat([head, d]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        upgraded = true;
        sock.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n');
        received = head.length - end - 4;
      } else received += d.length;
      // two SYN_STREAMs of the client seen: answer and end the exec
      if (received > 0 && sock.readyState === 'open' && !(sock as Socket & { answered?: boolean }).answered) {
        (sock as Socket & { answered?: boolean }).answered = true;
        sock.write(enc.encode({ kind: 'syn_reply', streamId: 1, headers: [] }));
        sock.write(enc.encode({ kind: 'syn_reply', streamId: 3, headers: [] }));
        sock.write(enc.encode({ kind: 'data', streamId: 3, data: Buffer.from('hi\n'), fin: true }));
        if (status) sock.write(enc.encode({ kind: 'data', streamId: 1, data: Buffer.from(SUCCESS), fin: true }));
        sock.write(enc.encode({ kind: 'goaway', lastGoodStreamId: 3, status: 0 }));
        return;
      }
      // the client's closing frame began: go away at once, with a RST
      if ((sock as Socket & { answered?: boolean }).answered) sock.resetAndDestroy();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => server.close(() => r())));
  return server;
}

async function liveDecode(status: boolean): Promise<TimelineEvent[]> {
  const server = await resettingServer(status);
  const port = (server.address() as { port: number }).port;
  const decoder = new SessionDecoder();
  const events: TimelineEvent[] = [];
  const tap: Tap = await startTap({ upstream: { protocol: 'http', host: '127.0.0.1', port }, consumer: (ev) => events.push(...decoder.push(ev)) });
  cleanups.push(() => tap.close(0));
  const enc = new SpdyFrameEncoder();
  const client = connect(tap.address.port, '127.0.0.1');
  client.on('error', () => {});
  await new Promise<void>((r) => client.once('connect', () => r()));
  const got: Buffer[] = [];
  client.on('data', (d: Buffer) => got.push(d));
  client.write('POST /exec/tok HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n');
  client.write(Buffer.concat([enc.encode({ kind: 'syn_stream', streamId: 1, headers: [['streamtype', 'error']] }), enc.encode({ kind: 'syn_stream', streamId: 3, headers: [['streamtype', 'stdout']] })]));
  // wait for the server's GOAWAY (the last thing it sends), then begin client-go's closing GOAWAY
  for (let i = 0; i < 200 && !Buffer.concat(got).includes(Buffer.from([0x80, 0x03, 0x00, 0x07])); i++) await delay(10);
  client.write(enc.encode({ kind: 'goaway', lastGoodStreamId: 0, status: 0 }).subarray(0, 2));
  await new Promise<void>((r) => client.once('close', () => r()));
  await tap.close(1000);
  events.push(...decoder.finish());
  return events;
}

describe('tap live decode of a teardown', () => {
  it("the closing GOAWAY cut by the server's RST after the exit status: a teardown event, no diagnostic", async () => {
    const events = await liveDecode(true);
    expect(events.find((e) => e.kind === 'exit')).toMatchObject({ status: 'Success' });
    expect(events.filter((e) => e.kind === 'diagnostic')).toEqual([]);
    expect(events.find((e) => e.kind === 'teardown')).toMatchObject({ direction: 'clientToServer', frame: 'control', have: 2, cutBy: 'rst' });
  });

  it('the same cut before any exit status: a diagnostic', async () => {
    const events = await liveDecode(false);
    expect(events.filter((e) => e.kind === 'teardown')).toEqual([]);
    expect(events.filter((e) => e.kind === 'diagnostic').map((e) => e.kind === 'diagnostic' && e.error.code)).toContain('SPDY_TRUNCATED_FRAME');
  });
});
