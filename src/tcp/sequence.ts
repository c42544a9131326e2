/**
 * TCP sequence numbers live modulo 2^32 (RFC 1982 serial arithmetic): the
 * distance from `a` to `b` is the signed 32-bit difference, valid while the
 * two are within 2^31 of each other.
 */

/** b − a as a signed 32-bit distance. */
export function seqDistance(a: number, b: number): number {
  return (b - a) | 0;
}

export function seqBefore(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}
