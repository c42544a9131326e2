/** A hop's HTTP listener: loopback only (the hops carry no authentication of their own). */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { isLoopback } from '../auth.js';
import { OpenSockets } from '../open-sockets.js';
import { listenAt, parseListen } from '../server.js';

export interface HopHandle {
  url: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

export async function listenHop(
  role: string,
  listen: string | undefined,
  onRequest: http.RequestListener,
  onUpgrade: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void,
): Promise<HopHandle> {
  const { host, port } = parseListen(listen);
  if (!isLoopback(host)) throw new Error(`serve --as ${role} listens on loopback only (got ${host})`);
  const sockets = new OpenSockets();
  const server = http.createServer(onRequest);
  server.on('connection', sockets.track);
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    sockets.track(socket);
    socket.on('error', () => {});
    onUpgrade(req, socket, head);
  });
  const addr = await listenAt(server, port, host);
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${addr.port}`,
    host,
    port: addr.port,
    close: () => sockets.close(server),
  };
}
