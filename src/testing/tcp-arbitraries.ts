/**
 * fast-check arbitraries for the ways a TCP byte stream reaches a capture:
 * cut into segments, reordered, duplicated, overlapped by retransmissions
 * that re-cut the stream differently, and with segments lost. Each piece
 * names its stream offset; turning offsets into sequence numbers (with any
 * initial sequence number, so wraparound is exercised) is up to the test.
 */
import fc from 'fast-check';

export interface StreamPiece {
  /** Offset of `bytes[0]` in the stream. */
  offset: number;
  bytes: Uint8Array;
}

export interface Segmentation {
  /** In the order the capture sees them. */
  pieces: StreamPiece[];
  /** Maximal byte ranges [start, end) of the stream that no piece covers (lost). */
  holes: [number, number][];
}

export interface SegmentationOptions {
  maxCuts?: number;
  /** Allow losing segments (default false: every byte is covered). */
  drop?: boolean;
  maxDuplicates?: number;
  maxOverlaps?: number;
}

/** Segmentations of `bytes`: cut, then some lost, some repeated, some re-sent with other boundaries, then shuffled. */
export function segmentations(bytes: Uint8Array, options: SegmentationOptions = {}): fc.Arbitrary<Segmentation> {
  const n = bytes.length;
  const maxCuts = options.maxCuts ?? 32;
  return fc
    .record({
      cuts: fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, n - 1) }), { maxLength: Math.min(maxCuts, n) }),
      dropMask: options.drop ? fc.array(fc.boolean(), { minLength: maxCuts + 1, maxLength: maxCuts + 1 }) : fc.constant([]),
      duplicates: fc.array(fc.nat(), { maxLength: options.maxDuplicates ?? 4 }),
      overlaps: fc.array(fc.tuple(fc.nat({ max: n }), fc.nat({ max: n })), { maxLength: options.maxOverlaps ?? 4 }),
      order: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 64, maxLength: 64 }),
    })
    .map(({ cuts, dropMask, duplicates, overlaps, order }) => {
      const points = [0, ...cuts.filter((c) => c > 0 && c < n).sort((a, b) => a - b), n];
      const segments: StreamPiece[] = [];
      for (let i = 0; i + 1 < points.length; i++) {
        const a = points[i]!;
        const b = points[i + 1]!;
        if (b > a) segments.push({ offset: a, bytes: bytes.subarray(a, b) });
      }
      const kept = segments.filter((_, i) => !dropMask[i]);
      const pieces = [...kept];
      for (const d of duplicates) if (kept.length > 0) pieces.push(kept[d % kept.length]!);
      // Re-sent ranges must not cover lost bytes, or they would not be lost.
      for (const [x, y] of overlaps) {
        const a = Math.min(x, y);
        const b = Math.max(x, y);
        if (b > a && covered(kept, a, b)) pieces.push({ offset: a, bytes: bytes.subarray(a, b) });
      }
      const keyed = pieces.map((p, i) => ({ p, k: order[i % order.length]! + i * 1e-9 }));
      keyed.sort((u, v) => u.k - v.k);
      return { pieces: keyed.map((x) => x.p), holes: holesOf(kept, n) };
    });
}

function covered(pieces: StreamPiece[], a: number, b: number): boolean {
  const sorted = [...pieces].sort((u, v) => u.offset - v.offset);
  let cur = a;
  for (const p of sorted) {
    if (p.offset > cur) break;
    cur = Math.max(cur, p.offset + p.bytes.length);
    if (cur >= b) return true;
  }
  return cur >= b;
}

/** Maximal uncovered ranges of [0, length). */
export function holesOf(pieces: readonly StreamPiece[], length: number): [number, number][] {
  const sorted = [...pieces].sort((u, v) => u.offset - v.offset);
  const holes: [number, number][] = [];
  let cur = 0;
  for (const p of sorted) {
    if (p.offset > cur) holes.push([cur, p.offset]);
    cur = Math.max(cur, p.offset + p.bytes.length);
  }
  if (cur < length) holes.push([cur, length]);
  return holes;
}

/** Any 32-bit initial sequence number, biased towards values just below 2^32 (wraparound). */
export function initialSequenceNumbers(): fc.Arbitrary<number> {
  return fc.oneof(
    fc.integer({ min: 0, max: 0xffffffff }),
    fc.integer({ min: 0xffffffff - 4096, max: 0xffffffff }),
  );
}
