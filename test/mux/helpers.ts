/** Shared plumbing for multiplexer tests. */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import type { Duplex, Readable } from 'node:stream';
import { memoryPair, SpdySession, type SpdySessionOptions } from '../../src/spdy/session/index.js';

export function readAll(r: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    r.on('data', (d: Buffer) => parts.push(d));
    r.on('end', () => resolve(Buffer.concat(parts)));
    r.on('error', reject);
  });
}

export function sha(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

export function bytes(n: number): Buffer {
  return randomBytes(n);
}

/** Write `data` in `size`-byte pieces honouring backpressure, then end. */
export async function writeAll(w: Duplex, data: Uint8Array, size = 16384): Promise<void> {
  for (let p = 0; p < data.length; p += size) {
    if (!w.write(data.subarray(p, Math.min(p + size, data.length)))) await once(w, 'drain');
  }
  w.end();
}

export interface Pair {
  client: SpdySession;
  server: SpdySession;
  close(): Promise<void>;
}

export function memorySessions(opts: SpdySessionOptions = {}, serverOpts: SpdySessionOptions = opts): Pair {
  const [a, b] = memoryPair();
  return sessionsOver(a, b, opts, serverOpts, async () => {});
}

/** Client and server sessions over two connected transports; `close` destroys them, then runs `after`. */
function sessionsOver(a: Duplex, b: Duplex, opts: SpdySessionOptions, serverOpts: SpdySessionOptions, after: () => Promise<void>): Pair {
  const client = SpdySession.client(a, opts);
  const server = SpdySession.server(b, serverOpts);
  return {
    client,
    server,
    async close() {
      client.destroy();
      server.destroy();
      await after();
    },
  };
}

/** A connected loopback TCP pair (Nagle off): the client socket and the accepted one; `close` destroys both and stops listening. */
export async function loopbackSockets(serverOpts: net.ServerOpts = {}): Promise<{ client: net.Socket; server: net.Socket; close(): Promise<void> }> {
  const srv = net.createServer(serverOpts);
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const accepted = once(srv, 'connection') as Promise<[net.Socket]>;
  const client = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
  await once(client, 'connect');
  const [server] = await accepted;
  client.setNoDelay(true);
  server.setNoDelay(true);
  return {
    client,
    server,
    async close() {
      client.destroy();
      server.destroy();
      srv.close();
      await once(srv, 'close');
    },
  };
}

export async function tcpSessions(opts: SpdySessionOptions = {}, serverOpts: SpdySessionOptions = opts): Promise<Pair> {
  const sockets = await loopbackSockets();
  return sessionsOver(sockets.client, sockets.server, opts, serverOpts, () => sockets.close());
}
