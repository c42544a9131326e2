/**
 * linkPaths: sessions of different hops in, paths out.
 *
 * 1. Pairs (outer hop, inner hop) are proposed only where they can match:
 *    sessions whose lives overlap on a known clock, or, across files whose
 *    offset is not known yet, sessions that share their namespace and pod or
 *    the first bytes of a stream. Each pair is weighed (identity, bytes,
 *    timing); a contradiction in any rules it out.
 * 2. Pairs are taken best first, each session once per side. A pair whose
 *    equal could not be told apart is taken in time order and marked
 *    ambiguous, naming the other candidates.
 * 3. Across files, the first round links without timing; the links give
 *    each file's clock offset (clock.ts); the second round links again with
 *    corrected times, so timing is evidence everywhere.
 */
import { TIMING_SLACK_US, compareBytes, compareIdentity, compareTiming, type BytesResult, type IdentityResult, type TimingResult } from './evidence.js';
import { causalSamples, clockReport, estimateClocks, type FileClock } from './clock.js';
import { directionRecord, hopSession, type HopSession } from './hop-session.js';
import { buildPath } from './path-summary.js';
import type { LinkEvidence, PathSessionInput, PathsResult, PathSummary, SessionRef } from './types.js';

export interface Candidate {
  o: HopSession;
  i: HopSession;
  identity: IdentityResult;
  bytes: BytesResult;
  timing: TimingResult | null;
  score: number;
  evidence: LinkEvidence[];
}

export interface ChosenLink extends Candidate {
  ambiguous: boolean;
  alternatives: SessionRef[];
}

/** Time buckets for proposing pairs whose lives overlap (µs): about an exec's length, so a bucket holds few. */
const BUCKET_US = 10_000;
/** A session spanning more buckets than this (a minute) is proposed against every inner session instead. */
const MAX_BUCKETS = 6000;
/** Leading stream bytes that propose a pair across files. */
const SIGNATURE_BYTES = 16;

export function linkPaths(inputs: PathSessionInput[]): PathsResult {
  const nodes: HopSession[] = [];
  let sorted = true;
  for (const input of inputs) {
    const n = hopSession(input);
    if (n === null) continue;
    if (nodes.length && nodes[nodes.length - 1]!.key > n.key) sorted = false;
    nodes.push(n);
  }
  // a decoder's summary lists sessions in order already
  if (!sorted) nodes.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const files = [...new Set(nodes.map((n) => n.clock))].sort();
  const reference = files.find((f) => nodes.some((n) => n.clock === f && n.level === 0)) ?? files[0] ?? '';

  let clocks = new Map<string, FileClock & { links: number; samples: number }>();
  let links = chooseLinks(nodes, (file) => (file === reference || files.length === 1 ? { offsetUs: 0, uncertaintyUs: 0 } : undefined), files.length === 1);
  if (files.length > 1) {
    // the first round's links (unambiguous, across files) tie the clocks together
    clocks = estimateClocks(
      links.filter((l) => !l.ambiguous).map((l) => [l.o, l.i]),
      reference,
    );
    links = chooseLinks(nodes, (file) => clocks.get(file), false);
    const again = estimateClocks(
      links.filter((l) => !l.ambiguous).map((l) => [l.o, l.i]),
      reference,
    );
    if (again.size >= clocks.size) clocks = again;
  }
  const clockOf = (file: string) => (files.length === 1 ? { offsetUs: 0, uncertaintyUs: 0 } : clocks.get(file));
  const inPath = new Set<HopSession>();
  const paths = assemble(nodes, links, clockOf, inPath);
  const unlinked = nodes.filter((n) => !inPath.has(n)).map((n) => n.ref);
  return { paths, clockOffsets: files.length > 1 ? clockReport(files, reference, clocks) : [], unlinked };
}

type ClockOf = (file: string) => FileClock | undefined;

function chooseLinks(nodes: HopSession[], clockOf: ClockOf, oneFile: boolean): ChosenLink[] {
  const byLevel: HopSession[][] = [[], [], []];
  for (const n of nodes) byLevel[n.level]!.push(n);
  const chosen: ChosenLink[] = [];
  const hasInner = new Set<HopSession>();
  const hasOuter = new Set<HopSession>();
  // adjacent hops first; then hop 1 to hop 3 for what is left (a capture without the middle hop)
  for (const [lo, li] of [
    [0, 1],
    [1, 2],
    [0, 2],
  ] as const) {
    const outers = byLevel[lo]!.filter((n) => !hasInner.has(n));
    const inners = byLevel[li]!.filter((n) => !hasOuter.has(n));
    const cands = candidates(outers, inners, clockOf, oneFile);
    cands.sort(byStrength);
    const taken: Candidate[] = [];
    for (const c of cands) {
      if (hasInner.has(c.o) || hasOuter.has(c.i)) continue;
      hasInner.add(c.o);
      hasOuter.add(c.i);
      taken.push(c);
    }
    // ambiguous: another candidate of either session, as strong, that nothing but time order put aside
    const strongest = new Map<HopSession, Candidate[]>();
    for (const c of cands) {
      for (const n of [c.o, c.i]) {
        const l = strongest.get(n);
        if (l) l.push(c);
        else strongest.set(n, [c]);
      }
    }
    const takenScore = new Map<HopSession, number>();
    for (const c of taken) {
      takenScore.set(c.o, c.score);
      takenScore.set(c.i, c.score);
    }
    for (const c of taken) {
      // the per-stream comparison, for the links taken only
      c.bytes = compareBytes(c.o, c.i, true);
      const alternatives: SessionRef[] = [];
      for (const other of [...strongest.get(c.o)!, ...strongest.get(c.i)!]) {
        if (other === c || other.score !== c.score) continue;
        const party = other.o === c.o ? other.i : other.o;
        // a session that went to a stronger match of its own is no alternative
        if ((takenScore.get(party) ?? -1) > c.score) continue;
        const ref = party.ref;
        if (!alternatives.some((r) => r.file === ref.file && r.session === ref.session)) alternatives.push(ref);
      }
      chosen.push({
        o: c.o,
        i: c.i,
        identity: c.identity,
        bytes: c.bytes,
        timing: c.timing,
        score: c.score,
        evidence: c.evidence,
        ambiguous: alternatives.length > 0,
        alternatives,
      });
    }
  }
  return chosen;
}

/** Strongest first; equals in order of the inner hop's delay after the outer's request; then by key (input order never matters). */
function byStrength(a: Candidate, b: Candidate): number {
  return (
    b.score - a.score ||
    Math.abs(a.timing?.gapUs ?? Infinity) - Math.abs(b.timing?.gapUs ?? Infinity) ||
    (a.o.key < b.o.key ? -1 : a.o.key > b.o.key ? 1 : 0) ||
    (a.i.key < b.i.key ? -1 : a.i.key > b.i.key ? 1 : 0)
  );
}

const SAME_CLOCK = { shift: 0, slack: 0 };

/** Pairs worth weighing, weighed; contradicted ones left out. */
function candidates(outers: HopSession[], inners: HopSession[], clockOf: ClockOf, oneFile: boolean): Candidate[] {
  if (outers.length === 0 || inners.length === 0) return [];
  // outers by time bucket of their corrected life, for inners on a known clock
  const buckets = new Map<number, HopSession[]>();
  const everywhere: HopSession[] = [];
  let widest = 0;
  // outers by identity and by first bytes, for inners whose clock is not known relative to theirs
  const byIdentity = new Map<string, HopSession[]>();
  const bySignature = new Map<string, HopSession[]>();
  const add = <K>(m: Map<K, HopSession[]>, k: K, n: HopSession) => {
    const l = m.get(k);
    if (l) l.push(n);
    else m.set(k, [n]);
  };
  for (const o of outers) {
    o.seenBy = null;
    const c = clockOf(o.clock);
    if (c) {
      widest = Math.max(widest, c.uncertaintyUs);
      const from = Math.floor((o.request - c.offsetUs - c.uncertaintyUs) / BUCKET_US);
      const to = o.end === null || o.captureEnded ? Infinity : Math.floor((o.end - c.offsetUs + c.uncertaintyUs) / BUCKET_US);
      if (to - from > MAX_BUCKETS) everywhere.push(o);
      else for (let b = from; b <= to; b++) add(buckets, b, o);
    }
  }
  // across clocks not yet known: outers by identity and by first bytes
  const unknownClocks = !oneFile && (outers.some((o) => !clockOf(o.clock)) || inners.some((i) => !clockOf(i.clock)));
  if (unknownClocks) {
    for (const o of outers) {
      const id = identityKey(o);
      if (id) add(byIdentity, id, o);
      for (const sig of signatures(o)) add(bySignature, sig, o);
    }
  }
  const out: Candidate[] = [];
  for (const i of inners) {
    const ci = clockOf(i.clock);
    const consider = (o: HopSession) => {
      if (o.seenBy === i) return;
      o.seenBy = i;
      const co = clockOf(o.clock);
      const clock =
        o.clock === i.clock ? SAME_CLOCK : co && ci ? { shift: ci.offsetUs - co.offsetUs, slack: co.uncertaintyUs + ci.uncertaintyUs } : null;
      const c = weigh(o, i, clock);
      if (c) out.push(c);
    };
    if (ci) {
      // outers that began before this request and had not ended
      const at = i.request - ci.offsetUs;
      const slack = TIMING_SLACK_US + ci.uncertaintyUs + widest;
      for (let b = Math.floor((at - slack) / BUCKET_US); b <= Math.floor((at + slack) / BUCKET_US); b++) for (const o of buckets.get(b) ?? []) consider(o);
      for (const o of everywhere) consider(o);
    }
    if (!unknownClocks) continue;
    const id = identityKey(i);
    if (id) for (const o of byIdentity.get(id) ?? []) if (!clockOf(o.clock) || !ci) consider(o);
    for (const sig of signatures(i)) for (const o of bySignature.get(sig) ?? []) if (!clockOf(o.clock) || !ci) consider(o);
  }
  return out;
}

function identityKey(n: HopSession): string | null {
  return n.s.namespace !== null && n.s.pod !== null ? `${n.s.kind}\u0000${n.s.namespace}\u0000${n.s.pod}` : null;
}

/** The first bytes of each stream direction that has them (a cut capture still has its start). */
function signatures(n: HopSession): string[] {
  const out: string[] = [];
  for (const [name, st] of n.streams) {
    for (const d of st.directions) {
      const r = directionRecord(n, st, d);
      if (r && r.raw && r.contiguous >= SIGNATURE_BYTES) out.push(`${name}\u0000${d}\u0000${Buffer.from(r.raw.subarray(0, SIGNATURE_BYTES)).toString('hex')}`);
    }
  }
  return out;
}

/** Weigh one pair; null when something rules it out or nothing speaks for it. */
export function weigh(o: HopSession, i: HopSession, clock: { shift: number; slack: number } | null): Candidate | null {
  if (o.s.kind !== i.s.kind) return null;
  const timing = clock ? compareTiming(o, i, clock.shift, clock.slack) : null;
  if (timing && !timing.ok) return null;
  const identity = compareIdentity(o, i);
  if (!identity.ok) return null;
  const bytes = compareBytes(o, i);
  if (!bytes.ok) return null;
  const evidence: LinkEvidence[] = [];
  let score = 0;
  if (identity.matched) {
    evidence.push('identity');
    score += 4 + identity.fields.length;
  }
  if (bytes.verified > 0) {
    evidence.push('bytes');
    score += bytes.partial ? 12 : 16;
  }
  if (timing?.nested) {
    evidence.push('timing');
    score += 2;
  }
  if (evidence.length === 0) return null;
  return { o, i, identity, bytes, timing, score, evidence };
}

/** Chains of links, outermost hop first, numbered by the outermost hop's start on the reference clock. */
function assemble(nodes: HopSession[], links: ChosenLink[], clockOf: ClockOf, inPath: Set<HopSession>): PathSummary[] {
  const innerOf = new Map<HopSession, ChosenLink>();
  const linkedInner = new Set<HopSession>();
  for (const l of links) {
    innerOf.set(l.o, l);
    linkedInner.add(l.i);
  }
  const chains: Array<{ hops: HopSession[]; links: ChosenLink[] }> = [];
  for (const n of nodes) {
    if (linkedInner.has(n) || !innerOf.has(n)) continue;
    const hops = [n];
    const ls: ChosenLink[] = [];
    for (let l = innerOf.get(n); l; l = innerOf.get(l.i)) {
      hops.push(l.i);
      ls.push(l);
    }
    chains.push({ hops, links: ls });
    for (const h of hops) inPath.add(h);
  }
  const start = (h: HopSession) => h.request - (clockOf(h.clock)?.offsetUs ?? 0);
  chains.sort((a, b) => start(a.hops[0]!) - start(b.hops[0]!) || (a.hops[0]!.key < b.hops[0]!.key ? -1 : 1));
  return chains.map((c, k) => buildPath(k + 1, c.hops, c.links, clockOf));
}

export { causalSamples };
