/**
 * Hostile transformations of a capture's TCP segments. Lossless ones keep
 * every byte of every direction present at least once (so the decode must be
 * exact); lossy ones remove bytes on purpose. All randomness comes from a
 * seeded generator, so a failing variant can be replayed from its seed.
 */
import { ACK, FIN, PSH, RST, SYN, type Seg } from './model.js';

export type Rng = () => number;

/** mulberry32: small, seedable, good enough to shuffle packets. */
export function rng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const int = (r: Rng, n: number) => Math.floor(r() * n);

export const dirKey = (s: Seg) => `${s.src}:${s.sport}>${s.dst}:${s.dport}`;
export const connKey = (s: Seg) => [`${s.src}:${s.sport}`, `${s.dst}:${s.dport}`].sort().join('|');

function cat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Every payload cut into pieces of at most `size` bytes (or sizes drawn from `sizes`), in order. */
export function resegment(segs: Seg[], size: number | ((r: Rng) => number), seed = 1): Seg[] {
  const r = rng(seed);
  const out: Seg[] = [];
  for (const s of segs) {
    if (s.payload.length <= 1) {
      out.push(s);
      continue;
    }
    const dataStart = (s.seq + (s.flags & SYN ? 1 : 0)) >>> 0;
    for (let o = 0; o < s.payload.length; ) {
      const n = Math.max(1, Math.min(s.payload.length - o, typeof size === 'number' ? size : size(r)));
      const first = o === 0;
      const last = o + n === s.payload.length;
      let flags = s.flags & ~(FIN | PSH | SYN);
      if (first) flags |= s.flags & SYN;
      if (last) flags |= s.flags & (FIN | PSH);
      out.push({ ...s, seq: first ? s.seq : (dataStart + o) >>> 0, flags, payload: s.payload.subarray(o, o + n) });
      o += n;
    }
  }
  return out;
}

/**
 * Packets shuffled inside consecutive windows of `window` packets. With
 * `keepHandshake`, every packet of a connection still comes after that
 * connection's SYNs (a capture that sees bytes before the SYN cannot know
 * where the stream starts).
 */
export function reorder(segs: Seg[], seed: number, window: number, keepHandshake = false): Seg[] {
  const r = rng(seed);
  let out = [...segs];
  for (let w = 0; w < out.length; w += window) {
    const end = Math.min(out.length, w + window);
    for (let i = end - 1; i > w; i--) {
      const j = w + int(r, i - w + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
  }
  if (keepHandshake) out = afterSyns(out);
  return out;
}

/**
 * Each direction's packets shuffled among themselves in windows of `window`
 * of that direction's packets, every packet keeping a slot its direction had:
 * the other direction's packets (and their ACKs) stay where they were, so an
 * ACK can come any number of packets before the bytes it acknowledges (a
 * direction that is quiet while the other sends). SYNs stay in place.
 */
export function reorderEachDirection(segs: Seg[], seed: number, window: number): Seg[] {
  const r = rng(seed);
  const slots = new Map<string, number[]>();
  segs.forEach((s, i) => {
    if (s.flags & SYN) return;
    const k = dirKey(s);
    slots.set(k, [...(slots.get(k) ?? []), i]);
  });
  const out = [...segs];
  for (const idx of slots.values()) {
    const moved = idx.map((i) => segs[i]!);
    for (let w = 0; w < moved.length; w += window) {
      const end = Math.min(moved.length, w + window);
      for (let i = end - 1; i > w; i--) {
        const j = w + int(r, i - w + 1);
        [moved[i], moved[j]] = [moved[j]!, moved[i]!];
      }
    }
    idx.forEach((slot, n) => (out[slot] = moved[n]!));
  }
  return out;
}

/** Stable fix-up: packets seen before the last SYN of their connection move right after it. */
function afterSyns(segs: Seg[]): Seg[] {
  const synsLeft = new Map<string, number>();
  for (const s of segs) if (s.flags & SYN) synsLeft.set(connKey(s), (synsLeft.get(connKey(s)) ?? 0) + 1);
  const held = new Map<string, Seg[]>();
  const out: Seg[] = [];
  for (const s of segs) {
    const k = connKey(s);
    const left = synsLeft.get(k) ?? 0;
    if (s.flags & SYN) {
      out.push(s);
      synsLeft.set(k, left - 1);
      if (left - 1 === 0) out.push(...(held.get(k) ?? []));
    } else if (left > 0) held.set(k, [...(held.get(k) ?? []), s]);
    else out.push(s);
  }
  return out;
}

/** Each payload-bearing segment, with probability `p`, sent again 1–`lag` packets later. */
export function duplicate(segs: Seg[], seed: number, p: number, lag = 8): Seg[] {
  const r = rng(seed);
  const later = new Map<number, Seg[]>();
  segs.forEach((s, i) => {
    if (s.payload.length > 0 && r() < p) {
      const at = i + 1 + int(r, lag);
      later.set(at, [...(later.get(at) ?? []), { ...s }]);
    }
  });
  return spliceLater(segs, later);
}

function spliceLater(segs: Seg[], later: Map<number, Seg[]>): Seg[] {
  const out: Seg[] = [];
  for (let i = 0; i <= segs.length; i++) {
    for (const x of later.get(i) ?? []) out.push(x);
    if (i < segs.length) out.push(segs[i]!);
  }
  return out;
}

/**
 * Overlapping retransmissions: for a share `p` of pairs of consecutive
 * segments in one direction, a segment spanning the tail of the first and
 * the head of the second (same bytes), placed before the first (an early
 * overlapping copy) or after the second (a late one).
 */
export function overlap(segs: Seg[], seed: number, p: number): Seg[] {
  const r = rng(seed);
  const lastByDir = new Map<string, number>();
  const before = new Map<number, Seg[]>();
  const after = new Map<number, Seg[]>();
  segs.forEach((s, i) => {
    if (s.payload.length === 0 || s.flags & (SYN | RST)) return;
    const k = dirKey(s);
    const pi = lastByDir.get(k);
    lastByDir.set(k, i);
    if (pi === undefined) return;
    const prev = segs[pi]!;
    if (((prev.seq + prev.payload.length) >>> 0) !== s.seq || r() >= p) return;
    const a = int(r, prev.payload.length);
    const b = 1 + int(r, s.payload.length);
    const span: Seg = {
      ...s,
      seq: (prev.seq + a) >>> 0,
      flags: ACK | PSH,
      payload: cat(prev.payload.subarray(a), s.payload.subarray(0, b)),
    };
    if (r() < 0.5) before.set(pi, [...(before.get(pi) ?? []), span]);
    else after.set(i + 1, [...(after.get(i + 1) ?? []), span]);
  });
  const out: Seg[] = [];
  segs.forEach((s, i) => {
    for (const x of after.get(i) ?? []) out.push(x);
    for (const x of before.get(i) ?? []) out.push(x);
    out.push(s);
  });
  for (const x of after.get(segs.length) ?? []) out.push(x);
  return out;
}

/**
 * Retransmissions with different content: a share `p` of payload segments
 * sent again right after, with every byte flipped. The first copy is what
 * the receiver took (it acknowledged it), so the decode stays exact and a
 * conflict is reported.
 */
export function conflict(segs: Seg[], seed: number, p: number): { segs: Seg[]; count: number } {
  const r = rng(seed);
  const out: Seg[] = [];
  let count = 0;
  for (const s of segs) {
    out.push(s);
    if (s.payload.length > 0 && !(s.flags & SYN) && r() < p) {
      out.push({ ...s, payload: s.payload.map((x) => x ^ 0xa5) });
      count++;
    }
  }
  return { segs: out, count };
}

/** IPv4 addresses to IPv6 (`127.0.0.1` → `::1`, others → `fd00::` + the 32 bits). */
export function toIpv6(segs: Seg[]): Seg[] {
  const map = (a: string) => {
    if (a.includes(':')) return a;
    if (a === '127.0.0.1') return '::1';
    const p = a.split('.').map(Number);
    return `fd00::${((p[0]! << 8) | p[1]!).toString(16)}:${((p[2]! << 8) | p[3]!).toString(16)}`;
  };
  return segs.map((s) => ({ ...s, src: map(s.src), dst: map(s.dst) }));
}

/** Every IPv4 address a.b.c.d becomes 10.`net`.c.d, so captures of loopback can share one file. */
export function renet(segs: Seg[], net: number): Seg[] {
  const map = (a: string) => {
    const p = a.split('.');
    return `10.${net}.${p[2]}.${p[3]}`;
  };
  return segs.map((s) => ({ ...s, src: map(s.src), dst: map(s.dst) }));
}

/** Every IPv4 address a.b.c.d becomes 10.(n / 256).(n % 256).d: room for 65,536 copies of a loopback capture. */
export function renetWide(segs: Seg[], n: number): Seg[] {
  const map = (a: string) => `10.${n >> 8}.${n & 255}.${a.split('.')[3]}`;
  return segs.map((s) => ({ ...s, src: map(s.src), dst: map(s.dst) }));
}

/** Several captures merged by time, each shifted to start at `t0` plus its index × `stagger` µs. */
export function interleave(lists: Seg[][], stagger = 137): Seg[] {
  const t0 = 1_800_000_000_000_000;
  const shifted = lists.map((l, k) => {
    const first = l[0]?.time ?? 0;
    return l.map((s) => ({ ...s, time: s.time - first + t0 + k * stagger }));
  });
  const all: Array<{ s: Seg; k: number; i: number }> = [];
  shifted.forEach((l, k) => l.forEach((s, i) => all.push({ s, k, i })));
  all.sort((a, b) => a.s.time - b.s.time || a.k - b.k || a.i - b.i);
  return all.map((x) => x.s);
}

/** Timestamps out of order: each packet's time moved by up to ±`spreadUs`, packet order unchanged. */
export function jitterTimes(segs: Seg[], seed: number, spreadUs: number): Seg[] {
  const r = rng(seed);
  return segs.map((s) => ({ ...s, time: Math.max(0, s.time + Math.round((r() * 2 - 1) * spreadUs)) }));
}

/** Packets (by index in the list) removed. */
export function drop(segs: Seg[], indexes: Iterable<number>): Seg[] {
  const gone = new Set(indexes);
  return segs.filter((_, i) => !gone.has(i));
}
