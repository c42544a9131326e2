/**
 * The three kinds of evidence that two sessions are hops of one path, each
 * able to rule a pair out: identity (the URL's namespace, pod, container and
 * command), bytes (per stream, equal or a prefix), timing (the inner hop
 * opens within its outer hop's life and closes around its end).
 */
import type { Direction } from '../common/errors.js';
import { side, streamOrder, type HopSession, type NamedStream } from './hop-session.js';
import { verifiedPrefix } from './stream-record.js';
import type { StreamComparison } from './types.js';

export interface IdentityResult {
  /** False: a field both know differs. */
  ok: boolean;
  /** Namespace and pod known to both and equal. */
  matched: boolean;
  /** Fields compared and equal. */
  fields: string[];
}

const IDENTITY_FIELDS = ['namespace', 'pod', 'container', 'command'] as const;
/** The `fields` answer per set of equal fields (bit k: IDENTITY_FIELDS[k]), shared: pairs are weighed by the thousand and nothing changes these. */
const FIELD_LISTS: string[][] = Array.from({ length: 16 }, (_, mask) => IDENTITY_FIELDS.filter((_f, k) => mask & (1 << k)));

/** The answer per set of equal fields when nothing differs, shared (read only): pairs are weighed by the thousand. */
const IDENTITY_OK: IdentityResult[] = FIELD_LISTS.map((fields, mask) => ({ ok: true, matched: (mask & 3) === 3, fields }));
/** identityMask's answer when a field both know differs. */
export const IDENTITY_DIFFERS = -1;

/**
 * The identity fields both sessions know and share, as a mask (bit k:
 * IDENTITY_FIELDS[k]), or IDENTITY_DIFFERS. No allocation: every weighed
 * pair asks, and most are ruled out by their bytes right after.
 */
export function identityMask(a: HopSession, b: HopSession): number {
  if (a.kind !== b.kind) return IDENTITY_DIFFERS;
  // per field: unknown on either side says nothing, a difference rules the pair out, equal counts
  let mask = 0;
  if (a.namespace !== null && b.namespace !== null) {
    if (a.namespace !== b.namespace) return IDENTITY_DIFFERS;
    mask |= 1;
  }
  if (a.pod !== null && b.pod !== null) {
    if (a.pod !== b.pod) return IDENTITY_DIFFERS;
    mask |= 2;
  }
  if (a.container !== null && b.container !== null) {
    if (a.container !== b.container) return IDENTITY_DIFFERS;
    mask |= 4;
  }
  if (a.command !== null && b.command !== null) {
    if (a.command !== b.command) return IDENTITY_DIFFERS;
    mask |= 8;
  }
  // a TTY session is one at every hop
  if (a.kind !== 'portforward' && a.tty !== b.tty) return IDENTITY_DIFFERS;
  return mask;
}

/** The shared answer for a mask from identityMask (read only). */
export function identityResult(mask: number): IdentityResult {
  return IDENTITY_OK[mask]!;
}

export interface BytesResult {
  /** False: some stream's content differs. */
  ok: boolean;
  /** Per stream direction (only with `detail`: weighing a pair needs the totals alone). */
  streams: StreamComparison[];
  /** Bytes shown equal, over all streams. */
  verified: number;
  /** Some stream matched only as a prefix. */
  partial: boolean;
}

const RESULTS = ['empty', 'equal', 'prefix', 'counts'] as const;
/** compareDirection's answer: a result code, or MISMATCH; the verified bytes go to `verifiedOut`. */
const MISMATCH = -1;
const EMPTY = 0;
const EQUAL = 1;
const PREFIX = 2;
const COUNTS = 3;

export function compareBytes(o: HopSession, i: HopSession, detail = false): BytesResult {
  // the usual case, both hops with the same streams, needs no merging
  const names = sameNames(o.names, i.names) ? o.names : [...new Set([...o.names, ...i.names])].sort(streamOrder);
  const streams: StreamComparison[] = [];
  let verified = 0;
  let partial = false;
  for (const name of names) {
    const so = o.streams.get(name);
    const si = i.streams.get(name);
    for (const d of (so ?? si)!.directions) {
      const r = compareDirection(so, si, d);
      if (r === MISMATCH) return { ok: false, streams, verified, partial };
      if (r === EMPTY) continue;
      verified += verifiedOut;
      if (r === PREFIX) partial = true;
      if (detail) {
        streams.push({
          stream: name,
          direction: d,
          outerBytes: so ? side(so, d).bytes : 0,
          innerBytes: si ? side(si, d).bytes : 0,
          result: RESULTS[r] as StreamComparison['result'],
          verifiedBytes: verifiedOut,
        });
      }
    }
  }
  return { ok: true, streams, verified, partial };
}

/** Some stream of the last bytesVerified matched only as a prefix. */
export let bytesPartial = false;

/**
 * compareBytes without the per-stream detail and without allocating: the
 * bytes shown equal over all streams, or -1 when some stream's content
 * differs; `bytesPartial` says whether a stream matched only as a prefix.
 */
export function bytesVerified(o: HopSession, i: HopSession): number {
  bytesPartial = false;
  const same = sameNames(o.names, i.names);
  const names = same ? o.names : [...new Set([...o.names, ...i.names])].sort(streamOrder);
  let verified = 0;
  for (let n = 0; n < names.length; n++) {
    const name = names[n]!;
    const so = o.streams.get(name);
    const si = i.streams.get(name);
    const dirs = (so ?? si)!.directions;
    for (let k = 0; k < dirs.length; k++) {
      const r = compareDirection(so, si, dirs[k]!);
      if (r === MISMATCH) return -1;
      if (r === EMPTY) continue;
      verified += verifiedOut;
      if (r === PREFIX) bytesPartial = true;
    }
  }
  return verified;
}

function sameNames(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

/** Bytes verified by the last compareDirection (no object per comparison: pairs are weighed by the thousand). */
let verifiedOut = 0;

/** One stream direction. */
function compareDirection(so: NamedStream | undefined, si: NamedStream | undefined, d: Direction): number {
  const ob = so ? side(so, d).bytes : 0;
  const ib = si ? side(si, d).bytes : 0;
  verifiedOut = 0;
  if (ob === 0 && ib === 0) return EMPTY;
  if (ob === ib) {
    const ho = side(so!, d).sha256;
    const hi = side(si!, d).sha256;
    if (ho !== null && hi !== null) {
      if (ho !== hi) return MISMATCH;
      verifiedOut = ob;
      return EQUAL;
    }
  }
  const ro = so ? side(so, d).record : null;
  const ri = si ? side(si, d).record : null;
  if (ob === ib) {
    if (!ro || !ri) return COUNTS;
    const p = verifiedPrefix(ro, ri);
    if (p < 0) return MISMATCH;
    verifiedOut = p;
    return EQUAL;
  }
  if (Math.min(ob, ib) === 0 || !ro || !ri) return PREFIX;
  const p = verifiedPrefix(ro, ri);
  if (p < 0) return MISMATCH;
  verifiedOut = p;
  return PREFIX;
}

/** µs a timing check allows for, on one clock. */
export const TIMING_SLACK_US = 2_000;
/** µs an inner hop may outlive its outer one (a proxy closes its upstream connection after its client's). */
export const END_SLACK_US = 500_000;

export interface TimingResult {
  ok: boolean;
  /** The inner hop's request came after the outer's, inside its life, and it ended around the outer's end. */
  nested: boolean;
  /** Inner request − outer request (µs, corrected). */
  gapUs: number;
}

/**
 * Timing: the inner request's delay after the outer's (µs, corrected), or
 * NaN when timing rules the pair out. `shift`: µs to subtract from the inner
 * session's times to put them on the outer's clock; `slack`: extra µs
 * allowed for an estimated offset. A number, not a result object: every
 * weighed pair asks.
 */
export function timingGap(o: HopSession, i: HopSession, shift: number, slack: number): number {
  const tol = TIMING_SLACK_US + slack;
  const iReq = i.request - shift;
  const gapUs = iReq - o.request;
  if (gapUs < -tol) return NaN;
  if (o.end !== null && !o.captureEnded && iReq > o.end + tol) return NaN;
  if (o.end !== null && !o.captureEnded && i.end !== null && !i.captureEnded && i.end - shift > o.end + END_SLACK_US + tol) return NaN;
  return gapUs;
}
