/**
 * Mid-session joins: which framing do these bytes carry, and where does the
 * first whole frame start? A capture that begins after the upgrade may start
 * inside a frame, so every start offset up to a bound is tried, and a start
 * is taken only when the frames from there chain to the end of the buffer.
 */
import { plausibleFrameLength } from '../spdy/resync.js';

export interface FramingGuess {
  protocol: 'spdy' | 'websocket';
  /** Offset in the buffer of the first whole frame. */
  start: number;
  /** Frames that chained from `start`. */
  frames: number;
  /** Evidence of which side sent these bytes, when the frames tell. */
  sender: 'client' | 'server' | null;
}

const MAX_SPDY_LENGTH = 0xffffff;
/** How far into the buffer a frame start is searched. */
const MAX_SCAN = 64 * 1024;
/** Enough frames chained (or the whole buffer) to believe a start. */
const ENOUGH_FRAMES = 3;

/**
 * null: not decided yet (need more bytes, unless `final`); 'none': neither
 * framing fits.
 */
export function guessFraming(buf: Uint8Array, final: boolean, only?: 'spdy' | 'websocket'): FramingGuess | 'none' | null {
  const limit = Math.min(buf.length, MAX_SCAN);
  let pending = false;
  for (let k = 0; k < limit; k++) {
    const spdy = only === 'websocket' ? NO_CHAIN : spdyChain(buf, k);
    const ws = only === 'spdy' ? NO_CHAIN : wsChain(buf, k);
    const spdyOk = spdy.ok && accepted(spdy, final);
    const wsOk = ws.ok && accepted(ws, final);
    if (spdyOk && (!wsOk || spdy.control > 0 || spdy.frames >= ws.frames)) {
      return { protocol: 'spdy', start: k, frames: spdy.frames, sender: spdy.sender };
    }
    if (wsOk) return { protocol: 'websocket', start: k, frames: ws.frames, sender: ws.sender };
    // a chain that runs to the end of the buffer but is short may be accepted with more bytes
    if (spdy.ok || ws.ok) pending = true;
  }
  if (pending && !final && buf.length < MAX_SCAN) return null;
  return buf.length >= MAX_SCAN || final ? 'none' : null;
}

/**
 * Enough evidence for a frame start: several frames in a row, or two that
 * end exactly at the end of the buffer (or one, with a control frame's
 * strong signature). At the end of input, anything that chains.
 */
function accepted(c: Chain, final: boolean): boolean {
  if (c.frames >= ENOUGH_FRAMES) return true;
  if (c.exact && (c.frames >= 2 || c.control > 0)) return true;
  return final && c.frames > 0 && (c.exact || c.control > 0);
}

interface Chain {
  ok: boolean;
  frames: number;
  control: number;
  /** The last frame ends exactly at the end of the buffer. */
  exact: boolean;
  sender: 'client' | 'server' | null;
}

const NO_CHAIN: Chain = { ok: false, frames: 0, control: 0, exact: false, sender: null };

function spdyChain(buf: Uint8Array, k: number): Chain {
  let i = k;
  let frames = 0;
  let control = 0;
  let sender: Chain['sender'] = null;
  while (i + 8 <= buf.length) {
    const len = plausibleFrameLength(buf, i, MAX_SPDY_LENGTH);
    if (len < 0) return { ok: false, frames, control, exact: false, sender };
    if (buf[i]! >= 0x80) {
      control++;
      const type = buf[i + 3]!;
      if (type === 1 && i + 12 <= buf.length) sender ??= (buf[i + 11]! & 1) === 1 ? 'client' : 'server';
      if (type === 2) sender ??= 'server';
    }
    frames++;
    i += 8 + len;
  }
  return { ok: frames > 0, frames, control, exact: i === buf.length, sender };
}

function wsChain(buf: Uint8Array, k: number): Chain {
  let i = k;
  let frames = 0;
  let strong = 0;
  let masked: boolean | null = null;
  while (i + 2 <= buf.length) {
    const b0 = buf[i]!;
    const b1 = buf[i + 1]!;
    const opcode = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    if ((b0 & 0x70) !== 0) break;
    if (!(opcode <= 2 || (opcode >= 8 && opcode <= 10))) break;
    const m = (b1 & 0x80) !== 0;
    if (masked !== null && m !== masked) break;
    masked = m;
    let len = b1 & 0x7f;
    let h = 2;
    if (len === 126) {
      if (i + 4 > buf.length) break;
      len = (buf[i + 2]! << 8) | buf[i + 3]!;
      if (len < 126) break;
      h = 4;
    } else if (len === 127) {
      if (i + 10 > buf.length) break;
      if (buf[i + 2] !== 0 || buf[i + 3] !== 0 || buf[i + 4] !== 0) break;
      len = buf[i + 5]! * 2 ** 32 + ((buf[i + 6]! << 24) >>> 0) + (buf[i + 7]! << 16) + (buf[i + 8]! << 8) + buf[i + 9]!;
      if (len < 65536) break;
      h = 10;
    }
    if (opcode >= 8 && (!fin || len > 125)) break;
    if (m) h += 4;
    if (opcode !== 0 && fin) strong++;
    frames++;
    i += h + len;
  }
  const sender = masked === null ? null : masked ? 'client' : 'server';
  const ok = frames > 0 && strong > 0 && (i >= buf.length || i + 2 > buf.length);
  return { ok, frames, control: strong, exact: i === buf.length, sender };
}
