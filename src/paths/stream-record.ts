/**
 * What one direction of one stream at one hop leaves behind for linking:
 * its byte count, when its bytes were seen, digests of its first bytes, and
 * a bounded grid of (byte offset → time, byte value) samples.
 *
 * Why these and nothing more:
 * - Equal streams are told by the summary's sha256 and byte count. A stream
 *   cut short (a capture that ends early, a hop that stopped passing bytes)
 *   must still be recognised as a prefix of the longer one: the sha256 of a
 *   whole stream says nothing about its prefixes, so the first
 *   `HEAD_BYTES` are hashed again with a digest kept at every power of two
 *   from `FIRST_CHECKPOINT`, and the first `RAW_HEAD_BYTES` are kept as they
 *   are. A prefix of any length is then checked at the largest checkpoint
 *   both streams reached, at the cost of hashing 64 KiB once per stream.
 * - The grid records, for byte offsets k·step, the time the byte was seen
 *   and its value. Two hops of one stream sample the same offsets (the step
 *   starts at `INITIAL_STEP` and only ever doubles), so delays are matched
 *   by byte offset, and the sampled byte values check the streams' content
 *   beyond the hashed head. Memory is bounded: past `2 · MAX_SAMPLES`
 *   points every other one is dropped and the step doubles.
 */
import { createHash, type Hash } from 'node:crypto';

/** Bytes at the start of a stream whose prefix digests are kept. */
export const HEAD_BYTES = 64 * 1024;
/** Bytes kept as they are (prefixes shorter than the first checkpoint). */
export const RAW_HEAD_BYTES = 256;
/** The first prefix digest; the next ones at 2×, 4×, … up to HEAD_BYTES. */
export const FIRST_CHECKPOINT = 512;
/** Grid step at the start (bytes); it doubles as the stream grows. */
export const INITIAL_STEP = 16;
/** Grid points kept after a decimation; at most twice as many between two. */
export const MAX_SAMPLES = 512;

export class DirectionRecord {
  /** Bytes seen (the end of the last data event; a gap counts as seen). */
  bytes = 0;
  /** Time of the first and of the last data event (µs). */
  firstTime = NaN;
  lastTime = NaN;
  /** Bytes up to which the stream arrived without a gap (the head digests cover only those). */
  contiguous = 0;
  /** The first RAW_HEAD_BYTES bytes. */
  raw: Uint8Array | null = null;
  /** Hex sha256 of the first FIRST_CHECKPOINT·2^i bytes. */
  readonly checkpoints: string[] = [];
  /** Grid step: point k is byte offset k·step. */
  step = INITIAL_STEP;
  /** Per grid point: time the byte was seen (NaN: not seen, a gap). */
  times = new Float64Array(64);
  /** Per grid point: the byte's value (-1: not seen). */
  values = new Int16Array(64);
  /** Grid points recorded. */
  points = 0;
  private hash: Hash | null = null;
  private headDigest: string | null = null;

  /** Bytes [offset, offset + bytes.length) of the stream, seen at `time`. */
  add(offset: number, bytes: Uint8Array, time: number): void {
    const n = bytes.length;
    if (n === 0) return;
    if (Number.isNaN(this.firstTime)) this.firstTime = time;
    this.lastTime = time;
    const end = offset + n;
    if (offset === this.contiguous && this.contiguous < HEAD_BYTES) this.head(bytes);
    if (offset === this.contiguous) this.contiguous = end;
    if (end > this.bytes) this.bytes = end;
    this.sample(offset, bytes, time);
  }

  /** sha256 of the first min(contiguous, HEAD_BYTES) bytes. */
  headSha256(): string {
    if (this.headDigest !== null) return this.headDigest;
    const d = (this.hash ? this.hash.copy() : createHash('sha256')).digest('hex');
    if (this.contiguous >= HEAD_BYTES) this.headDigest = d;
    return d;
  }

  /** Byte offset of grid point k. */
  offsetOf(k: number): number {
    return k * this.step;
  }

  private head(bytes: Uint8Array): void {
    let at = this.contiguous;
    if (at < RAW_HEAD_BYTES) {
      this.raw ??= new Uint8Array(RAW_HEAD_BYTES);
      const take = Math.min(RAW_HEAD_BYTES - at, bytes.length);
      this.raw.set(bytes.subarray(0, take), at);
    }
    const h = (this.hash ??= createHash('sha256'));
    let i = 0;
    while (i < bytes.length && at < HEAD_BYTES) {
      const next = FIRST_CHECKPOINT << this.checkpoints.length;
      const take = Math.min(bytes.length - i, next - at);
      h.update(bytes.subarray(i, i + take));
      i += take;
      at += take;
      if (at === next) this.checkpoints.push(h.copy().digest('hex'));
    }
  }

  private sample(offset: number, bytes: Uint8Array, time: number): void {
    const end = offset + bytes.length;
    // An event larger than the grid holds: coarsen first, so no event adds more than MAX_SAMPLES points.
    while (bytes.length / this.step > MAX_SAMPLES) this.decimate();
    let k = Math.max(this.points, Math.ceil(offset / this.step));
    // Points skipped by a gap are marked unseen.
    while (this.points < k) this.push(NaN, -1);
    for (; k * this.step < end; k++) this.push(time, bytes[k * this.step - offset]!);
    if (this.points >= 2 * MAX_SAMPLES) this.decimate();
  }

  private push(time: number, value: number): void {
    if (this.points === this.times.length) {
      const t = new Float64Array(this.times.length * 2);
      t.set(this.times);
      this.times = t;
      const v = new Int16Array(this.values.length * 2);
      v.set(this.values);
      this.values = v;
    }
    this.times[this.points] = time;
    this.values[this.points] = value;
    this.points++;
  }

  /** Keep the even points (offsets that are multiples of the doubled step). */
  private decimate(): void {
    let j = 0;
    for (let i = 0; i < this.points; i += 2, j++) {
      this.times[j] = this.times[i]!;
      this.values[j] = this.values[i]!;
    }
    this.points = j;
    this.step *= 2;
  }
}

/** The longest prefix both records show to be equal, or -1 when their first bytes differ. */
export function verifiedPrefix(a: DirectionRecord, b: DirectionRecord): number {
  const n = Math.min(a.contiguous, b.contiguous);
  if (n === 0) return 0;
  if (n <= RAW_HEAD_BYTES) {
    for (let i = 0; i < n; i++) if (a.raw![i] !== b.raw![i]) return -1;
    return n;
  }
  // Equal lengths within the head: the whole head digests decide.
  if (a.contiguous === b.contiguous && n <= HEAD_BYTES) return a.headSha256() === b.headSha256() ? n : -1;
  let i = Math.min(a.checkpoints.length, b.checkpoints.length) - 1;
  if (i < 0) {
    for (let k = 0; k < RAW_HEAD_BYTES; k++) if (a.raw![k] !== b.raw![k]) return -1;
    return RAW_HEAD_BYTES;
  }
  if (a.checkpoints[i] === b.checkpoints[i]) return FIRST_CHECKPOINT << i;
  return -1;
}

/**
 * Grid points both records hold, on the coarser of the two grids: calls
 * `fn(offset, timeA, timeB, sameValue)` for each point seen at both.
 */
export function commonPoints(
  a: DirectionRecord,
  b: DirectionRecord,
  fn: (offset: number, timeA: number, timeB: number, sameValue: boolean) => void,
): void {
  const step = Math.max(a.step, b.step);
  const ra = step / a.step;
  const rb = step / b.step;
  for (let k = 0; ; k++) {
    const ia = k * ra;
    const ib = k * rb;
    if (ia >= a.points || ib >= b.points) return;
    const ta = a.times[ia]!;
    const tb = b.times[ib]!;
    if (Number.isNaN(ta) || Number.isNaN(tb)) continue;
    fn(k * step, ta, tb, a.values[ia] === b.values[ib]);
  }
}
