/**
 * A frame cut by the connection's own close after the session was over is
 * how real Kubernetes sessions end, not a broken frame: client-go sends a
 * closing GOAWAY, and the runtime's streaming server (Go spdystream) may
 * answer it with a TCP RST after 2–4 bytes of it reached the wire. The same
 * goes for a WebSocket close frame cut by the close.
 *
 * So is a frame that ends streams or the session (RST_STREAM, GOAWAY, a
 * WebSocket close) cut by its own sender's close, whatever was still open:
 * the sender was shutting down. kubectl port-forward stopped with Ctrl-C
 * resets its streams and exits, and its kernel's RST can cut the RST_STREAM
 * it was writing (seen with kubectl 1.27 through the tap). Any other cut
 * frame before the session is over stays a diagnostic.
 */
import type { Direction } from '../common/errors.js';
import { FRAME_TYPE } from '../spdy/types.js';
import type { TeardownEvent } from './events.js';
import type { StreamState } from './stream-state.js';

/** An incomplete frame a decoder holds (its `pendingFrame()`). */
export interface PendingFrame {
  offset: number;
  header: Uint8Array;
  have: number;
  need: number | null;
}

/** Truncation codes a teardown replaces. */
export const TRUNCATION_CODES: ReadonlySet<string> = new Set(['SPDY_TRUNCATED_FRAME', 'WEBSOCKET_TRUNCATED_FRAME']);

const SPDY_TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(FRAME_TYPE).map(([k, v]) => [v, k.toLowerCase()]));

const WS_OPCODE_NAMES: Record<number, string> = { 0: 'continuation', 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' };

/**
 * The session is over: its exit status is in, or every stream it opened is
 * closed both ways (or reset), or a WebSocket close frame went by.
 */
export function sessionOver(exitKnown: boolean, streams: Iterable<StreamState>, websocketClosed: boolean): boolean {
  if (exitKnown || websocketClosed) return true;
  let any = false;
  for (const s of streams) {
    any = true;
    if (s.reset === null && !(s.halfClosed.clientToServer && s.halfClosed.serverToClient)) return false;
  }
  return any;
}

/**
 * What a cut frame was, as far as its bytes tell. SPDY: a control frame's
 * type is in bytes 2–3 (`control` before they arrive), DATA has the top bit
 * clear. WebSocket: the opcode is in the first byte.
 */
export function cutFrameName(layer: 'spdy' | 'websocket', header: Uint8Array): string {
  if (layer === 'websocket') return WS_OPCODE_NAMES[header[0]! & 0x0f] ?? 'reserved';
  if ((header[0]! & 0x80) === 0) return 'data';
  if (header.length < 4) return 'control';
  return SPDY_TYPE_NAMES[(header[2]! << 8) | header[3]!] ?? 'unknown';
}

/**
 * A frame that ends streams or the session, as far as its bytes tell: a SPDY
 * RST_STREAM or GOAWAY (its type is in header bytes 2–3), a WebSocket close.
 */
function isClosingFrame(layer: 'spdy' | 'websocket', header: Uint8Array): boolean {
  const name = cutFrameName(layer, header);
  return layer === 'websocket' ? name === 'close' : name === 'rst_stream' || name === 'goaway';
}

/**
 * The teardown event for a frame `pending` in `direction` when the close
 * (`cutBy`) came after the session was over, or cut a closing frame of the
 * side that closed (`closedBy`); null when it is a real truncation (the
 * caller keeps the decoder's diagnostic).
 */
export function teardownOf(
  layer: 'spdy' | 'websocket',
  pending: PendingFrame | null,
  over: boolean,
  cutBy: string | null,
  at: { time: number; connection: number; session: number; direction: Direction },
  closedBy: Direction | null = null,
): TeardownEvent | null {
  if (pending === null || (cutBy !== 'rst' && cutBy !== 'fin')) return null;
  if (!over && !(closedBy === at.direction && isClosingFrame(layer, pending.header))) return null;
  return {
    kind: 'teardown',
    ...at,
    layer,
    frame: cutFrameName(layer, pending.header),
    have: pending.have,
    need: pending.need,
    cutBy,
    offset: pending.offset,
  };
}

/** One line for the text views: "closing GOAWAY cut by RST (4 of 16 bytes)". */
export function teardownText(t: { layer: 'spdy' | 'websocket'; frame: string; have: number; need: number | null; cutBy: 'rst' | 'fin' }): string {
  const what = t.layer === 'websocket' ? `${t.frame} frame` : t.frame === 'control' ? 'control frame' : t.frame.toUpperCase();
  const size = t.need !== null ? `${t.have} of ${t.need} bytes` : `${t.have} header bytes`;
  return `closing ${what} cut by ${t.cutBy.toUpperCase()} (${size})`;
}
