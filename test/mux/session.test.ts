import { once } from 'node:events';
import type net from 'node:net';
import { describe, expect, it } from 'vitest';
import { RST_STATUS } from '../../src/spdy/types.js';
import { SpdyFrameEncoder } from '../../src/spdy/encoder.js';
import { memoryPair, SpdySession, SpdySessionCore, type SpdyStream } from '../../src/spdy/session/index.js';
import { bytes, loopbackSockets, memorySessions, readAll, sha, tcpSessions, writeAll, type Pair } from './helpers.js';

function echoServer(p: Pair): void {
  p.server.on('stream', (s: SpdyStream) => {
    s.respond([['status', 'ok']]);
    s.pipe(s);
  });
}

for (const transport of ['memory', 'tcp'] as const) {
  const make = (o = {}) => (transport === 'memory' ? Promise.resolve(memorySessions(o)) : tcpSessions(o));

  describe(`ours ↔ ours over ${transport}`, () => {
    it('opens a stream with headers, gets the reply, echoes bytes exactly', async () => {
      const p = await make();
      const seen: Array<[string, string][]> = [];
      p.server.on('stream', (s: SpdyStream) => {
        seen.push(s.headers);
        expect(s.header('StreamType')).toBe('stdin');
        s.respond([['status', 'ok']]);
        s.pipe(s);
      });
      const st = p.client.request([['streamtype', 'stdin'], ['port', '80']]);
      const [reply] = (await once(st, 'response')) as [Array<[string, string]>];
      expect(reply).toEqual([['status', 'ok']]);
      const data = bytes(300_000);
      const got = readAll(st);
      await writeAll(st, data, 7000);
      expect(sha(await got)).toBe(sha(data));
      expect(seen).toEqual([[['streamtype', 'stdin'], ['port', '80']]]);
      await p.close();
    });

    it('16 concurrent streams both ways, with windows that need WINDOW_UPDATE', async () => {
      const p = await make({ initialWindow: 32768, sessionWindow: 65536 });
      echoServer(p);
      const jobs = Array.from({ length: 16 }, async (_, i) => {
        const st = p.client.request([['n', String(i)]]);
        const data = bytes(200_000 + i * 1000);
        const got = readAll(st);
        await writeAll(st, data, 5000 + i * 100);
        expect(sha(await got)).toBe(sha(data));
      });
      await Promise.all(jobs);
      // Every byte passed through 32 KiB stream windows: credit was returned.
      expect(p.client.core.sessionSendWindow).toBeGreaterThan(0);
      await p.close();
    });

    it('PING round trip', async () => {
      const p = await make();
      const ms = await p.client.ping();
      expect(ms).toBeGreaterThanOrEqual(0);
      const ms2 = await p.server.ping();
      expect(Number.isFinite(ms2)).toBe(true);
      await p.close();
    });

    it('RST_STREAM from the client reaches the server stream', async () => {
      const p = await make();
      const got = new Promise<number | null>((resolve) => {
        p.server.on('stream', (s: SpdyStream) => {
          s.respond();
          s.on('close', () => resolve(s.resetStatus));
          s.resume();
        });
      });
      const st = p.client.request([]);
      await once(st, 'response');
      st.reset(RST_STATUS.CANCEL);
      expect(await got).toBe(RST_STATUS.CANCEL);
      await p.close();
    });

    it('GOAWAY drains: open streams finish, new ones are refused, the session closes', async () => {
      const p = await make();
      echoServer(p);
      const st = p.client.request([]);
      await once(st, 'response');
      const goaway = once(p.client, 'goaway');
      const serverClosed = once(p.server, 'close');
      p.server.goaway();
      await goaway;
      expect(() => p.client.request([])).toThrow(/GOAWAY/);
      const data = bytes(100_000);
      const got = readAll(st);
      await writeAll(st, data);
      expect(sha(await got)).toBe(sha(data));
      await serverClosed;
      expect(p.server.isClosed).toBe(true);
      await p.close();
    });

    it('half-close both ways: server keeps writing after the client ended', async () => {
      const p = await make();
      p.server.on('stream', async (s: SpdyStream) => {
        const input = await readAll(s);
        s.end(Buffer.concat([input, Buffer.from('|done')]));
      });
      const st = p.client.request([]);
      const got = readAll(st);
      st.end('hello');
      expect((await got).toString()).toBe('hello|done');
      await p.close();
    });
  });
}

describe('SETTINGS and web streams', () => {
  it('a larger INITIAL_WINDOW_SIZE from the peer opens our send windows', async () => {
    const p = memorySessions({}, { initialWindow: 1 << 20 });
    p.server.on('stream', (s: SpdyStream) => s.respond());
    await p.client.ping(); // the server's SETTINGS has arrived by the time the PING comes back
    const st = p.client.request([]);
    expect(p.client.core.sendCapacity(st.id)).toBe(65536); // the session window still limits
    expect(p.server.core.sessionReceiveWindow).toBe(65536);
    await p.close();
    const q = memorySessions({}, { initialWindow: 1 << 20, sessionWindow: 4 << 20 });
    q.server.on('stream', (s: SpdyStream) => s.respond());
    await q.client.ping();
    const st2 = q.client.request([]);
    expect(q.client.core.sendCapacity(st2.id)).toBe(1 << 20);
    await q.close();
  });

  it('a stream as web streams', async () => {
    const p = memorySessions();
    p.server.on('stream', (s: SpdyStream) => {
      s.respond();
      s.pipe(s);
    });
    const { readable, writable } = p.client.request([]).toWeb();
    const w = writable.getWriter();
    await w.write(new Uint8Array([1, 2, 3]));
    await w.close();
    const got: number[] = [];
    for await (const chunk of readable as AsyncIterable<Uint8Array>) got.push(...chunk);
    expect(got).toEqual([1, 2, 3]);
    await p.close();
  });
});

describe('backpressure', () => {
  it('a slow reader never holds more than its window plus buffers, and other streams keep flowing', async () => {
    const p = memorySessions({ initialWindow: 65536, sessionWindow: 1 << 20, streamHighWaterMark: 65536 });
    const serverStreams: SpdyStream[] = [];
    p.server.on('stream', (s: SpdyStream) => {
      serverStreams.push(s);
      s.respond();
      if (s.header('role') === 'fast') s.pipe(s);
      // the slow stream is not read at all
    });
    const slow = p.client.request([['role', 'slow']]);
    await once(slow, 'response');
    let slowWritten = 0;
    const chunk = bytes(16384);
    const pump = async () => {
      for (let i = 0; i < 200; i++) {
        slowWritten += chunk.length;
        if (!slow.write(chunk)) await once(slow, 'drain');
      }
    };
    void pump().catch(() => {});
    const fast = p.client.request([['role', 'fast']]);
    const data = bytes(2_000_000);
    const got = readAll(fast);
    await writeAll(fast, data);
    expect(sha(await got)).toBe(sha(data));
    const slowServer = serverStreams.find((s) => s.header('role') === 'slow')!;
    // Receiver holds at most the window it granted plus the stream's read buffer.
    expect(slowServer.readableLength).toBeLessThanOrEqual(65536 + 65536);
    // The writer was held back: far less than the 3.2 MB it wanted to send went out.
    expect(slowWritten).toBeLessThan(200 * 16384);
    // Now read: everything arrives.
    let received = 0;
    slowServer.on('data', (d: Buffer) => (received += d.length));
    while (slowWritten < 200 * 16384) await new Promise((r) => setTimeout(r, 5));
    slow.end();
    await once(slowServer, 'end');
    expect(received).toBe(200 * 16384);
    await p.close();
  });

  it('writes that queue up while the window is shut go out later in order, whole', async () => {
    // Default 64 KiB windows and a reader that pauses: most writes wait in the
    // stream's buffer and reach the session together (_writev), some cut
    // across a window boundary.
    const p = memorySessions({ streamHighWaterMark: 1 << 20 });
    const got = new Promise<Buffer>((resolve) =>
      p.server.on('stream', (s: SpdyStream) => {
        s.respond();
        s.pause();
        setTimeout(() => s.resume(), 20);
        void readAll(s).then(resolve);
      }),
    );
    const st = p.client.request([]);
    const data = bytes(700_000);
    const sizes = [1, 7000, 65536, 3, 40000, 100_000, 12345];
    let pos = 0;
    let writes = 0;
    for (let i = 0; pos < data.length; i++) {
      const n = Math.min(sizes[i % sizes.length]!, data.length - pos);
      st.write(data.subarray(pos, pos + n));
      pos += n;
      writes++;
    }
    expect(st.writableLength).toBeGreaterThan(65536);
    st.end();
    expect(sha(await got)).toBe(sha(data));
    expect(writes).toBeGreaterThan(10);
    await p.close();
  });

  it('a peer that ignores windows gets the transport paused, not unbounded buffers', async () => {
    // The client ignores the server's windows (as spdystream does).
    const p = memorySessions({ respectPeerWindow: false, streamHighWaterMark: 65536 }, { streamHighWaterMark: 65536 });
    let serverStream: SpdyStream | null = null;
    p.server.on('stream', (s: SpdyStream) => {
      serverStream = s;
      s.respond();
    });
    const st = p.client.request([]);
    await once(st, 'response');
    const chunk = bytes(65536);
    let sent = 0;
    for (let i = 0; i < 64; i++) {
      sent += chunk.length;
      if (!st.write(chunk)) break;
    }
    await new Promise((r) => setTimeout(r, 50));
    const held = serverStream!.readableLength;
    expect(held).toBeLessThanOrEqual(65536 * 4);
    expect(sent).toBeGreaterThan(0);
    await p.close();
  });

  it('a stream that ends while it holds the transport paused lets go of it: what follows (GOAWAY, FIN) is still read', async () => {
    // A peer that ignores windows sends more than one stream may buffer and
    // that stream's FIN in the same read, as a runtime's stdin gets it: the
    // transport pauses for the stream, then the FIN ends it. A stream that
    // ended is never asked for more (`_read`), so only its end can release
    // the transport; otherwise the peer's RST_STREAM, GOAWAY and FIN are
    // never read and the connection stays open until some timeout.
    const [peer, transport] = memoryPair();
    const server = SpdySession.server(transport, { streamHighWaterMark: 16384, maxStreamBuffer: 65536 });
    server.on('error', () => {});
    let stream: SpdyStream | null = null;
    server.on('stream', (s: SpdyStream) => {
      stream = s;
      s.respond();
    });
    const enc = new SpdyFrameEncoder();
    const payload = bytes(4 * 32768);
    const frames = [enc.encode({ kind: 'syn_stream', streamId: 1, associatedStreamId: 0, priority: 0, slot: 0, fin: false, unidirectional: false, headers: [['streamtype', 'stdin']] })];
    for (let p = 0; p < payload.length; p += 32768) frames.push(enc.encode({ kind: 'data', streamId: 1, fin: false, data: payload.subarray(p, p + 32768) }));
    frames.push(enc.encode({ kind: 'data', streamId: 1, fin: true, data: new Uint8Array(0) }));
    peer.resume();
    peer.write(Buffer.concat(frames));
    await new Promise((r) => setImmediate(r));
    expect(stream, 'the stream arrived').not.toBeNull();
    expect(stream!.readableLength, 'more than maxStreamBuffer is held: the transport was paused').toBeGreaterThan(65536);
    // The reader takes everything, as `cat` does with stdin.
    expect(sha(await readAll(stream!))).toBe(sha(payload));
    const closed = once(server, 'close');
    peer.write(enc.encode({ kind: 'goaway', lastGoodStreamId: 0, status: 0 }));
    peer.end();
    const late = new Promise((_, reject) => setTimeout(() => reject(new Error('the session never read past the ended stream')), 2000));
    await Promise.race([closed, late]);
    expect(server.isClosed).toBe(true);
    enc.close();
  });
});

describe('receive policies', () => {
  function pair(serverOpts: ConstructorParameters<typeof SpdySessionCore>[0]) {
    const client = new SpdySessionCore({ role: 'client' });
    const server = new SpdySessionCore(serverOpts);
    const pump = () => {
      for (let i = 0; i < 10; i++) {
        const a = client.takeOutput();
        const b = server.takeOutput();
        if (!a.length && !b.length) break;
        for (const x of a) server.receive(x);
        for (const x of b) client.receive(x);
      }
    };
    return { client, server, pump };
  }

  it("'consumed' holds the peer to the window until the application reads", () => {
    const { client, server, pump } = pair({ role: 'server', windowUpdates: 'consumed' });
    const id = client.open([]);
    pump();
    server.reply(id);
    pump();
    expect(client.sendData(id, new Uint8Array(100_000))).toBe(65536);
    pump();
    expect(client.sendCapacity(id)).toBe(0);
    server.consumed(id, 65536);
    pump();
    expect(client.sendCapacity(id)).toBe(65536);
  });

  it("'received' reopens the window as bytes arrive, 'none' never does", () => {
    const r = pair({ role: 'server', windowUpdates: 'received' });
    const id = r.client.open([]);
    r.pump();
    r.server.reply(id);
    r.pump();
    r.client.sendData(id, new Uint8Array(65536));
    r.pump();
    expect(r.client.sendCapacity(id)).toBe(65536);
    const n = pair({ role: 'server', windowUpdates: 'none' });
    const id2 = n.client.open([]);
    n.pump();
    n.server.reply(id2);
    n.pump();
    n.client.sendData(id2, new Uint8Array(65536));
    n.pump();
    expect(n.client.sendCapacity(id2)).toBe(0);
  });

  it('an enforcing receiver ends the session when the session window is overrun', () => {
    // One 100 000-byte frame: more than the 64 KiB session window, less than the 1 MiB stream window.
    const client = new SpdySessionCore({ role: 'client', respectPeerWindow: false, maxDataFrame: 1 << 20 });
    const server = new SpdySessionCore({ role: 'server', enforceReceiveWindow: true, initialWindow: 1 << 20 });
    for (const b of server.takeOutput()) client.receive(b);
    const id = client.open([]);
    for (const b of client.takeOutput()) server.receive(b);
    server.reply(id);
    for (const b of server.takeOutput()) client.receive(b);
    client.sendData(id, new Uint8Array(100_000));
    const ev = client.takeOutput().flatMap((b) => server.receive(b));
    expect(ev.some((e) => e.kind === 'error' && e.error.code === 'MUX_SESSION_WINDOW_EXCEEDED')).toBe(true);
    expect(server.failed).toBe(true);
  });
});

describe('protocol faults', () => {
  it('garbage from the peer ends the session with a typed error and GOAWAY, never a throw', async () => {
    const core = new SpdySessionCore({ role: 'server' });
    core.takeOutput();
    // A control frame of version 3, type 1 (SYN_STREAM) with a truncated, bogus body.
    const ev = core.receive(Uint8Array.from([0x80, 3, 0, 1, 0, 0, 0, 10, 0, 0, 0, 1, 0, 0, 0, 0, 0xff, 0xff]));
    const err = ev.find((e) => e.kind === 'error');
    expect(err && err.kind === 'error' && err.error.layer).toBe('mux');
    expect(core.failed).toBe(true);
    const out = Buffer.concat(core.takeOutput());
    // GOAWAY type 7 with status PROTOCOL_ERROR (1).
    expect(out.subarray(0, 4).toString('hex')).toBe('80030007');
    expect(out.readUInt32BE(12)).toBe(1);
  });

  it('DATA on a stream never opened is answered with RST_STREAM INVALID_STREAM', () => {
    const core = new SpdySessionCore({ role: 'server' });
    core.takeOutput();
    core.receive(Uint8Array.from([0, 0, 0, 5, 0, 0, 0, 2, 0xaa, 0xbb]));
    const out = Buffer.concat(core.takeOutput());
    expect(out.toString('hex')).toBe('80030003' + '00000008' + '00000005' + '00000002');
  });

  it('a SYN_STREAM id that goes backwards is a session error', () => {
    const enc = new SpdyFrameEncoder();
    const syn = (streamId: number) =>
      enc.encode({ kind: 'syn_stream', streamId, associatedStreamId: 0, priority: 0, slot: 0, fin: false, unidirectional: false, headers: [] });
    const server = new SpdySessionCore({ role: 'server' });
    expect(server.receive(syn(3))[0]!.kind).toBe('stream');
    const ev = server.receive(syn(1));
    expect(ev.some((e) => e.kind === 'error' && e.error.code === 'MUX_STREAM_ID_REGRESSED')).toBe(true);
  });

  it('enforced receive windows reset a stream that overruns', () => {
    const client = new SpdySessionCore({ role: 'client', respectPeerWindow: false });
    const server = new SpdySessionCore({ role: 'server', enforceReceiveWindow: true, sessionWindow: 1 << 20 });
    for (const b of server.takeOutput()) client.receive(b);
    const id = client.open([]);
    for (const b of client.takeOutput()) server.receive(b);
    server.reply(id);
    for (const b of server.takeOutput()) client.receive(b);
    client.sendData(id, new Uint8Array(65536 + 1));
    const ev = client.takeOutput().flatMap((b) => server.receive(b));
    expect(ev).toContainEqual({ kind: 'reset', streamId: id, status: RST_STATUS.FLOW_CONTROL_ERROR, byPeer: false });
  });
});

describe('a hostile or departing peer over TCP', () => {
  /** A server session on a half-open socket (as an HTTP server's upgraded sockets are), and a raw client socket. */
  async function rawPeer(): Promise<{ client: net.Socket; server: SpdySession; serverSocket: net.Socket; close(): Promise<void> }> {
    const sockets = await loopbackSockets({ allowHalfOpen: true });
    const server = SpdySession.server(sockets.server);
    server.on('error', () => {});
    sockets.client.on('error', () => {});
    return {
      client: sockets.client,
      server,
      serverSocket: sockets.server,
      async close() {
        server.destroy();
        await sockets.close();
      },
    };
  }


  it('a peer that shuts down its side (FIN) gets ours shut down too, not a socket left in CLOSE-WAIT', async () => {
    const p = await rawPeer();
    const ended = once(p.client, 'end');
    p.client.resume();
    p.client.end();
    await Promise.race([ended, new Promise((_, reject) => setTimeout(() => reject(new Error('server never ended its side')), 2000))]);
    expect(p.server.isClosed).toBe(true);
    await p.close();
  });

  it('a PING flood whose replies go unread gets the transport paused, not unbounded buffers', async () => {
    const p = await rawPeer();
    const enc = new SpdyFrameEncoder();
    const batch = Buffer.concat(Array.from({ length: 8192 }, (_, i) => enc.encode({ kind: 'ping', id: 2 * i + 1 })));
    const cap = 256 * 1024 * 1024;
    let sent = 0;
    // The client never reads. Write until the server stops taking bytes (no
    // 'drain' for a while) or the cap says it never will.
    for (;;) {
      if (!p.client.write(batch)) {
        const drained = await Promise.race([once(p.client, 'drain').then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 500))]);
        if (!drained) break;
      }
      sent += batch.length;
      if (sent >= cap) break;
    }
    expect(sent, 'the server kept reading PINGs whose replies nobody read').toBeLessThan(cap);
    expect(p.serverSocket.writableLength).toBeLessThanOrEqual(8 * 1024 * 1024);
    await p.close();
  }, 30_000);
});
