/**
 * Mid-session joins: which framing do these bytes carry, and where does the
 * first whole frame start? A capture that begins after the upgrade may start
 * inside a frame, so every start offset up to a bound is tried, and a start
 * is taken only when the frames from there chain to the end of the buffer.
 */
import type { Direction } from '../common/errors.js';
import { plausibleFrameLength } from '../spdy/resync.js';
import { concatBytes } from '../common/bytes.js';

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
export interface GuessConstraints {
  /** Only frame starts up to here (0: the bytes start at the beginning of the stream). */
  maxStart?: number;
  /** Who sent the bytes, when known (TCP saw the SYN): WebSocket masking must agree. */
  sender?: 'client' | 'server';
}

export function guessFraming(buf: Uint8Array, final: boolean, only?: 'spdy' | 'websocket', constraints: GuessConstraints = {}): FramingGuess | 'none' | null {
  if (looksLikeTls(buf)) return 'none';
  // beyond the middle no start can span half the buffer (see `accepted`)
  const limit = Math.min(Math.ceil(buf.length / 2) + 1, MAX_SCAN, (constraints.maxStart ?? Infinity) + 1);
  let pending = false;
  let bestSpdy: { k: number; c: Chain } | null = null;
  let bestWs: { k: number; c: Chain } | null = null;
  /** Where a WebSocket chain runs to the end without enough frames yet. */
  let wsPendingAt: number | undefined;
  for (let k = 0; k < limit; k++) {
    // cheap first-byte filters before walking a chain (most positions fail them)
    const b0 = buf[k]!;
    const spdyMay = b0 === 0x80 ? buf[k + 1] === 3 : b0 < 0x80 && (buf[k + 4] ?? 0) <= 1;
    const op = b0 & 0x0f;
    const wsMay = (b0 & 0x70) === 0 && (op <= 2 || (op >= 8 && op <= 10));
    const spdy: Chain = only === 'websocket' || bestSpdy || !spdyMay ? NO_CHAIN : spdyChain(buf, k);
    let ws: Chain = only === 'spdy' || bestWs || !wsMay ? NO_CHAIN : wsChain(buf, k);
    if (constraints.sender && ws.sender && ws.sender !== constraints.sender) ws = NO_CHAIN;
    if (!bestSpdy && accepted(spdy, final, buf.length)) bestSpdy = { k, c: spdy };
    else if (!bestSpdy && spdy.ok && spdy.complete > 0 && k * 2 <= buf.length) pending = true;
    if (!bestWs && accepted(ws, final, buf.length)) bestWs = { k, c: ws };
    else if (!bestWs && ws.ok && k * 2 <= buf.length) {
      pending = true;
      wsPendingAt ??= k;
    }
    // The earliest start explains the most bytes: a WebSocket frame whose payload carries SPDY
    // (the port-forward tunnel) starts before the SPDY frames inside it.
    if (bestSpdy || bestWs) break;
  }
  if (bestSpdy) bestSpdy = laterSpdyStart(buf, bestSpdy, limit, final);
  // Both fit at the same start: SPDY control frames (0x80 0x03 …, exact lengths) beat WebSocket's
  // loose header shape; otherwise the framing that explains more of the bytes.
  // SPDY found inside what may be a WebSocket frame that started earlier (the tunnel): wait
  if (bestSpdy && !bestWs && wsPendingAt !== undefined && wsPendingAt < bestSpdy.k && !final && !only) return null;
  if (bestSpdy && (!bestWs || bestSpdy.c.control > 0 || bestSpdy.c.covered >= bestWs.c.covered)) {
    return { protocol: 'spdy', start: bestSpdy.k, frames: bestSpdy.c.complete, sender: bestSpdy.c.sender };
  }
  if (bestWs) {
    // a SPDY stream still taking shape could be the better answer: wait for it
    if (pending && !final && !only && bestWs.c.complete < 2 * ENOUGH_FRAMES) return null;
    return { protocol: 'websocket', start: bestWs.k, frames: bestWs.c.complete, sender: bestWs.c.sender };
  }
  // A chain still taking shape waits for more bytes even past MAX_SCAN (that
  // bounds where a start is looked for, not how long its frames are): bulk
  // output comes in 32 KiB frames, so three whole frames need about 100 KiB.
  // The caller bounds the wait (it passes `final` at its sniff limit).
  if (pending && !final) return null;
  return buf.length >= MAX_SCAN || final ? 'none' : null;
}

/**
 * The tail of a cut frame can read as a SPDY DATA header (any non-zero
 * stream id, flags 0) whose length swallows the real frames after it and
 * still lands on a later boundary: the earliest accepted start is then
 * wrong. Real SPDY does not carry SPDY inside a frame, so a start inside the
 * first frame whose own chain has more whole frames wins.
 */
function laterSpdyStart(buf: Uint8Array, best: { k: number; c: Chain }, limit: number, final: boolean): { k: number; c: Chain } {
  const firstEnd = best.k + 8 + plausibleFrameLength(buf, best.k, MAX_SPDY_LENGTH);
  let out = best;
  for (let k = best.k + 1; k < Math.min(firstEnd, limit); k++) {
    const b0 = buf[k]!;
    if (!(b0 === 0x80 ? buf[k + 1] === 3 : b0 < 0x80 && (buf[k + 4] ?? 0) <= 1)) continue;
    const c = spdyChain(buf, k);
    if (!accepted(c, final, buf.length)) continue;
    // As many frames either way (the false header swallowed exactly the real one, as a Go
    // server's field-by-field writes make likely): the start whose stream id a Kubernetes
    // client could have opened wins.
    if (c.complete > out.c.complete || (c.complete === out.c.complete && kubernetesStreamId(buf, k) && !kubernetesStreamId(buf, out.k))) out = { k, c };
  }
  return out;
}

/** A DATA frame at `k` on an odd stream id below 2^16 (clients open every stream, ids count up from 1); control frames pass. */
function kubernetesStreamId(buf: Uint8Array, k: number): boolean {
  if (buf[k]! >= 0x80) return true;
  const id = ((buf[k]! << 24) | (buf[k + 1]! << 16) | (buf[k + 2]! << 8) | buf[k + 3]!) >>> 0;
  return id % 2 === 1 && id < 0x10000;
}

/**
 * Enough evidence for a frame start. Frames must chain from the start to the
 * end of the buffer, and the complete ones must cover most of it: random
 * bytes do chain a few "frames", but then one claims a length that swallows
 * the rest. At the end of input, fewer frames do.
 */
function accepted(c: Chain, final: boolean, length: number): boolean {
  // a start late in the buffer is too easy for random bytes: frames must span at least half of it
  if (!c.ok || c.span * 2 < length) return false;
  const covering = c.covered * 2 >= c.span || c.complete >= 8;
  if (c.complete >= ENOUGH_FRAMES && covering) return true;
  if (c.exact && (c.complete >= 2 || (c.complete >= 1 && c.control > 0))) return true;
  return final && c.complete > 0 && c.control > 0 && covering;
}

interface Chain {
  /** Every header from the start on was plausible, up to the end of the buffer. */
  ok: boolean;
  /** Frames wholly inside the buffer. */
  complete: number;
  /** Bytes of those frames. */
  covered: number;
  /** Bytes from the start to the end of the buffer. */
  span: number;
  /** SPDY control frames (the strongest signature); 0 for WebSocket. */
  control: number;
  /** The last frame ends exactly at the end of the buffer. */
  exact: boolean;
  sender: 'client' | 'server' | null;
}

/**
 * A TLS record header (handshake, alert, change cipher spec or application
 * data, version 3.x): an encrypted connection, nothing to decode.
 */
export function looksLikeTls(buf: Uint8Array): boolean {
  if (buf.length < 3) return false;
  const t = buf[0]!;
  return t >= 0x14 && t <= 0x17 && buf[1] === 0x03 && buf[2]! <= 0x04;
}

const NO_CHAIN: Chain = { ok: false, complete: 0, covered: 0, span: 0, control: 0, exact: false, sender: null };

function spdyChain(buf: Uint8Array, k: number): Chain {
  let i = k;
  let complete = 0;
  let control = 0;
  let sender: Chain['sender'] = null;
  while (i + 8 <= buf.length) {
    const len = plausibleFrameLength(buf, i, MAX_SPDY_LENGTH);
    if (len < 0) return NO_CHAIN;
    if (i + 8 + len > buf.length) break; // the last frame, cut by the end of the buffer
    if (buf[i]! >= 0x80) {
      control++;
      const type = buf[i + 3]!;
      if (type === 1 && i + 12 <= buf.length) sender ??= (buf[i + 11]! & 1) === 1 ? 'client' : 'server';
      if (type === 2) sender ??= 'server';
    }
    complete++;
    i += 8 + len;
  }
  return { ok: i > k || i + 8 > buf.length, complete, covered: i - k, span: buf.length - k, control, exact: i === buf.length, sender };
}

function wsChain(buf: Uint8Array, k: number): Chain {
  let i = k;
  let complete = 0;
  let strong = 0;
  let masked: boolean | null = null;
  for (;;) {
    if (i + 2 > buf.length) break;
    const b0 = buf[i]!;
    const b1 = buf[i + 1]!;
    const opcode = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    if ((b0 & 0x70) !== 0) return NO_CHAIN;
    if (!(opcode <= 2 || (opcode >= 8 && opcode <= 10))) return NO_CHAIN;
    const m = (b1 & 0x80) !== 0;
    if (masked !== null && m !== masked) return NO_CHAIN;
    masked = m;
    let len = b1 & 0x7f;
    let h = 2;
    if (len === 126) {
      if (i + 4 > buf.length) break;
      len = (buf[i + 2]! << 8) | buf[i + 3]!;
      if (len < 126) return NO_CHAIN;
      h = 4;
    } else if (len === 127) {
      if (i + 10 > buf.length) break;
      if (buf[i + 2] !== 0 || buf[i + 3] !== 0 || buf[i + 4] !== 0) return NO_CHAIN;
      len = buf[i + 5]! * 2 ** 32 + ((buf[i + 6]! << 24) >>> 0) + (buf[i + 7]! << 16) + (buf[i + 8]! << 8) + buf[i + 9]!;
      if (len < 65536) return NO_CHAIN;
      h = 10;
    }
    if (opcode >= 8 && (!fin || len > 125)) return NO_CHAIN;
    if (m) h += 4;
    if (i + h + len > buf.length) break; // the last frame, cut by the end of the buffer
    if (opcode !== 0 && fin) strong++;
    complete++;
    i += h + len;
  }
  const sender = masked === null ? null : masked ? 'client' : 'server';
  // WebSocket headers have no signature as strong as SPDY's control word: `control` stays 0
  return { ok: complete > 0 && strong > 0, complete, covered: i - k, span: buf.length - k, control: 0, exact: i === buf.length, sender };
}

/** Messages that all start with a channel byte of their direction before they are believed to be channel messages. */
const CHANNEL_EVIDENCE = 4;

/**
 * Joined WebSocket session: are the held payloads channel messages or a SPDY
 * byte stream? null = not sure yet.
 */
export function tunnelVerdict(bytes: Record<Direction, Uint8Array[]>, final: boolean): 'tunnel' | 'channels' | null {
  for (const x of ['clientToServer', 'serverToClient'] as const) {
    if (bytes[x].length === 0) continue;
    const g = guessFraming(concatBytes(bytes[x]), final);
    if (g !== null && g !== 'none' && g.protocol === 'spdy' && g.frames >= 2) return 'tunnel';
  }
  // Server messages of the channel protocols start with 1, 2 or 3 (or '1'–'3' in base64); the
  // server's side of a tunnel starts with a SPDY header byte (0x80, or 0x00 of a stream id) or
  // anything at all in the middle of a frame. Client bytes prove little: 4-byte SPDY pieces
  // often start with 0x00, which is also the stdin channel.
  let channelLike = 0;
  for (const p of bytes.serverToClient) {
    if (p.length === 0) continue;
    const b = p[0]!;
    if (!((b >= 1 && b <= 3) || (b >= 0x31 && b <= 0x33))) return final ? 'channels' : null;
    channelLike++;
  }
  if (channelLike >= CHANNEL_EVIDENCE || final) return 'channels';
  return null;
}

/** Bytes held until a frame start is found in them. */
export interface HeldBytes {
  chunks: Uint8Array[];
  bytes: number;
  /** Bytes held when frame starts were last looked for (undecided then). */
  guessedAt: number;
}

/**
 * Looking for frame starts costs time in the held bytes; while the answer is
 * "not sure yet", look again only once they doubled (so the total work stays
 * linear in the bytes held), or at the end, or past `limit`.
 */
export function worthGuessing(h: HeldBytes, final: boolean, limit: number): boolean {
  return final || h.guessedAt === 0 || h.bytes >= h.guessedAt * 2 || h.bytes >= limit;
}
