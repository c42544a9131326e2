/**
 * fast-check arbitraries for cutting a byte stream into chunks, so that a
 * streaming decoder can be checked to give the same result for every cut.
 */
import fc from 'fast-check';

/** Split `bytes` at the given cut positions (any order, duplicates allowed: empty chunks). */
export function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...cuts].map((c) => Math.max(0, Math.min(bytes.length, c))).sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}

/**
 * Arbitrary ways to cut a stream of `length` bytes: a sorted list of cut
 * positions. Shrinks towards fewer cuts. Includes 1-byte chunks and empty
 * chunks (repeated cut points).
 */
export function cutPoints(length: number, maxCuts = 64): fc.Arbitrary<number[]> {
  return fc
    .array(fc.integer({ min: 0, max: length }), { maxLength: maxCuts })
    .map((a) => a.sort((x, y) => x - y));
}

/** Arbitrary chunkings of a given byte string, as the list of chunks. */
export function chunkings(bytes: Uint8Array, maxCuts = 64): fc.Arbitrary<Uint8Array[]> {
  return fc.oneof(
    { weight: 4, arbitrary: cutPoints(bytes.length, maxCuts).map((c) => splitAt(bytes, c)) },
    // byte-at-a-time is the harshest case and worth trying often
    { weight: 1, arbitrary: fc.constant(null).map(() => Array.from(bytes, (_, i) => bytes.subarray(i, i + 1))) },
  );
}

/** Concatenate chunks into one buffer. */
export { concatBytes } from '../common/bytes.js';
