/**
 * A small Kubernetes-shaped WebSocket server for interop tests with real
 * clients: the fake API answers discovery and GET pod; upgrades go through
 * our handshake helpers and frame codecs. Each upgraded connection is handed
 * to the test as a `WsSession` that records every frame the client sent.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { handleApiRequest } from '../../../src/serve/fake-api.js';
import {
  WebSocketFrameEncoder,
  WebSocketStreamDecoder,
  buildUpgradeResponse,
  checkUpgradeRequest,
  headerValues,
  type WebSocketFrame,
  type WebSocketStreamEvent,
} from '../../../src/websocket/index.js';
import { negotiateWebSocket } from '../../../src/k8s/index.js';

export interface WsSession {
  req: IncomingMessage;
  url: URL;
  protocol: string;
  /** Sec-WebSocket-Protocol lines as the client sent them. */
  offered: string[];
  socket: Socket;
  enc: WebSocketFrameEncoder;
  /** Every data/control frame the client sent (payloads copied). */
  frames: WebSocketFrame[];
  /** Diagnostics from decoding the client's bytes (should stay empty). */
  problems: string[];
  /** Called for each frame the client sends (after recording it). */
  onFrame: (f: WebSocketFrame) => void;
  send(bytes: Uint8Array | Uint8Array[]): void;
  /** Send close 1000 and end the socket once the client answers (or soon after). */
  close(): void;
  closed: Promise<void>;
}

export interface TestServer {
  url: string;
  port: number;
  sessions: WsSession[];
  close(): Promise<void>;
}

export async function startWsServer(supported: (path: string) => readonly string[], onSession: (s: WsSession) => void): Promise<TestServer> {
  const sessions: WsSession[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    handleApiRequest(req, res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://local');
    const check = checkUpgradeRequest(req.method ?? 'GET', req.rawHeaders);
    if (!check.ok) {
      socket.end(`HTTP/1.1 ${check.status} Bad Request\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const offered = headerValues(req.rawHeaders, 'sec-websocket-protocol');
    const negotiated = negotiateWebSocket(offered, supported(url.pathname));
    if (!negotiated.ok) {
      socket.end(`HTTP/1.1 ${negotiated.status} Forbidden\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    socket.setNoDelay(true);
    socket.write(buildUpgradeResponse({ key: check.key, protocol: negotiated.protocol }));
    const enc = new WebSocketFrameEncoder();
    const decoder = new WebSocketStreamDecoder({ direction: 'clientToServer', mode: 'inspect', validateUtf8: false });
    let resolveClosed!: () => void;
    let sentClose = false;
    const session: WsSession = {
      req,
      url,
      protocol: negotiated.protocol,
      offered,
      socket,
      enc,
      frames: [],
      problems: [],
      onFrame: () => {},
      send(bytes) {
        if (socket.destroyed) return;
        for (const b of Array.isArray(bytes) ? bytes : [bytes]) socket.write(b);
      },
      close() {
        if (sentClose) return;
        sentClose = true;
        session.send(enc.close(1000));
        // Give the client a moment to answer, then end.
        setTimeout(() => socket.end(), 300).unref();
      },
      closed: new Promise<void>((r) => (resolveClosed = r)),
    };
    socket.on('close', () => resolveClosed());
    socket.on('error', () => {});
    const handle = (events: WebSocketStreamEvent[]) => {
      for (const ev of events) {
        if (ev.kind === 'diagnostic') {
          session.problems.push(ev.error.code);
          continue;
        }
        if (ev.kind === 'message') continue;
        const f = { ...ev, payload: ev.payload.slice() } as WebSocketFrame;
        session.frames.push(f);
        if (f.kind === 'ping') session.send(enc.pong(f.payload));
        if (f.kind === 'close') {
          if (!sentClose) {
            sentClose = true;
            session.send(enc.close(1000));
          }
          socket.end();
        }
        session.onFrame(f);
      }
    };
    socket.on('data', (d: Buffer) => handle(decoder.push(d)));
    sessions.push(session);
    onSession(session);
    if (head.length > 0) handle(decoder.push(head));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    sessions,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Wait until `cond()` holds (bounded). */
export async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
