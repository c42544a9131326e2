/**
 * Who is the client when no SYN was seen: the content of the first bytes
 * (an HTTP request line, or a status line), then well-known server ports,
 * then the lower port.
 */
import type { Connection, HalfStream } from './connection.js';

/** Ports where the server side of Kubernetes streaming traffic usually listens. */
export const WELL_KNOWN_SERVER_PORTS: ReadonlySet<number> = new Set([80, 443, 6443, 8080, 8443, 10250, 10255]);

const HTTP_METHODS = ['GET ', 'POST ', 'PUT ', 'HEAD ', 'PATCH ', 'DELETE ', 'OPTIONS ', 'CONNECT '];

function startsWithAscii(b: Uint8Array, text: string): boolean {
  if (b.length < text.length) return false;
  for (let i = 0; i < text.length; i++) if (b[i] !== text.charCodeAt(i)) return false;
  return true;
}

export function guessClientIsA(conn: Connection, h: HalfStream | null, firstBytes: Uint8Array | null): boolean {
  if (h !== null && firstBytes !== null && firstBytes.length > 0) {
    if (HTTP_METHODS.some((m) => startsWithAscii(firstBytes, m))) return h.fromA;
    if (startsWithAscii(firstBytes, 'HTTP/1.')) return !h.fromA;
  }
  const aWell = WELL_KNOWN_SERVER_PORTS.has(conn.aPort);
  const bWell = WELL_KNOWN_SERVER_PORTS.has(conn.bPort);
  if (aWell !== bWell) return bWell;
  if (conn.aPort !== conn.bPort) return conn.aPort > conn.bPort;
  return true;
}
