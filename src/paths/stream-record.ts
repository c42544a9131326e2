/**
 * What one direction of one stream at one hop leaves behind for linking:
 * its byte count, when its bytes were seen, its first bytes, and a bounded
 * grid of (byte offset → time, byte value) samples.
 *
 * Why these and nothing more:
 * - Equal streams are told by the summary's sha256 and byte count, which the
 *   decoder computes anyway. A stream cut short (a capture that ends early,
 *   a hop that stopped passing bytes) must still be recognised as a prefix
 *   of the longer one, and the sha256 of a whole stream says nothing about
 *   its prefixes. Hashing every prefix again would cost as much as the
 *   decoder's own digests (a second pass over every byte); instead the
 *   first `RAW_HEAD_BYTES` are kept as they are and the grid keeps one byte
 *   per step: a prefix is accepted when its first bytes and every sampled
 *   byte agree, which costs nothing per byte and stays bounded.
 * - The grid records, for byte offsets k·step, the time the byte was seen
 *   and its value. Two hops of one stream sample the same offsets (the step
 *   starts at `INITIAL_STEP` and only ever doubles), so delays are matched
 *   by byte offset, and the sampled byte values check the streams' content
 *   all along. Memory is bounded: past `2 · MAX_SAMPLES` points every other
 *   one is dropped and the step doubles.
 */

/** Bytes kept as they are at the start of a stream. */
export const RAW_HEAD_BYTES = 256;
/** Grid step at the start (bytes); it doubles as the stream grows. */
export const INITIAL_STEP = 64;
/** Grid points kept after a decimation; at most twice as many between two. */
export const MAX_SAMPLES = 512;

/** Grid points a record starts with (a 4 KiB stream at the initial step fills them exactly). */
const INITIAL_POINTS = 64;
/** Bytes of one record's starting arrays: times (8 B a point), values (2 B a point), the raw head. */
const RECORD_BYTES = INITIAL_POINTS * 8 + INITIAL_POINTS * 2 + RAW_HEAD_BYTES;
/** Records carved from one shared buffer. */
const RECORDS_PER_SLAB = 1024;

/**
 * The starting arrays of records come from shared slabs: a capture has a
 * record per stream direction, thousands of them, and a typed array of its
 * own costs an allocation outside the heap each (about 3 µs per record for
 * three arrays, measured), where a view on a slab costs a fraction of that.
 * A slab lives as long as any record on it; arrays that grow are their own.
 */
let slab: ArrayBuffer | null = null;
let slabUsed = RECORDS_PER_SLAB;

function carve(): number {
  if (slabUsed === RECORDS_PER_SLAB) {
    slab = new ArrayBuffer(RECORD_BYTES * RECORDS_PER_SLAB);
    slabUsed = 0;
  }
  return RECORD_BYTES * slabUsed++;
}

export class DirectionRecord {
  /** Bytes seen (the end of the last data event; a gap counts as seen). */
  bytes = 0;
  /** Time of the first and of the last data event (µs). */
  firstTime = NaN;
  lastTime = NaN;
  /** Bytes up to which the stream arrived without a gap. */
  contiguous = 0;
  /** The first RAW_HEAD_BYTES bytes (null until the stream's first byte is seen). */
  raw: Uint8Array | null = null;
  /** Grid step: point k is byte offset k·step. */
  step = INITIAL_STEP;
  /** Per grid point: time the byte was seen (NaN: not seen, a gap). */
  times: Float64Array;
  /** Per grid point: the byte's value (-1: not seen). */
  values: Int16Array;
  /** Grid points recorded. */
  points = 0;
  /** The raw head's place on the slab, taken when the first byte comes. */
  private readonly head: Uint8Array;
  /**
   * The capture lost bytes of this direction (`cut()`): the offsets of later
   * data may not be the stream's, so nothing more is sampled.
   */
  private lost = false;
  /** Stream offset where the frame being seen in pieces began (-1: none). */
  private pieceFrom = -1;
  /** The first time was set by that frame's pieces. */
  private pieceFirst = false;

  constructor() {
    const at = carve();
    this.times = new Float64Array(slab!, at, INITIAL_POINTS);
    this.values = new Int16Array(slab!, at + INITIAL_POINTS * 8, INITIAL_POINTS);
    this.head = new Uint8Array(slab!, at + INITIAL_POINTS * 10, RAW_HEAD_BYTES);
  }

  /**
   * Bytes [offset, offset + bytes.length) of the stream, seen at `time`.
   * `more` as on a `stream-data` event: pieces of one frame are recorded as
   * they come and, with the last, all take its time, as a whole frame would.
   */
  add(offset: number, bytes: Uint8Array, time: number, more?: boolean): void {
    const n = bytes.length;
    if (n === 0) return;
    if (more !== undefined && this.pieceFrom < 0) {
      this.pieceFrom = offset;
      this.pieceFirst = Number.isNaN(this.firstTime);
    }
    if (Number.isNaN(this.firstTime)) this.firstTime = time;
    this.lastTime = time;
    const end = offset + n;
    if (this.lost) {
      if (end > this.bytes) this.bytes = end;
      return;
    }
    if (offset === this.contiguous && offset < RAW_HEAD_BYTES) {
      this.raw ??= this.head;
      this.raw.set(bytes.subarray(0, RAW_HEAD_BYTES - offset), offset);
    }
    if (offset === this.contiguous) this.contiguous = end;
    if (end > this.bytes) this.bytes = end;
    this.sample(offset, bytes, time);
    if (more === false) this.settlePieces(time);
  }

  /**
   * The capture lost bytes of the stream's direction of the connection. A
   * DATA frame (or WebSocket message) the loss cut is dropped uncounted, so
   * the offsets of the bytes after it are short by its length: the record
   * keeps what it has (`contiguous` stays where it is) and samples no more.
   */
  cut(): void {
    if (this.pieceFrom >= 0) this.settlePieces(this.lastTime);
    this.lost = true;
  }

  /** The frame seen in pieces is whole at `time`: its points and times become that time. */
  private settlePieces(time: number): void {
    for (let k = Math.ceil(this.pieceFrom / this.step); k < this.points; k++) if (!Number.isNaN(this.times[k]!)) this.times[k] = time;
    if (this.pieceFirst) this.firstTime = time;
    this.pieceFrom = -1;
    this.pieceFirst = false;
  }

  /** Byte offset of grid point k. */
  offsetOf(k: number): number {
    return k * this.step;
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

/**
 * The length of the prefix both records share as far as they show (the
 * shorter's contiguous bytes), or -1 when their first bytes or a sampled
 * byte differ.
 */
export function verifiedPrefix(a: DirectionRecord, b: DirectionRecord): number {
  const n = Math.min(a.contiguous, b.contiguous);
  const head = Math.min(n, RAW_HEAD_BYTES);
  for (let i = 0; i < head; i++) if (a.raw![i] !== b.raw![i]) return -1;
  let same = true;
  commonPoints(a, b, (off, _ta, _tb, eq) => {
    if (off < n && !eq) same = false;
  });
  return same ? n : -1;
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
