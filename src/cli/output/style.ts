/**
 * Colour and small text helpers. Colour is decided once by the caller
 * (stdout a TTY, no NO_COLOR); a chalk instance with level 0 prints plain text.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import type { Direction } from '../../common/errors.js';
import { escapeBytes } from '../../common/printable.js';
import type { Hop, SessionApplication } from '../../timeline/index.js';

export function createChalk(color: boolean): ChalkInstance {
  return new Chalk({ level: color ? 1 : 0 });
}

export { colorWanted } from './color.js';

export function arrow(d: Direction | null | undefined): string {
  if (d === 'clientToServer') return 'c→s';
  if (d === 'serverToClient') return 's→c';
  return '   ';
}

/** `HH:MM:SS.uuuuuu` UTC, as tcpdump prints packet times. */
export function clock(timeUs: number): string {
  // Events not tied to a packet (an empty input, a bad file header) have no time.
  if (!Number.isFinite(timeUs) || timeUs <= 0) return '--:--:--.------';
  const us = Math.floor(timeUs);
  const secs = Math.floor(us / 1e6);
  const frac = String(us - secs * 1e6).padStart(6, '0');
  const d = new Date(secs * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${frac}`;
}

/** Up to `max` bytes as a quoted, escaped string (what `strace -s` shows). */
export function preview(bytes: Uint8Array, max = 48): string {
  return `"${escapeBytes(bytes.subarray(0, max))}"${bytes.length > max ? '…' : ''}`;
}

export { printable, printableDeep } from '../../common/printable.js';

export { formatBytes, formatDuration } from '../../common/units.js';

export function assertNever(x: never): never {
  throw new Error(`unexpected ${JSON.stringify(x)}`);
}

/** What a session that is not Kubernetes is, in words. */
export const APPLICATION_TEXT: Record<SessionApplication, string> = {
  kubernetes: 'Kubernetes',
  websocket: 'WebSocket, not Kubernetes:',
  raw: 'raw upgrade, not Kubernetes:',
};

/** Which connection of kubectl → API server → kubelet → runtime a session is. */
export const HOP_TEXT: Record<Hop, string> = {
  'client-apiserver': 'client → API server',
  'apiserver-kubelet': 'API server → kubelet',
  'kubelet-runtime': 'kubelet → runtime streaming server',
  unknown: 'unknown',
};

/** A client hop that went through the API server's node proxy: `through nodes/N/proxy`. */
export function nodeProxyText(node: string): string {
  return `through nodes/${node}/proxy`;
}

