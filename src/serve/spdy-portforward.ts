/**
 * Port-forward over SPDY (`portforward.k8s.io`, also inside the
 * `SPDY/3.1+portforward.k8s.io` WebSocket tunnel). Per forwarded local
 * connection the client opens an error stream and a data stream with the same
 * `port` and `requestid` headers; we connect the pair to TCP
 * `<connectHost>:<port>` on this machine (127.0.0.1 by default: the fake pod's
 * ports are this machine's loopback ports) and copy bytes both ways.
 */
import net from 'node:net';
import type { SpdySession, SpdyStream } from '../spdy/session/index.js';
import type { SessionRecord } from './hops/record.js';

const PAIR_TIMEOUT_MS = 30_000;

export interface PortForwardOptions {
  /** Where forwarded ports are connected (default 127.0.0.1). */
  connectHost?: string;
  pod: string;
  log?: (line: string) => void;
  /** This session's record: bytes per forwarded connection (`serve --record`). */
  record?: SessionRecord;
}

interface Pair {
  port: number;
  error?: SpdyStream;
  data?: SpdyStream;
  timer: NodeJS.Timeout;
}

export function serveSpdyPortForward(session: SpdySession, opts: PortForwardOptions): Promise<void> {
  const host = opts.connectHost ?? '127.0.0.1';
  const pairs = new Map<string, Pair>();
  session.on('error', () => {});
  session.on('stream', (stream) => {
    stream.on('error', () => {});
    const type = (stream.header('streamtype') ?? '').toLowerCase();
    const port = Number(stream.header('port'));
    if ((type !== 'error' && type !== 'data') || !Number.isInteger(port) || port < 1 || port > 65535) {
      stream.reset();
      return;
    }
    stream.respond([]);
    // Clients without `requestid` (very old): the error stream's id names the pair.
    const key = stream.header('requestid') ?? String(type === 'error' ? stream.id : stream.id - 2);
    let pair = pairs.get(key);
    if (!pair) {
      pair = {
        port,
        timer: setTimeout(() => {
          pairs.delete(key);
          const p = pair!;
          if (p.error && !p.error.destroyed) p.error.end(`timed out waiting for streams for request ${key}`);
          p.data?.reset();
        }, PAIR_TIMEOUT_MS),
      };
      pairs.set(key, pair);
    }
    if (pair[type]) {
      stream.reset();
      return;
    }
    pair[type] = stream;
    if (type === 'error') stream.resume();
    if (pair.error && pair.data) {
      clearTimeout(pair.timer);
      pairs.delete(key);
      forward(pair.error, pair.data, pair.port, key);
    }
  });

  const forward = (error: SpdyStream, data: SpdyStream, port: number, requestId: string) => {
    const rec = opts.record;
    if (rec) {
      const key = { port, requestId };
      data.on('data', (d: Buffer) => rec.bytes('data', 'clientToServer', d, key));
    }
    const socket = net.connect(port, host);
    socket.setNoDelay(true);
    let connected = false;
    socket.on('connect', () => {
      connected = true;
      opts.log?.(`port-forward: stream ${data.id} → ${host}:${port}`);
      if (rec) socket.on('data', (d: Buffer) => rec.bytes('data', 'serverToClient', d, { port, requestId }));
      data.pipe(socket);
      socket.pipe(data);
    });
    socket.on('error', (e) => {
      if (!connected && !error.destroyed) {
        const message = `error forwarding port ${port} to pod ${opts.pod}, uid : ${e.message}`;
        rec?.bytes('error', 'serverToClient', Buffer.from(message), { port, requestId });
        error.end(message);
        data.reset();
      } else data.destroy();
    });
    socket.on('close', () => {
      if (!error.destroyed && !error.writableEnded) error.end();
    });
    data.on('close', () => {
      if (!socket.destroyed && data.resetStatus !== null) socket.destroy();
    });
  };

  return new Promise((resolve) =>
    session.on('close', () => {
      for (const p of pairs.values()) clearTimeout(p.timer);
      opts.record?.end(null);
      resolve();
    }),
  );
}
