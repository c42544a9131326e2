/**
 * One path's summary from its linked hops: per hop its transport, set-up
 * time, bytes and throughput; per link its evidence and the delay it adds
 * (matched by byte offset); how the exit status travelled; where bytes
 * stopped.
 */
import type { Direction } from '../common/errors.js';
import type { FileClock } from './clock.js';
import { sharedDirections, side, streamOrder, type HopSession } from './hop-session.js';
import type { ChosenLink } from './link.js';
import type { DelayStats, PathHop, PathLink, PathStop, PathSummary } from './types.js';

export function buildPath(n: number, hops: HopSession[], links: ChosenLink[], clockOf: (file: string) => FileClock | undefined): PathSummary {
  const offset = (h: HopSession) => (clockOf(h.clock)?.offsetUs ?? null);
  const first = <T>(f: (h: HopSession) => T | null): T | null => {
    for (const h of hops) {
      const v = f(h);
      if (v !== null) return v;
    }
    return null;
  };
  const pathHops = hops.map((h) => pathHop(h, offset(h)));
  const pathLinks = links.map((l, k) => pathLink(l, k, shiftOf(l.o, l.i, clockOf)));
  return {
    path: n,
    kind: hops[0]!.kind,
    namespace: first((h) => h.namespace),
    pod: first((h) => h.pod),
    container: first((h) => h.container),
    command: first((h) => (h.command !== null ? h.s.command : null)) ?? [],
    tty: hops[0]!.tty,
    hops: pathHops,
    links: pathLinks,
    exit: exitTravel(hops, clockOf),
    stopped: stops(hops),
  };
}

/** µs to subtract from the inner session's times to put them on the outer's clock; null when not known. */
function shiftOf(o: HopSession, i: HopSession, clockOf: (file: string) => FileClock | undefined): number | null {
  if (o.clock === i.clock) return 0;
  const co = clockOf(o.clock);
  const ci = clockOf(i.clock);
  return co && ci ? ci.offsetUs - co.offsetUs : null;
}

function pathHop(h: HopSession, clockOffsetUs: number | null): PathHop {
  const streams: PathHop['streams'] = [];
  for (const name of h.names) {
    const st = h.streams.get(name)!;
    for (const d of st.directions) {
      const sd = side(st, d);
      const bytes = sd.bytes;
      if (bytes === 0 && st.directions.length > 1) continue;
      const r = sd.record;
      const span = r ? r.lastTime - r.firstTime : 0;
      streams.push({ stream: name, direction: d, bytes, bytesPerSecond: span > 0 ? Math.round((bytes * 1e6) / span) : null });
    }
  }
  const requestTime = h.requestTime;
  const upgradeTime = h.upgradeTime;
  return {
    hop: h.hop,
    file: h.file,
    session: h.session,
    connection: h.connection,
    kind: h.kind,
    transport: h.transport,
    protocol: h.protocol,
    client: h.client,
    server: h.server,
    clockOffsetUs: clockOffsetUs === null ? null : Math.round(clockOffsetUs),
    requestTime,
    upgradeTime,
    setupUs: requestTime !== null && upgradeTime !== null ? upgradeTime - requestTime : null,
    startTime: h.startTime,
    endTime: h.end,
    end: h.endReason,
    streams,
    exit: h.exit ? { status: h.exit.status, code: h.exit.code, message: h.exit.message, time: h.exitTime } : null,
    stalls: h.stalls.length ? h.stalls.map((x) => ({ ...x })) : [],
  };
}

function pathLink(l: ChosenLink, k: number, shift: number | null): PathLink {
  const evidence = l.evidence;
  const bytes = evidence.includes('bytes');
  const others = evidence.filter((e) => e !== 'bytes').length;
  let confidence: PathLink['confidence'] = bytes && others > 0 ? 'high' : bytes || others > 1 ? 'medium' : 'low';
  if (l.ambiguous) confidence = 'low';
  return {
    outer: k,
    inner: k + 1,
    confidence,
    evidence: [...evidence],
    why: why(l),
    partial: l.bytes.partial,
    ambiguous: l.ambiguous,
    alternatives: l.alternatives.length ? l.alternatives.map((r) => ({ ...r })) : [],
    streams: l.bytes.streams,
    delays: shift === null ? [] : delays(l.o, l.i, shift),
    exitTravelUs: shift !== null && l.o.exitTime !== null && l.i.exitTime !== null ? l.o.exitTime - (l.i.exitTime - shift) : null,
    sameClock: shift !== null,
  };
}

function why(l: ChosenLink): string {
  const parts: string[] = [];
  if (l.evidence.includes('identity')) parts.push(`identity: same ${l.identity.fields.join(', ')}`);
  if (l.evidence.includes('bytes')) {
    const s = l.bytes.streams
      .filter((c) => c.verifiedBytes > 0 || c.result === 'prefix')
      .map((c) => {
        // a port-forward data stream carries bytes both ways: say which
        const what = c.stream.startsWith('data') ? `${c.stream} ${c.direction === 'clientToServer' ? 'c→s' : 's→c'}` : c.stream;
        return c.result === 'prefix'
          ? `${what} a prefix (${c.verifiedBytes} B checked; ${c.innerBytes} B inner, ${c.outerBytes} B outer)`
          : `${what} ${c.verifiedBytes === c.outerBytes ? `${c.outerBytes} B equal` : `${c.outerBytes} B, first ${c.verifiedBytes} B equal`}`;
      });
    parts.push(`bytes: ${s.join(', ')}`);
  }
  if (l.evidence.includes('timing') && l.timing) parts.push(`timing: opened ${fmtUs(l.timing.gapUs)} after the outer request, within its life`);
  if (l.ambiguous) {
    parts.push(
      `cannot tell it from ${l.alternatives.map((r) => `session ${r.session}${r.file ? ` of ${r.file}` : ''}`).join(', ')}: the same evidence fits; taken in time order`,
    );
  }
  return parts.join('; ');
}

function fmtUs(us: number): string {
  return Math.abs(us) < 1000 ? `${Math.round(us)} µs` : `${(us / 1000).toFixed(1)} ms`;
}

/** Delays of one stream direction before sorting; reused, as a typed array of its own costs an allocation outside the heap per link. */
let scratch = new Float64Array(1024);

/** Delay per stream direction, from the hop that sent the bytes on to the next one. */
function delays(o: HopSession, i: HopSession, shift: number): DelayStats[] {
  const out: DelayStats[] = [];
  sharedDirections(o, i, (name, d, ro, ri) => {
    // the grid points both hold (commonPoints, inlined: this runs for every link)
    const step = Math.max(ro.step, ri.step);
    const ra = step / ro.step;
    const rb = step / ri.step;
    const count = Math.min(Math.ceil(ro.points / ra), Math.ceil(ri.points / rb));
    if (scratch.length < count) scratch = new Float64Array(Math.max(count, scratch.length * 2));
    const all = scratch;
    const sign = d === ('clientToServer' satisfies Direction) ? 1 : -1;
    let n = 0;
    for (let k = 0; k < count; k++) {
      const delta = ri.times[k * rb]! - shift - ro.times[k * ra]!;
      if (delta === delta) all[n++] = sign * delta; // NaN: a point one side did not see
    }
    if (n === 0) return;
    sortFirst(all, n);
    out.push({ stream: name, direction: d, samples: n, p50Us: Math.round(rank(all, n, 0.5)), p99Us: Math.round(rank(all, n, 0.99)), maxUs: Math.round(all[n - 1]!) });
  });
  return out;
}

/** Nearest-rank percentile of the first n sorted values. */
function rank(sorted: Float64Array, n: number, p: number): number {
  return sorted[Math.max(0, Math.ceil(p * n) - 1)]!;
}

/** Below this many values an insertion sort in place beats a view and the built-in sort (a grid holds up to 1,024 points; a 4 KiB stream 64). */
const INSERTION_SORT_MAX = 128;

/** Sort the first n values ascending, -0 before 0 as the built-in typed array sort orders them (no NaN: they are left out). */
function sortFirst(v: Float64Array, n: number): void {
  if (n > INSERTION_SORT_MAX) {
    v.subarray(0, n).sort();
    return;
  }
  for (let k = 1; k < n; k++) {
    const x = v[k]!;
    let j = k - 1;
    while (j >= 0 && (v[j]! > x || (v[j] === 0 && x === 0 && 1 / v[j]! > 1 / x))) {
      v[j + 1] = v[j]!;
      j--;
    }
    v[j + 1] = x;
  }
}

function exitTravel(hops: HopSession[], clockOf: (file: string) => FileClock | undefined): PathSummary['exit'] {
  let from = -1;
  let to = -1;
  for (let k = hops.length - 1; k >= 0; k--) if (hops[k]!.exit) (from = from < 0 ? k : from), (to = k);
  if (from < 0) return null;
  const inner = hops[from]!;
  const outer = hops[to]!;
  const ti = inner.exitTime;
  const tov = outer.exitTime;
  const shift = shiftOf(outer, inner, clockOf);
  return {
    status: inner.exit!.status,
    code: inner.exit!.code,
    from,
    to,
    travelUs: ti !== null && tov !== null && shift !== null && from !== to ? tov - (ti - shift) : null,
  };
}

/** Where each stream's bytes fell short of the hop before them, and windows at zero. */
function stops(hops: HopSession[]): PathStop[] {
  const out: PathStop[] = [];
  const names = hops.every((h) => h.names.length === hops[0]!.names.length && h.names.every((n, k) => n === hops[0]!.names[k]))
    ? hops[0]!.names
    : [...new Set(hops.flatMap((h) => h.names))].sort(streamOrder);
  for (const name of names) {
    let dirs: Direction[] = [];
    for (const h of hops) {
      const st = h.streams.get(name);
      if (st) {
        dirs = st.directions;
        break;
      }
    }
    for (const d of dirs) {
      // in the direction the bytes travel: inwards for what the client sends, outwards for the rest
      const inwards = d !== 'serverToClient';
      for (let j = 1; j < hops.length; j++) {
        const prevAt = inwards ? j - 1 : hops.length - j;
        const at = inwards ? j : hops.length - 1 - j;
        const cur = hops[at]!;
        const sp = hops[prevAt]!.streams.get(name);
        const sc = cur.streams.get(name);
        const pb = sp ? side(sp, d).bytes : 0;
        const cb = sc ? side(sc, d).bytes : 0;
        if (cb < pb) {
          out.push({ stream: name, direction: d, why: 'short', hop: at, bytes: cb, previousBytes: pb, captureEnded: cur.captureEnded, captureGaps: cur.gaps[d], stalledUs: null });
          break;
        }
      }
    }
    hops.forEach((h, k) => {
      const st = h.streams.get(name);
      if (!st) return;
      for (const stall of h.stalls) {
        if (stall.streamId !== st.summary.id) continue;
        // a window used up by the stream's last bytes, the sender then done (FIN): nothing waited
        if (stall.stalledUs === null && st.summary.halfClosed[stall.direction]) continue;
        out.push({ stream: name, direction: stall.direction, why: 'window-zero', hop: k, bytes: side(st, stall.direction).bytes, previousBytes: null, captureEnded: h.captureEnded, captureGaps: 0, stalledUs: stall.stalledUs });
      }
    });
  }
  return out;
}
