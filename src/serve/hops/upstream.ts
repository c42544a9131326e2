/**
 * One upgrade request toward the next hop, on a TCP connection of its own:
 * we write the request head ourselves (header names, order and case as the
 * hop we play writes them) and read the response head. A 101 hands over the
 * socket and whatever arrived after the head; any other status is handed on
 * with its socket, so the caller can relay the refusal.
 */
import net from 'node:net';
import { formatHead } from '../upgrade-answer.js';

/** Header lines in wire order; repeated names stay separate lines. */
export type HeaderLines = Array<[string, string]>;

export interface UpstreamResponse {
  status: number;
  reason: string;
  headers: HeaderLines;
  /** The upstream connection, positioned after the response head. */
  socket: net.Socket;
  /** Bytes that arrived after the head (the first frames, or a body). */
  rest: Buffer;
}

/** Longest response head we read before giving up. */
const MAX_HEAD = 64 * 1024;

/** `http://host:port` of an upstream; only plain HTTP on this machine's loopback is spoken. */
export function parseUpstream(url: string): { host: string; port: number; hostHeader: string } {
  const u = new URL(url);
  if (u.protocol !== 'http:') throw new Error(`--upstream ${url}: only http:// upstreams are supported`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port || 80);
  return { host, port, hostHeader: u.host };
}

/** Connect, send the request head, resolve with the response head. */
export function requestUpgrade(
  upstream: { host: string; port: number },
  method: string,
  target: string,
  headers: HeaderLines,
): Promise<UpstreamResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(upstream.port, upstream.host);
    socket.setNoDelay(true);
    let buf: Buffer = Buffer.alloc(0);
    const fail = (e: Error) => {
      socket.destroy();
      reject(e);
    };
    const onData = (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.length > MAX_HEAD) fail(new Error('upstream response head too long'));
        return;
      }
      socket.off('data', onData);
      socket.off('error', fail);
      socket.off('end', onEnd);
      socket.pause();
      const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
      const m = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(lines[0] ?? '');
      if (!m) return fail(new Error(`bad upstream status line ${JSON.stringify(lines[0])}`));
      const hs: HeaderLines = [];
      for (const line of lines.slice(1)) {
        const i = line.indexOf(':');
        if (i > 0) hs.push([line.slice(0, i), line.slice(i + 1).trim()]);
      }
      resolve({ status: Number(m[1]), reason: m[2] ?? '', headers: hs, socket, rest: buf.subarray(end + 4) });
    };
    const onEnd = () => fail(new Error('upstream closed before answering'));
    socket.on('data', onData);
    socket.on('error', fail);
    socket.on('end', onEnd);
    socket.on('connect', () => socket.write(formatHead(`${method} ${target} HTTP/1.1`, headers)));
  });
}

export function headerValue(headers: HeaderLines, name: string): string | undefined {
  const lower = name.toLowerCase();
  return headers.find(([k]) => k.toLowerCase() === lower)?.[1];
}
