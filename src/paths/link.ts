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
import {
  IDENTITY_DIFFERS,
  TIMING_SLACK_US,
  bytesPartial,
  bytesVerified,
  compareBytes,
  identityMask,
  identityResult,
  timingGap,
  type BytesResult,
  type IdentityResult,
  type TimingResult,
} from './evidence.js';
import { causalSamples, clockReport, estimateClocks, type FileClock } from './clock.js';
import { compareHops, hopSession, side, refOf, type HopSession } from './hop-session.js';
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
  const clocks0 = new Set<string>();
  for (const input of inputs) {
    const n = hopSession(input);
    if (n === null) continue;
    if (nodes.length && compareHops(nodes[nodes.length - 1]!, n) > 0) sorted = false;
    nodes.push(n);
    clocks0.add(n.clock);
  }
  // a decoder's summary lists sessions in order already
  if (!sorted) nodes.sort(compareHops);
  // the tie-break rank: equal (file, session) share one
  for (let k = 0; k < nodes.length; k++) nodes[k]!.order = k > 0 && compareHops(nodes[k - 1]!, nodes[k]!) === 0 ? nodes[k - 1]!.order : k;
  const files = [...clocks0].sort();
  const reference = files.find((f) => nodes.some((n) => n.clock === f && n.level === 0)) ?? files[0] ?? '';

  let clocks = new Map<string, FileClock & { links: number; samples: number }>();
  let links = chooseLinks(nodes, (file) => (file === reference || files.length === 1 ? NO_OFFSET : undefined), files.length === 1);
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
  const clockOf = (file: string) => (files.length === 1 ? NO_OFFSET : clocks.get(file));
  const paths = assemble(nodes, links, clockOf);
  const unlinked: SessionRef[] = [];
  for (const n of nodes) if (!n.inPath) unlinked.push(refOf(n));
  return { paths, clockOffsets: files.length > 1 ? clockReport(files, reference, clocks) : [], unlinked };
}

type ClockOf = (file: string) => FileClock | undefined;

/** The reference clock's offset, and every offset of a single file (read only). */
const NO_OFFSET: FileClock = { offsetUs: 0, uncertaintyUs: 0 };

function chooseLinks(nodes: HopSession[], clockOf: ClockOf, oneFile: boolean): ChosenLink[] {
  const byLevel: HopSession[][] = [[], [], []];
  for (const n of nodes) {
    byLevel[n.level]!.push(n);
    n.hasInner = false;
    n.hasOuter = false;
    n.runId = -1;
  }
  const chosen: ChosenLink[] = [];
  let runId = 0;
  // adjacent hops first; then hop 1 to hop 3 for what is left (a capture without the middle hop)
  for (const [lo, li] of [
    [0, 1],
    [1, 2],
    [0, 2],
  ] as const) {
    const outers = byLevel[lo]!.filter((n) => !n.hasInner);
    const inners = byLevel[li]!.filter((n) => !n.hasOuter);
    for (const n of outers) n.takenScore = -1;
    for (const n of inners) n.takenScore = -1;
    const cands = candidates(outers, inners, clockOf, oneFile);
    cands.sort(byStrength);
    const taken = new Uint8Array(cands.length);
    cands.forEach((c, k) => {
      if (c.o.hasInner || c.i.hasOuter) return;
      c.o.hasInner = true;
      c.i.hasOuter = true;
      c.o.takenScore = c.score;
      c.i.takenScore = c.score;
      taken[k] = 1;
    });
    // ambiguous: another candidate of either session, as strong, that nothing but time order put aside.
    // Candidates of one score are contiguous once sorted: per run, each session lists its candidates in it.
    for (let a = 0; a < cands.length; ) {
      let b = a + 1;
      while (b < cands.length && cands[b]!.score === cands[a]!.score) b++;
      runId++;
      if (b - a > 1) {
        for (let k = a; k < b; k++) {
          joinRun(cands[k]!.o, cands[k]!, runId);
          joinRun(cands[k]!.i, cands[k]!, runId);
        }
      }
      for (let k = a; k < b; k++) if (taken[k]) chosen.push(choose(cands[k]!, b - a > 1 ? runId : -1));
      a = b;
    }
  }
  return chosen;
}

function joinRun(n: HopSession, c: Candidate, runId: number): void {
  if (n.runId !== runId) {
    n.runId = runId;
    n.runFirst = c;
    n.runMore = null;
  } else (n.runMore ??= []).push(c);
}

/** A taken candidate as a link: its per-stream comparison, and the candidates as strong as it of its run (`runId`; -1: alone in its score). */
function choose(c: Candidate, runId: number): ChosenLink {
  // the per-stream comparison, for the links taken only
  c.bytes = compareBytes(c.o, c.i, true);
  const alternatives: SessionRef[] = [];
  const consider = (other: Candidate) => {
    if (other === c) return;
    const party = other.o === c.o ? other.i : other.o;
    // a session that went to a stronger match of its own is no alternative
    if (party.takenScore > c.score) return;
    if (!alternatives.some((r) => r.file === party.file && r.session === party.session)) alternatives.push(refOf(party));
  };
  if (runId >= 0) {
    // the outer's candidates, then the inner's
    consider(c.o.runFirst!);
    if (c.o.runMore) for (const other of c.o.runMore) consider(other);
    consider(c.i.runFirst!);
    if (c.i.runMore) for (const other of c.i.runMore) consider(other);
  }
  return {
    o: c.o,
    i: c.i,
    identity: c.identity,
    bytes: c.bytes,
    timing: c.timing,
    score: c.score,
    evidence: c.evidence,
    ambiguous: alternatives.length > 0,
    alternatives,
  };
}

/** Strongest first; equals in order of the inner hop's delay after the outer's request; then by (file, session) (input order never matters). */
function byStrength(a: Candidate, b: Candidate): number {
  return (
    b.score - a.score ||
    Math.abs(a.timing?.gapUs ?? Infinity) - Math.abs(b.timing?.gapUs ?? Infinity) ||
    a.o.order - b.o.order ||
    a.i.order - b.i.order
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
  return n.namespace !== null && n.pod !== null ? `${n.kind}\u0000${n.namespace}\u0000${n.pod}` : null;
}

/** The first bytes of each stream direction that has them (a cut capture still has its start). */
function signatures(n: HopSession): string[] {
  const out: string[] = [];
  for (const [name, st] of n.streams) {
    for (const d of st.directions) {
      const r = side(st, d).record;
      if (r && r.raw && r.contiguous >= SIGNATURE_BYTES) out.push(`${name}\u0000${d}\u0000${Buffer.from(r.raw.subarray(0, SIGNATURE_BYTES)).toString('hex')}`);
    }
  }
  return out;
}

/** Evidence lists per combination (bit 0 identity, 1 bytes, 2 timing), shared (read only; a path's link copies its own). */
const EVIDENCE: LinkEvidence[][] = Array.from({ length: 8 }, (_, m) => (['identity', 'bytes', 'timing'] as const).filter((_e, k) => m & (1 << k)));
/** The per-stream comparison of a candidate not taken: never read. */
const NO_STREAMS: BytesResult['streams'] = [];

/**
 * Weigh one pair; null when something rules it out or nothing speaks for it.
 * Nothing is allocated until the pair is a candidate: pairs are weighed by
 * the ten thousand and most are ruled out.
 */
export function weigh(o: HopSession, i: HopSession, clock: { shift: number; slack: number } | null): Candidate | null {
  if (o.kind !== i.kind) return null;
  const gapUs = clock ? timingGap(o, i, clock.shift, clock.slack) : NaN;
  if (clock && gapUs !== gapUs) return null;
  const mask = identityMask(o, i);
  if (mask === IDENTITY_DIFFERS) return null;
  const identity = identityResult(mask);
  const verified = bytesVerified(o, i);
  if (verified < 0) return null;
  const partial = bytesPartial;
  let evidence = 0;
  let score = 0;
  if (identity.matched) {
    evidence |= 1;
    score += 4 + identity.fields.length;
  }
  if (verified > 0) {
    evidence |= 2;
    score += partial ? 12 : 16;
  }
  if (clock) {
    evidence |= 4;
    score += 2;
  }
  if (evidence === 0) return null;
  const timing: TimingResult | null = clock ? { ok: true, nested: true, gapUs } : null;
  return { o, i, identity, bytes: { ok: true, streams: NO_STREAMS, verified, partial }, timing, score, evidence: EVIDENCE[evidence]! };
}

/** Chains of links, outermost hop first, numbered by the outermost hop's start on the reference clock; marks the sessions in a path. */
function assemble(nodes: HopSession[], links: ChosenLink[], clockOf: ClockOf): PathSummary[] {
  for (const n of nodes) {
    n.innerLink = null;
    n.hasOuter = false;
    n.inPath = false;
  }
  for (const l of links) {
    l.o.innerLink = l;
    l.i.hasOuter = true;
  }
  const chains: Array<{ hops: HopSession[]; links: ChosenLink[]; start: number }> = [];
  for (const n of nodes) {
    if (n.hasOuter || n.innerLink === null) continue;
    const hops = [n];
    const ls: ChosenLink[] = [];
    for (let l: ChosenLink | null = n.innerLink; l; l = l.i.innerLink) {
      hops.push(l.i);
      ls.push(l);
    }
    chains.push({ hops, links: ls, start: n.request - (clockOf(n.clock)?.offsetUs ?? 0) });
    for (const h of hops) h.inPath = true;
  }
  chains.sort((a, b) => a.start - b.start || (a.hops[0]!.order < b.hops[0]!.order ? -1 : 1));
  return chains.map((c, k) => buildPath(k + 1, c.hops, c.links, clockOf));
}

export { causalSamples };
