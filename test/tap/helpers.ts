/**
 * Loopback servers and clients for tap tests: each side sends a stream cut
 * from a random pool in uneven chunks (honouring backpressure) and hashes
 * what it sends and what it receives.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { ConnectionEvent } from '../../src/tcp/types.js';

const POOL = randomBytes(4 * 1024 * 1024 + 65536);

export interface StreamResult {
  /** The client's local port (the tap's `open` event names it). */
  localPort?: number;
  sentHash: string;
  sentBytes: number;
  receivedHash: string;
  receivedBytes: number;
}

/** Write `total` bytes from the pool starting at `seed`, in chunks of varying size, respecting drain. */
export function sendStream(socket: Socket, total: number, seed: number, end = true): Promise<{ hash: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let sent = 0;
    let pos = (seed * 7919) % (POOL.length - 65536);
    let k = seed;
    const pump = (): void => {
      while (sent < total) {
        k = (k * 1103515245 + 12345) >>> 0;
        const size = Math.min(total - sent, 1 + (k % 65536));
        if (pos + size > POOL.length) pos = 0;
        const chunk = POOL.subarray(pos, pos + size);
        pos += size;
        hash.update(chunk);
        sent += size;
        if (!socket.write(chunk)) {
          socket.once('drain', pump);
          return;
        }
      }
      if (end) socket.end();
      resolve({ hash: hash.digest('hex'), bytes: sent });
    };
    socket.once('error', reject);
    pump();
  });
}

/** Hash everything the socket receives until its end. */
export function receiveStream(socket: Socket): Promise<{ hash: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let bytes = 0;
    socket.on('data', (d: Buffer) => {
      hash.update(d);
      bytes += d.length;
    });
    socket.once('end', () => resolve({ hash: hash.digest('hex'), bytes }));
    socket.once('error', reject);
  });
}

/**
 * A server that, per connection, sends `bytesFor(firstByte)` bytes while
 * hashing what it receives. Results are keyed by the first four bytes the
 * client sent (a big-endian session id).
 */
export interface SinkServer {
  server: Server;
  port: number;
  results: Map<number, Promise<StreamResult>>;
  close(): Promise<void>;
}

export async function startSinkServer(bytesFor: (session: number) => number): Promise<SinkServer> {
  const results = new Map<number, Promise<StreamResult>>();
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let request: Buffer = Buffer.alloc(0);
    const onReadable = (): void => {
      if (request.length === 0) {
        const peek = socket.read(4) as Buffer | null;
        if (!peek) return; // fewer than 4 bytes so far: wait for more
        if (peek.toString('latin1') !== 'POST') {
          socket.off('readable', onReadable);
          start(peek.readUInt32BE(0), 4);
          return;
        }
        request = peek;
      }
      // An upgrade request: answer 101, then garbage both ways.
      for (let d = socket.read() as Buffer | null; d; d = socket.read() as Buffer | null) request = Buffer.concat([request, d]);
      const end = request.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('readable', onReadable);
      socket.write(UPGRADE_RESPONSE);
      const rest = request.subarray(end + 4);
      if (rest.length) socket.unshift(rest);
      start(GARBAGE_SESSION, 0);
    };
    const start = (session: number, headBytes: number): void => {
      // Hashes cover the bytes after the id, as the client's sentHash does.
      const received = receiveStream(socket);
      const sent = sendStream(socket, bytesFor(session), session + 1000);
      results.set(
        session,
        Promise.all([sent, received]).then(([s, r]) => ({
          sentHash: s.hash,
          sentBytes: s.bytes,
          receivedHash: r.hash,
          receivedBytes: r.bytes + headBytes,
        })),
      );
    };
    socket.on('readable', onReadable);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    server,
    port,
    results,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The session id under which the sink files the upgraded garbage session. */
export const GARBAGE_SESSION = 0xffff;
const UPGRADE_REQUEST =
  'POST /api/v1/namespaces/default/pods/web/exec?command=sh&stdin=true&stdout=true HTTP/1.1\r\n' +
  'Host: 127.0.0.1\r\nContent-Length: 0\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n' +
  'X-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n';
const UPGRADE_RESPONSE =
  'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n' +
  'X-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n';

/**
 * A client that upgrades to SPDY/3.1 for exec and then sends `total` bytes of
 * random garbage instead of frames (the sink answers with garbage too).
 * Hashes cover the bytes after the HTTP exchange.
 */
export async function runGarbageClient(port: number, total: number): Promise<StreamResult> {
  const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  const localPort = socket.localPort;
  socket.write(UPGRADE_REQUEST);
  let head = Buffer.alloc(0);
  const afterHead = await new Promise<Buffer>((resolve) => {
    const on = (d: Buffer) => {
      head = Buffer.concat([head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', on);
      socket.pause();
      resolve(head.subarray(end + 4));
    };
    socket.on('data', on);
  });
  if (afterHead.length) socket.unshift(afterHead);
  const received = receiveStream(socket);
  socket.resume();
  const sent = await sendStream(socket, total, 77);
  const r = await received;
  await new Promise<void>((resolve) => (socket.closed ? resolve() : socket.once('close', () => resolve())));
  return { sentHash: sent.hash, sentBytes: sent.bytes, receivedHash: r.hash, receivedBytes: r.bytes, localPort };
}

/**
 * Connect to `port`, send the session id then `total` bytes, read everything.
 * `sentHash` covers only the bytes after the id, like the sink's receivedHash.
 */
export async function runClient(
  port: number,
  session: number,
  total: number,
  open: (port: number) => Socket = (p) => connect({ port: p, host: '127.0.0.1', allowHalfOpen: true }),
): Promise<StreamResult> {
  const socket = open(port);
  await new Promise<void>((resolve, reject) => {
    socket.once((socket as { encrypted?: boolean }).encrypted ? 'secureConnect' : 'connect', resolve);
    socket.once('error', reject);
  });
  const localPort = socket.localPort;
  const id = Buffer.alloc(4);
  id.writeUInt32BE(session);
  socket.write(id);
  const received = receiveStream(socket);
  const sent = await sendStream(socket, total, session);
  const r = await received;
  await new Promise<void>((resolve) => {
    if (socket.closed) resolve();
    else socket.once('close', () => resolve());
  });
  return { sentHash: sent.hash, sentBytes: sent.bytes + 4, receivedHash: r.hash, receivedBytes: r.bytes, localPort };
}

/**
 * Rebuild each connection's two byte streams from the tap's events, checking
 * that offsets are contiguous (gaps included) and events come in a valid order.
 */
export interface Rebuilt {
  opened: boolean;
  closeReason?: string;
  /** sha256 of the data bytes (without the first 4 of client→server). */
  hash: { clientToServer: string; serverToClient: string };
  bytes: { clientToServer: number; serverToClient: number };
  gapBytes: { clientToServer: number; serverToClient: number };
  session: number;
  /** Client port from the `open` event. */
  clientPort: number;
  problems: string[];
}

export class EventRecorder {
  readonly events: ConnectionEvent[] = [];
  private readonly state = new Map<
    number,
    {
      opened: boolean;
      closed?: string;
      next: { clientToServer: number; serverToClient: number };
      hash: { clientToServer: ReturnType<typeof createHash>; serverToClient: ReturnType<typeof createHash> };
      bytes: { clientToServer: number; serverToClient: number };
      gapBytes: { clientToServer: number; serverToClient: number };
      head: Buffer;
      clientPort: number;
      problems: string[];
    }
  >();

  constructor(private readonly keepEvents = false) {}

  readonly consume = (ev: ConnectionEvent): void => {
    if (this.keepEvents) this.events.push(ev.kind === 'data' ? { ...ev, bytes: Buffer.from(ev.bytes) } : ev);
    if (ev.kind === 'diagnostic') return;
    let s = this.state.get(ev.connection);
    if (!s) {
      s = {
        opened: false,
        next: { clientToServer: 0, serverToClient: 0 },
        hash: { clientToServer: createHash('sha256'), serverToClient: createHash('sha256') },
        bytes: { clientToServer: 0, serverToClient: 0 },
        gapBytes: { clientToServer: 0, serverToClient: 0 },
        head: Buffer.alloc(0),
        clientPort: -1,
        problems: [],
      };
      this.state.set(ev.connection, s);
    }
    if (s.closed) s.problems.push(`${ev.kind} after close`);
    switch (ev.kind) {
      case 'open':
        if (s.opened) s.problems.push('second open');
        s.opened = true;
        s.clientPort = ev.client.port;
        break;
      case 'data': {
        if (!s.opened) s.problems.push('data before open');
        if (ev.offset !== s.next[ev.direction]) s.problems.push(`offset ${ev.offset} != ${s.next[ev.direction]}`);
        s.next[ev.direction] = ev.offset + ev.bytes.length;
        let bytes = Buffer.from(ev.bytes.buffer, ev.bytes.byteOffset, ev.bytes.byteLength);
        if (ev.direction === 'clientToServer' && s.head.length < 4) {
          const take = Math.min(4 - s.head.length, bytes.length);
          s.head = Buffer.concat([s.head, bytes.subarray(0, take)]);
          bytes = bytes.subarray(take);
        }
        s.hash[ev.direction].update(bytes);
        s.bytes[ev.direction] += ev.bytes.length;
        break;
      }
      case 'gap':
        if (ev.offset !== s.next[ev.direction]) s.problems.push(`gap offset ${ev.offset} != ${s.next[ev.direction]}`);
        s.next[ev.direction] = ev.offset + ev.size;
        s.gapBytes[ev.direction] += ev.size;
        break;
      case 'close':
        s.closed = ev.reason;
        break;
      default: {
        const never: never = ev;
        throw new Error(`unexpected event ${String(never)}`);
      }
    }
  };

  connections(): Map<number, Rebuilt> {
    const out = new Map<number, Rebuilt>();
    for (const [id, s] of this.state) {
      out.set(id, {
        opened: s.opened,
        closeReason: s.closed,
        hash: { clientToServer: s.hash.clientToServer.copy().digest('hex'), serverToClient: s.hash.serverToClient.copy().digest('hex') },
        bytes: { ...s.bytes },
        gapBytes: { ...s.gapBytes },
        session: s.head.length === 4 ? s.head.readUInt32BE(0) : -1,
        clientPort: s.clientPort,
        problems: s.problems,
      });
    }
    return out;
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A TCP echo server on loopback (the port-forward target). */
export async function echoServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.pipe(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Send `data` to 127.0.0.1:port and collect exactly as many bytes back. */
export function roundTrip(port: number, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' });
    const got: Buffer[] = [];
    let n = 0;
    s.on('error', reject);
    s.on('data', (d: Buffer) => {
      got.push(d);
      n += d.length;
      if (n >= data.length) {
        s.end();
        resolve(Buffer.concat(got));
      }
    });
    s.write(data);
  });
}

/** A port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Resolves once `text` appears on the child's stdout or stderr; rejects after `timeoutMs`. */
export function waitForText(
  child: { stdout: NodeJS.ReadableStream | null; stderr: NodeJS.ReadableStream | null },
  text: string,
  timeoutMs = 20_000,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no ${JSON.stringify(text)} within ${timeoutMs} ms; saw ${JSON.stringify(seen)}`)), timeoutMs);
    const on = (d: Buffer) => {
      seen += d.toString();
      if (seen.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
  });
}
