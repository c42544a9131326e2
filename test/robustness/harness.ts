/**
 * Decode capture bytes the way `kubewire decode` does (capture → TCP →
 * sessions), keeping what the checks need: the summary, every diagnostic,
 * and every stream's application bytes per direction. Plus the fixtures with
 * their ground truth, and a comparison of sessions against a truth that
 * returns the differences as text (so property tests can report them).
 */
import { createHash } from 'node:crypto';
import type { Direction } from '../../src/common/errors.js';
import { CaptureDecoder, type DecodeSummary as CaptureSummary } from '../../src/tcp/index.js';
import { SessionDecoder, type DecodeSummary, type SessionSummary, type TimelineEvent } from '../../src/timeline/index.js';
import type { TlsKeyLog } from '../../src/tls/keylog.js';
import { readModel, type CaptureModel } from './model.js';
import { fixtureTruths, type FixtureTruth, type StreamTruth } from '../helpers/fixture-truths.js';

export interface Fixture {
  name: string;
  path: string;
  truth: FixtureTruth;
  model: CaptureModel;
}

let cache: Fixture[] | null = null;

export function fixtures(): Fixture[] {
  if (cache) return cache;
  cache = [];
  for (const { capture, truth } of fixtureTruths()) cache.push({ name: truth.name, path: capture, truth, model: readModel(capture) });
  return cache;
}

/** Small fixtures (everything but the multi-MiB transfer), for the expensive variants. */
export function smallFixtures(): Fixture[] {
  return fixtures().filter((f) => f.model.file.length < 200_000);
}

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export interface Decoded {
  summary: DecodeSummary;
  capture: CaptureSummary;
  diagnostics: Array<{ code: string; message: string; connection: number; layer: string }>;
  /** `${session}/${streamId}/${direction}` → application bytes, in decode order. */
  streams: Map<string, Uint8Array>;
  /** The decode threw (it never should in inspect mode). */
  threw: unknown;
}

export const streamKey = (session: number, id: number, d: Direction) => `${session}/${id}/${d}`;

export function decodeBytes(file: Uint8Array, opts: { chunk?: number; keepBytes?: boolean; tlsKeys?: TlsKeyLog } = {}): Decoded {
  const dec = new SessionDecoder({ frameEvents: false, tlsKeys: opts.tlsKeys ?? null });
  const diagnostics: Decoded['diagnostics'] = [];
  const parts = new Map<string, Uint8Array[]>();
  const keep = opts.keepBytes ?? true;
  const take = (events: TimelineEvent[]) => {
    for (const ev of events) {
      if (ev.kind === 'diagnostic') diagnostics.push({ code: ev.error.code, message: ev.error.message, connection: ev.connection, layer: ev.error.layer });
      else if (ev.kind === 'stream-data' && keep) {
        const k = streamKey(ev.session, ev.streamId, ev.direction);
        let l = parts.get(k);
        if (!l) parts.set(k, (l = []));
        l.push(ev.bytes.slice());
      }
    }
  };
  const cap = new CaptureDecoder((e) => take(dec.push(e)));
  let threw: unknown = null;
  try {
    const step = opts.chunk ?? file.length;
    for (let o = 0; o < file.length && !cap.done; o += step) cap.push(file.subarray(o, o + step));
    cap.end();
    take(dec.finish());
  } catch (e) {
    threw = e;
  }
  const streams = new Map<string, Uint8Array>();
  for (const [k, l] of parts) streams.set(k, Buffer.concat(l));
  return { summary: dec.summary(), capture: cap.summary, diagnostics, streams, threw };
}

/** Our streams matched to the truth's by role, in id order within a role (as test/timeline/fixtures does). */
export function matchStreams(
  ours: SessionSummary['streams'],
  truth: StreamTruth[],
): Array<[StreamTruth, SessionSummary['streams'][number] | undefined]> {
  const pool = [...ours].sort((a, b) => a.id - b.id);
  return truth.map((t) => {
    const i = pool.findIndex((s) => s.role === t.role && (t.requestId === undefined || s.requestId === undefined || s.requestId === t.requestId));
    return [t, i >= 0 ? pool.splice(i, 1)[0] : undefined];
  });
}

/** Differences between decoded sessions and the truth's, as text; [] when exact. */
export function truthProblems(sessions: SessionSummary[], truth: FixtureTruth, label = truth.name): string[] {
  const out: string[] = [];
  const got = sessions.map((s) => s.transport).join(',');
  const want = truth.sessions.map((s) => s.transport).join(',');
  if (got !== want) return [`${label}: sessions ${got || '(none)'} ≠ truth ${want}`];
  truth.sessions.forEach((t, i) => {
    const s = sessions[i]!;
    const where = `${label} session ${i + 1}`;
    if (!truth.midSession) {
      if (s.kind !== t.kind) out.push(`${where}: kind ${s.kind} ≠ ${t.kind}`);
      if (s.protocol !== t.protocol) out.push(`${where}: protocol ${s.protocol} ≠ ${t.protocol}`);
      if (t.tty !== undefined && s.tty !== t.tty) out.push(`${where}: tty ${s.tty}`);
      if (s.inferred) out.push(`${where}: inferred`);
    }
    if (t.resizes && JSON.stringify(s.resizes) !== JSON.stringify(t.resizes)) out.push(`${where}: resizes ${JSON.stringify(s.resizes)}`);
    if (t.exit !== undefined) {
      const e = s.exit === null ? null : { status: s.exit.status, code: s.exit.code };
      const te = t.exit === null ? null : { status: t.exit.status, code: t.exit.code };
      if (JSON.stringify(e) !== JSON.stringify(te)) out.push(`${where}: exit ${JSON.stringify(e)} ≠ ${JSON.stringify(te)}`);
    }
    const pairs = matchStreams(s.streams, t.streams);
    for (const [ts, os] of pairs) {
      const sw = `${where} ${ts.role}${ts.requestId !== undefined ? ` #${ts.requestId}` : ''}`;
      if (!os) {
        out.push(`${sw}: missing`);
        continue;
      }
      for (const d of ['clientToServer', 'serverToClient'] as const) {
        if (os[d].bytes !== ts[d].bytes || os[d].sha256 !== ts[d].sha256) out.push(`${sw} ${d}: ${os[d].bytes} B ≠ truth ${ts[d].bytes} B`);
      }
      if (ts.port !== undefined && os.port !== ts.port) out.push(`${sw}: port ${os.port}`);
    }
    const matched = new Set(pairs.map(([, o]) => o));
    for (const x of s.streams) {
      if (!matched.has(x) && x.clientToServer.bytes + x.serverToClient.bytes > 0) out.push(`${where}: extra stream ${x.id}:${x.role}`);
    }
  });
  return out;
}

/** Sessions whose server address is `address` (for captures holding several fixtures). */
export function sessionsAt(summary: DecodeSummary, address: string): SessionSummary[] {
  return summary.sessions.filter((s) => s.server.startsWith(`${address}:`) || s.server.startsWith(`[${address}]:`));
}

/** `a` ends with `b`. */
export function endsWith(a: Uint8Array, b: Uint8Array): boolean {
  if (b.length > a.length) return false;
  return Buffer.from(a.subarray(a.length - b.length)).equals(Buffer.from(b));
}

/** `b` occurs in `a` at or after `from`. */
export function occursIn(a: Uint8Array, b: Uint8Array, from = 0): boolean {
  if (b.length === 0) return true;
  return Buffer.from(a).indexOf(Buffer.from(b), from) >= 0;
}

/** Offsets where a record (pcap) or block (pcapng) ends, as written by `render` (little-endian). */
export function recordBoundaries(file: Uint8Array, format: 'pcap' | 'pcapng'): Set<number> {
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const out = new Set<number>();
  let o = format === 'pcap' ? 24 : 0;
  while (o + 8 <= file.length) {
    out.add(o);
    o += format === 'pcap' ? 16 + v.getUint32(o + 8, true) : v.getUint32(o + 4, true);
  }
  out.add(o);
  return out;
}
