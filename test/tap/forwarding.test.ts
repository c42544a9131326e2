import { connect, createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { KubewireError } from '../../src/common/errors.js';
import { startTap, type Tap } from '../../src/tap/index.js';
import { READ_BUFFER_BYTES } from '../../src/tap/reused-reads.js';
import { SessionDecoder } from '../../src/timeline/index.js';
import { randomBytes } from 'node:crypto';
import {
  delay,
  echoServer,
  EventRecorder,
  GARBAGE_SESSION,
  receiveStream,
  runClient,
  roundTrip,
  runGarbageClient,
  sendStream,
  startSinkServer,
  type SinkServer,
} from './helpers.js';

const MiB = 1024 * 1024;
let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function tapTo(port: number, extra: Partial<Parameters<typeof startTap>[0]> = {}): Promise<Tap> {
  const tap = await startTap({ upstream: { protocol: 'http', host: '127.0.0.1', port }, ...extra });
  cleanups.push(() => tap.close(0));
  return tap;
}

async function sink(bytesFor: (s: number) => number): Promise<SinkServer> {
  const s = await startSinkServer(bytesFor);
  cleanups.push(() => s.close());
  return s;
}

describe('tap forwarding', () => {
  for (const decode of [false, true]) {
    it(`copies 50 concurrent sessions of a few MiB each way byte for byte, one of them garbage after its upgrade (${decode ? 'decoding with SessionDecoder' : 'recording events only'})`, async () => {
      const SESSIONS = 49;
      const up = (s: number) => 2 * MiB + s * 4099;
      const down = (s: number) => (s === GARBAGE_SESSION ? 2 * MiB : 3 * MiB - s * 3001);
      const server = await sink(down);
      const recorder = new EventRecorder();
      const decoder = new SessionDecoder();
      const diagnostics = new Map<number, number>();
      const tap = await tapTo(server.port, {
        consumer: (ev) => {
          recorder.consume(ev);
          if (!decode) return;
          for (const te of decoder.push(ev)) {
            if (te.kind === 'diagnostic') diagnostics.set(te.connection, (diagnostics.get(te.connection) ?? 0) + 1);
          }
        },
      });

      const [garbage, ...clients] = await Promise.all([
        runGarbageClient(tap.address.port, 3 * MiB),
        ...Array.from({ length: SESSIONS }, (_, s) => runClient(tap.address.port, s, up(s))),
      ]);
      await tap.close(1000);
      decoder.finish();

      // The garbage session: forwarded exactly, and the decoder said something about it.
      const g = await server.results.get(GARBAGE_SESSION)!;
      expect(g.receivedHash).toBe(garbage!.sentHash);
      expect(garbage!.receivedHash).toBe(g.sentHash);
      const byPort = new Map([...recorder.connections()].map(([id, c]) => [c.clientPort, { id, ...c }]));
      const garbageConnection = byPort.get(garbage!.localPort!)!.id;
      if (decode) {
        expect(diagnostics.get(garbageConnection)).toBeGreaterThan(0);
        expect(decoder.summary().sessions.some((s) => s.connection === garbageConnection && s.transport === 'spdy/3.1')).toBe(true);
      }

      expect(byPort.size).toBe(SESSIONS + 1);
      let gapBytes = 0;
      let complete = 0;
      for (let s = 0; s < SESSIONS; s++) {
        const client = clients[s]!;
        const srv = await server.results.get(s)!;
        // Client → server.
        expect(client.sentBytes).toBe(up(s) + 4);
        expect(srv.receivedBytes).toBe(client.sentBytes);
        expect(srv.receivedHash).toBe(client.sentHash);
        // Server → client.
        expect(client.receivedBytes).toBe(down(s));
        expect(client.receivedHash).toBe(srv.sentHash);
        // What the decoder saw.
        const r = byPort.get(client.localPort!)!;
        expect(r.problems).toEqual([]);
        expect(r.opened).toBe(true);
        expect(r.closeReason).toBe('fin');
        // A decoder on the forwarding thread may fall behind 50 busy
        // connections (random bytes are slow to decode: every chunk is
        // suspect); then bytes become gaps, and every byte is still accounted for.
        expect(r.bytes.clientToServer + r.gapBytes.clientToServer).toBe(client.sentBytes);
        expect(r.bytes.serverToClient + r.gapBytes.serverToClient).toBe(srv.sentBytes);
        if (r.gapBytes.clientToServer === 0) expect(r.hash.clientToServer).toBe(client.sentHash);
        if (r.gapBytes.serverToClient === 0) expect(r.hash.serverToClient).toBe(srv.sentHash);
        gapBytes += r.gapBytes.clientToServer + r.gapBytes.serverToClient;
        if (r.gapBytes.clientToServer + r.gapBytes.serverToClient === 0) complete++;
      }
      const stats = tap.stats();
      expect(stats.accepted).toBe(SESSIONS + 1);
      expect(stats.active).toBe(0);
      expect(stats.queue.droppedBytes).toBe(gapBytes);
      // Recording events alone keeps up: every connection reached the consumer whole.
      if (!decode) expect(complete).toBe(SESSIONS);
      expect(stats.queue.consumerErrors).toBe(0);
    });
  }

  it('hands the consumer bytes that stay valid after later reads (the tap reads into reused buffers)', async () => {
    const echo = await echoServer();
    cleanups.push(() => echo.close());
    // Kept as delivered, not copied: a view into a reused read buffer would
    // show later bytes by the time the echo is back.
    const kept = { clientToServer: [] as Uint8Array[], serverToClient: [] as Uint8Array[] };
    const tap = await tapTo(echo.port, {
      consumer: (ev) => {
        if (ev.kind === 'data') kept[ev.direction].push(ev.bytes);
      },
    });
    const data = randomBytes(24 * MiB);
    const back = await roundTrip(tap.address.port, data);
    expect(back.equals(data)).toBe(true);
    await tap.close(1000);
    expect(Buffer.concat(kept.clientToServer).equals(data)).toBe(true);
    expect(Buffer.concat(kept.serverToClient).equals(data)).toBe(true);
    // Reads were large enough to need several per direction.
    expect(kept.clientToServer.length).toBeGreaterThan(1);
    expect(kept.serverToClient.length).toBeGreaterThan(1);
  });

  it('forwards byte for byte with nothing consuming events', async () => {
    const echo = await echoServer();
    cleanups.push(() => echo.close());
    const tap = await tapTo(echo.port);
    const data = randomBytes(8 * MiB);
    expect((await roundTrip(tap.address.port, data)).equals(data)).toBe(true);
    await tap.close(1000);
    expect(tap.stats()).toMatchObject({ bytesClientToServer: data.length, bytesServerToClient: data.length });
  });

  it('keeps forwarding exactly when the consumer throws on one connection', async () => {
    const server = await sink(() => 1 * MiB);
    const reports: KubewireError[] = [];
    const recorder = new EventRecorder();
    const tap = await tapTo(server.port, {
      consumer: (ev) => {
        if (ev.kind === 'data' && ev.connection === 1) throw new Error('decoder exploded');
        recorder.consume(ev);
      },
      onReport: (e) => reports.push(e),
    });
    const first = await runClient(tap.address.port, 7, 1 * MiB);
    const second = await runClient(tap.address.port, 8, 1 * MiB);
    for (const [s, c] of [
      [7, first],
      [8, second],
    ] as const) {
      const srv = await server.results.get(s)!;
      expect(srv.receivedHash).toBe(c.sentHash);
      expect(c.receivedHash).toBe(srv.sentHash);
    }
    await tap.close(0);
    expect(tap.stats().queue.consumerErrors).toBeGreaterThan(0);
    expect(reports.some((e) => e.code === 'TAP_DECODER_FAILED' && e.connection === 1)).toBe(true);
    const c2 = [...recorder.connections().values()].find((c) => c.session === 8)!;
    expect(c2.hash.clientToServer).toBe(second.sentHash);
  });

  it('turns bytes a slow consumer cannot keep up with into gaps, without touching the forwarded bytes', async () => {
    const server = await sink(() => 6 * MiB);
    const recorder = new EventRecorder(true);
    const reports: KubewireError[] = [];
    const tap = await tapTo(server.port, {
      // Room for about one chunk, and no fair-share stretching of slices:
      // the consumer is bound to fall behind both directions at once.
      queue: { maxBytes: 64 * 1024, sliceMs: 2, maxSliceMs: 2 },
      consumer: (ev) => {
        // A decoder far slower than loopback.
        if (ev.kind === 'data') {
          const until = performance.now() + 1;
          while (performance.now() < until);
        }
        recorder.consume(ev);
      },
      onReport: (e) => reports.push(e),
    });
    const client = await runClient(tap.address.port, 3, 6 * MiB);
    const srv = await server.results.get(3)!;
    expect(srv.receivedHash).toBe(client.sentHash);
    expect(client.receivedHash).toBe(srv.sentHash);
    await tap.close(1000);

    const stats = tap.stats();
    expect(stats.queue.droppedBytes).toBeGreaterThan(0);
    // Data is bounded by maxBytes; open/close/gap/diagnostic records (never dropped) add a little.
    expect(stats.queue.peakBytes).toBeLessThanOrEqual(64 * 1024 + 4096);
    const [conn] = [...recorder.connections().values()];
    expect(conn!.problems).toEqual([]);
    // Every byte is accounted for, as decoded data or as a reported gap.
    expect(conn!.bytes.clientToServer + conn!.gapBytes.clientToServer).toBe(client.sentBytes);
    expect(conn!.bytes.serverToClient + conn!.gapBytes.serverToClient).toBe(srv.sentBytes);
    expect(conn!.gapBytes.clientToServer + conn!.gapBytes.serverToClient).toBe(stats.queue.droppedBytes);
    expect(reports.some((e) => e.code === 'TAP_DECODE_BEHIND')).toBe(true);
    expect(recorder.events.some((e) => e.kind === 'diagnostic' && e.error.code === 'TAP_DECODE_BEHIND')).toBe(true);
  });

  it('does not read ahead of a client that stops reading (backpressure)', async () => {
    const TOTAL = 256 * MiB;
    let serverSocket: Socket | undefined;
    let serverSent: Promise<{ hash: string; bytes: number }> | undefined;
    const server = createServer((s) => {
      serverSocket = s;
      s.on('error', () => {});
      serverSent = sendStream(s, TOTAL, 42);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          serverSocket?.destroy();
          server.close(() => resolve());
        }),
    );
    const tap = await tapTo((server.address() as { port: number }).port);
    const client = connect({ port: tap.address.port, host: '127.0.0.1' });
    cleanups.push(async () => void client.destroy());
    client.pause();
    await new Promise((resolve) => client.once('connect', resolve));

    // Wait until the transfer has stalled: nothing more forwarded for a while.
    let last = -1;
    let still = 0;
    for (let i = 0; i < 200 && still < 4; i++) {
      await delay(100);
      const now = tap.stats().bytesServerToClient;
      still = now === last && now > 0 ? still + 1 : 0;
      last = now;
    }
    expect(still).toBe(4);
    const stalled = tap.stats();
    // Only kernel socket buffers hold the difference; the tap itself holds
    // at most one read (reading pauses while a write from its buffer is pending).
    expect(stalled.bytesServerToClient).toBeLessThan(TOTAL / 2);
    expect(stalled.peakWriteBuffered).toBeLessThanOrEqual(READ_BUFFER_BYTES);
    expect(serverSocket!.writableLength).toBeGreaterThan(0);

    // Reading again delivers everything, intact.
    const received = receiveStream(client);
    client.resume();
    const r = await received;
    const s = await serverSent!;
    expect(r.bytes).toBe(TOTAL);
    expect(r.hash).toBe(s.hash);
    expect(tap.stats().peakWriteBuffered).toBeLessThanOrEqual(READ_BUFFER_BYTES);
  });

  it('carries a half-close through: the server answers after the client has finished sending', async () => {
    const server = createServer({ allowHalfOpen: true }, (s) => {
      void receiveStream(s).then((r) => s.end(`got ${r.bytes}`));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const recorder = new EventRecorder(true);
    const tap = await tapTo((server.address() as { port: number }).port, { consumer: recorder.consume });
    const client = connect({ port: tap.address.port, host: '127.0.0.1', allowHalfOpen: true });
    const answer = receiveStream(client);
    const chunks: Buffer[] = [];
    client.on('data', (d: Buffer) => chunks.push(d));
    client.end('x'.repeat(12345));
    await answer;
    expect(Buffer.concat(chunks).toString()).toBe('got 12345');
    await new Promise((resolve) => (client.closed ? resolve(null) : client.once('close', resolve)));
    await tap.close(1000);
    const close = recorder.events.find((e) => e.kind === 'close');
    expect(close).toMatchObject({ kind: 'close', connection: 1, reason: 'fin', direction: 'clientToServer' });
  });

  it('reports an unreachable upstream; an HTTP client gets a 502 saying why, anything else a close', async () => {
    // A port that was just free: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const deadPort = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    const reports: KubewireError[] = [];
    const recorder = new EventRecorder(true);
    const tap = await tapTo(deadPort, { onReport: (e) => reports.push(e), consumer: recorder.consume });
    const answers: string[] = [];
    for (const request of ['GET /api?timeout=32s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', '\x16\x03\x01 not HTTP']) {
      const client = connect({ port: tap.address.port, host: '127.0.0.1' });
      client.on('error', () => {});
      client.write(request);
      const got: Buffer[] = [];
      client.on('data', (d: Buffer) => got.push(d));
      await new Promise((resolve) => client.once('close', resolve));
      answers.push(Buffer.concat(got).toString());
    }
    await tap.close(0);
    // kubectl quotes a text body: `an error on the server ("kubewire tap: cannot reach upstream …")`
    expect(answers[0]).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
    expect(answers[0]).toMatch(/\r\nContent-Type: text\/plain/);
    expect(answers[0]!.slice(answers[0]!.indexOf('\r\n\r\n') + 4)).toMatch(/^kubewire tap: cannot reach upstream 127\.0\.0\.1:\d+: /);
    expect(answers[1]).toBe('');
    expect(reports.filter((e) => e.code === 'TAP_UPSTREAM_CONNECT_FAILED')).toHaveLength(2);
    expect(tap.stats().upstreamFailures).toBe(2);
    expect(recorder.events.filter((e) => e.kind === 'open')).toEqual([]);
    expect(recorder.events.filter((e) => e.kind === 'diagnostic')).toHaveLength(2);
  });

  it('passes a reset through and reports the connection closed by rst', async () => {
    const server = createServer((s) => {
      s.on('error', () => {});
      s.once('data', () => s.resetAndDestroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const recorder = new EventRecorder(true);
    const tap = await tapTo((server.address() as { port: number }).port, { consumer: recorder.consume });
    const client = connect({ port: tap.address.port, host: '127.0.0.1' });
    const err = new Promise<Error | null>((resolve) => {
      client.once('error', (e) => resolve(e));
      client.once('close', () => resolve(null));
    });
    client.write('hello');
    const e = (await err) as (Error & { code?: string }) | null;
    expect(e?.code).toBe('ECONNRESET');
    await tap.close(1000);
    expect(recorder.events.find((ev) => ev.kind === 'close')).toMatchObject({ reason: 'rst', direction: 'serverToClient' });
  });

  it('stops accepting on close, lets open sessions finish within the grace period and cuts the rest', async () => {
    const server = createServer({ allowHalfOpen: true }, (s) => {
      s.on('error', () => {});
      s.on('data', (d) => s.write(d));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const serverSockets = new Set<Socket>();
    server.on('connection', (s) => serverSockets.add(s));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const s of serverSockets) s.destroy();
          server.close(() => resolve());
        }),
    );
    const recorder = new EventRecorder(true);
    const tap = await startTap({
      upstream: { protocol: 'http', host: '127.0.0.1', port: (server.address() as { port: number }).port },
      consumer: recorder.consume,
    });
    const client = connect({ port: tap.address.port, host: '127.0.0.1' });
    client.on('error', () => {});
    const echoed = new Promise((resolve) => client.once('data', resolve));
    client.write('ping');
    await echoed;
    const closed = tap.close(300);
    // No new connections once closing.
    const late = connect({ port: tap.address.port, host: '127.0.0.1' });
    const lateResult = await new Promise<string>((resolve) => {
      late.once('error', (e: Error & { code?: string }) => resolve(e.code ?? 'error'));
      late.once('close', () => resolve('closed'));
    });
    expect(['ECONNREFUSED', 'closed', 'ECONNRESET']).toContain(lateResult);
    await closed;
    const close = recorder.events.find((e) => e.kind === 'close');
    expect(close).toMatchObject({ connection: 1, reason: 'end-of-input' });
    // Stamped with the last thing seen on it (where its recording ends), not the cut 300 ms later.
    const lastSeen = Math.max(...recorder.events.filter((e) => e.kind === 'open' || e.kind === 'data').map((e) => e.time ?? 0));
    expect(close!.time).toBe(lastSeen);
    expect(recorder.events.filter((e) => e.kind === 'open')).toHaveLength(1);
    client.destroy();
  });
});
