/**
 * pcapng timestamps are a 64-bit count of units (two 32-bit words, high
 * first) whose size `if_tsresol` sets per interface. Counts in nanoseconds
 * exceed 2^53, so the conversion to microseconds splits the division to stay
 * exact without BigInt on the hot path.
 */

const TWO_32 = 4294967296;

/** Converts (high, low) unit counts to µs since the epoch. */
export type UnitsToMicros = (high: number, low: number) => number;

export interface TsResolution {
  /** Seconds per unit. */
  seconds: number;
  toMicros: UnitsToMicros;
}

/**
 * `if_tsresol` byte: high bit 0 → 10^-n s, high bit 1 → 2^-n s. Absent → µs.
 * `offsetSeconds` is `if_tsoffset`. Returns null for exponents libpcap rejects.
 */
export function tsResolution(tsresol: number | undefined, offsetSeconds = 0): TsResolution | null {
  const offUs = offsetSeconds * 1e6;
  const v = tsresol ?? 6;
  const n = v & 0x7f;
  if (v & 0x80) {
    if (n > 63) return null;
    const perUnitUs = 1e6 / 2 ** n;
    return { seconds: 2 ** -n, toMicros: (hi, lo) => (hi * TWO_32 + lo) * perUnitUs + offUs };
  }
  if (n > 19) return null;
  if (n <= 6) {
    const mul = 10 ** (6 - n);
    return { seconds: 10 ** -n, toMicros: (hi, lo) => (hi * TWO_32 + lo) * mul + offUs };
  }
  // units/D = hi·(2^32/D) + lo/D, with 2^32 = q·D + r: µs = hi·q + (hi·r + lo)/D.
  const d = 10 ** (n - 6);
  const q = Math.floor(TWO_32 / d);
  const r = TWO_32 - q * d;
  return { seconds: 10 ** -n, toMicros: (hi, lo) => hi * q + (hi * r + lo) / d + offUs };
}
