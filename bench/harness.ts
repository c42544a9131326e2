/**
 * Shared benchmark plumbing: every benchmark runs our code and a peer on the
 * same prebuilt input in this one process and reports the ratio.
 */
import { cpus } from 'node:os';

export interface BenchResult {
  /** e.g. "spdy decode DATA 16KiB". */
  name: string;
  /** Unit of `ours` and `peer`, e.g. "frames/s", "MB/s". */
  unit: string;
  ours: number;
  /** The peer's figure in the same unit; null when no peer applies. */
  peer: number | null;
  /** Name of the peer (e.g. "spdy-transport", "ws", "tshark"). */
  peerName?: string;
  /** ours / peer for throughput units (higher is better); null without a peer. */
  ratio: number | null;
  /** Optional target, e.g. ">= 5x". */
  target?: string;
  /** Extra facts worth printing (peak memory, bytes right, …). */
  notes?: string;
}

export interface Bench {
  /** Short group name, also usable as a filter: `npm run bench -- spdy`. */
  group: string;
  run(): Promise<BenchResult[]>;
}

/**
 * Run `fn` repeatedly for at least `minMs` (after a warm-up) and return
 * operations per second, where one call of `fn` performs `opsPerCall` ops.
 * Takes the best of `rounds` rounds to damp noise from the other core.
 */
export async function opsPerSecond(
  fn: () => unknown | Promise<unknown>,
  opsPerCall: number,
  { minMs = 400, rounds = 3, warmupMs = 150 } = {},
): Promise<number> {
  const runFor = async (ms: number): Promise<number> => {
    let calls = 0;
    const start = process.hrtime.bigint();
    const limit = BigInt(Math.round(ms * 1e6));
    let elapsed = 0n;
    do {
      const r = fn();
      if (r instanceof Promise) await r;
      calls++;
      elapsed = process.hrtime.bigint() - start;
    } while (elapsed < limit);
    return (calls * opsPerCall) / (Number(elapsed) / 1e9);
  };
  await runFor(warmupMs);
  let best = 0;
  for (let i = 0; i < rounds; i++) {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc) gc();
    best = Math.max(best, await runFor(minMs));
  }
  return best;
}

export function result(
  name: string,
  unit: string,
  ours: number,
  peer: number | null,
  extra: Partial<BenchResult> = {},
): BenchResult {
  return { name, unit, ours, peer, ratio: peer ? ours / peer : null, ...extra };
}

export function machineName(): string {
  const c = cpus();
  return `${c[0]?.model ?? 'unknown cpu'} × ${c.length}, node ${process.version}`;
}
