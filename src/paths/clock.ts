/**
 * Clock offsets between capture files, estimated from linked sessions the
 * way NTP does: anything that travels from an outer hop to an inner one (the
 * upgrade request, stdin bytes) arrives after it left, and anything that
 * travels back (stdout and stderr bytes, the exit status) too. With θ the
 * inner file's clock minus the outer's, a forward sample is delay + θ and a
 * backward one delay − θ; the fastest of each bounds θ from both sides, so
 * θ ≈ (min forward − min backward) / 2, within ± (min forward + min backward) / 2.
 */
import type { Direction } from '../common/errors.js';
import { sharedDirections, type HopSession } from './hop-session.js';
import { commonPoints } from './stream-record.js';
import type { ClockOffset } from './types.js';

export interface FileClock {
  offsetUs: number;
  uncertaintyUs: number;
}

interface PairSamples {
  /** Min of (b clock − a clock) over a→b travels, and of (a − b) over b→a travels, for files a < b. */
  forward: number;
  backward: number;
  links: number;
  samples: number;
}

/** Causal samples of one linked pair, on their own clocks: forward (outer → inner) and backward. */
export function causalSamples(o: HopSession, i: HopSession, fn: (direction: 'forward' | 'backward', us: number) => void): void {
  if (o.requestTime !== null && i.requestTime !== null) fn('forward', i.requestTime - o.requestTime);
  if (o.exitTime !== null && i.exitTime !== null) fn('backward', o.exitTime - i.exitTime);
  sharedDirections(o, i, (_name, d, ro, ri) => {
    const forward = d === ('clientToServer' satisfies Direction);
    commonPoints(ro, ri, (_off, to, ti) => (forward ? fn('forward', ti - to) : fn('backward', to - ti)));
  });
}

/**
 * Offsets of every file to the reference file, from linked pairs whose
 * sessions are in different files. Files no link ties to the reference get
 * no entry.
 */
export function estimateClocks(pairs: Array<[HopSession, HopSession]>, reference: string): Map<string, FileClock & { links: number; samples: number }> {
  const byPair = new Map<string, PairSamples & { a: string; b: string }>();
  for (const [o, i] of pairs) {
    if (o.clock === i.clock) continue;
    const flip = o.clock > i.clock;
    const a = flip ? i.clock : o.clock;
    const b = flip ? o.clock : i.clock;
    const k = `${a}\u0000${b}`;
    let p = byPair.get(k);
    if (!p) byPair.set(k, (p = { a, b, forward: Infinity, backward: Infinity, links: 0, samples: 0 }));
    p.links++;
    causalSamples(o, i, (dir, us) => {
      // outer→inner is a→b unless the outer session is in b
      const aToB = (dir === 'forward') !== flip;
      if (aToB) p.forward = Math.min(p.forward, us);
      else p.backward = Math.min(p.backward, us);
      p.samples++;
    });
  }
  const out = new Map<string, FileClock & { links: number; samples: number }>();
  out.set(reference, { offsetUs: 0, uncertaintyUs: 0, links: 0, samples: 0 });
  // breadth first from the reference, over pairs that bound the offset from both sides
  const queue = [reference];
  while (queue.length) {
    const f = queue.shift()!;
    const base = out.get(f)!;
    for (const p of [...byPair.values()].sort((x, y) => (x.a + x.b < y.a + y.b ? -1 : 1))) {
      if (!Number.isFinite(p.forward) || !Number.isFinite(p.backward)) continue;
      const other = p.a === f ? p.b : p.b === f ? p.a : null;
      if (other === null || out.has(other)) continue;
      const theta = (p.forward - p.backward) / 2; // b's clock − a's
      const half = Math.max(0, (p.forward + p.backward) / 2);
      const offsetUs = base.offsetUs + (p.a === f ? theta : -theta);
      out.set(other, { offsetUs, uncertaintyUs: base.uncertaintyUs + half, links: p.links, samples: p.samples });
      queue.push(other);
    }
  }
  return out;
}

/** The report: every file, with its offset when known. */
export function clockReport(files: string[], reference: string, clocks: Map<string, FileClock & { links: number; samples: number }>): ClockOffset[] {
  return files.map((file) => {
    const c = clocks.get(file);
    return {
      file,
      reference,
      offsetUs: c ? Math.round(c.offsetUs) : null,
      uncertaintyUs: c ? Math.round(c.uncertaintyUs) : null,
      links: c?.links ?? 0,
      samples: c?.samples ?? 0,
    };
  });
}
