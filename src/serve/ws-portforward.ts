/**
 * Port-forward over WebSocket, both forms:
 *
 * - Native (`v4.channel.k8s.io`, `v4.base64.channel.k8s.io`, ''): the ports
 *   come from the `ports` query; port i gets channel 2i for data and 2i+1 for
 *   errors, and the first message on each starts with the port as 2 bytes
 *   little-endian. One TCP connection per port per WebSocket.
 * - Tunnelled (`SPDY/3.1+portforward.k8s.io`, kubectl 1.31+): binary messages
 *   carry a SPDY session's bytes, cut anywhere; the session inside is plain
 *   `portforward.k8s.io`.
 *
 * Forwarded ports are TCP ports on this machine (`connectHost`, default
 * 127.0.0.1).
 */
import net from 'node:net';
import { Duplex } from 'node:stream';
import { channelFrame, encodePortPrefix, portForwardChannels } from '../k8s/index.js';
import { SpdySession } from '../spdy/session/index.js';
import { KUBERNETES_PEER_OPTIONS } from './peer-options.js';
import { serveSpdyPortForward, type PortForwardOptions } from './spdy-portforward.js';
import type { WsServerConnection } from './ws-conn.js';

export function serveWebSocketPortForward(
  conn: WsServerConnection,
  ports: number[],
  base64: boolean,
  opts: PortForwardOptions,
): Promise<void> {
  const host = opts.connectHost ?? '127.0.0.1';
  const send = (channel: number, data: Uint8Array) => {
    const f = channelFrame(channel, data, { base64 });
    return conn.send(f.opcode, f.payload ?? []);
  };
  const sockets: Array<net.Socket | null> = [];
  let open = ports.length;
  const done = () => {
    if (--open === 0) conn.close();
  };
  ports.forEach((port, i) => {
    const prefix = encodePortPrefix(port);
    const ch = portForwardChannels(i);
    send(ch.data, prefix);
    send(ch.error, prefix);
    const socket = net.connect(port, host);
    socket.setNoDelay(true);
    sockets[i] = socket;
    let connected = false;
    socket.on('connect', () => {
      connected = true;
      opts.log?.(`port-forward (websocket): channel ${2 * i} → ${host}:${port}`);
    });
    socket.on('data', (d: Buffer) => {
      if (!send(2 * i, d)) {
        socket.pause();
        void conn.drained().then(() => socket.resume());
      }
    });
    socket.on('error', (e) => {
      if (!connected) send(2 * i + 1, Buffer.from(`error forwarding port ${port} to pod ${opts.pod}, uid : ${e.message}`));
    });
    socket.on('close', () => {
      sockets[i] = null;
      done();
    });
  });
  conn.on('message', (type, data) => {
    let channel: number;
    let payload: Uint8Array;
    if (type === 'text') {
      if (data.length === 0) return;
      channel = data[0]! - 0x30;
      payload = Buffer.from(Buffer.from(data.subarray(1)).toString('latin1'), 'base64');
    } else {
      if (data.length === 0) return;
      channel = data[0]!;
      payload = data.subarray(1);
    }
    const s = channel % 2 === 0 ? sockets[channel / 2] : null;
    if (s && !s.destroyed && payload.length) s.write(payload);
  });
  return new Promise((resolve) =>
    conn.on('close', () => {
      for (const s of sockets) s?.destroy();
      resolve();
    }),
  );
}

/** A Duplex over a WebSocket's binary messages: what the tunnelled SPDY session runs on. */
export class WsMessageDuplex extends Duplex {
  constructor(private readonly conn: WsServerConnection) {
    super({ allowHalfOpen: false });
    conn.on('message', (type, data) => {
      if (type !== 'binary') {
        // A text message in the tunnel is a protocol error (the apiserver says "invalid message type").
        conn.close(1002);
        return;
      }
      if (data.length && !this.push(data)) conn.socket.pause();
    });
    conn.on('close', () => this.push(null));
  }

  override _read(): void {
    this.conn.socket.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.conn.sendBinary(chunk)) cb();
    else void this.conn.drained().then(() => cb());
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    // One message for everything the session flushed at once.
    if (this.conn.sendBinary(chunks.map((c) => c.chunk))) cb();
    else void this.conn.drained().then(() => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.conn.close();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.conn.close();
    cb(err);
  }
}

export function serveTunnelledPortForward(conn: WsServerConnection, opts: PortForwardOptions): Promise<void> {
  const session = SpdySession.server(new WsMessageDuplex(conn), KUBERNETES_PEER_OPTIONS);
  return serveSpdyPortForward(session, opts);
}
