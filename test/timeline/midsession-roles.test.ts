/**
 * Every SPDY fixture, joined after its upgrade (the capture starts after the
 * 101, or later, also inside frames): the header blocks cannot be inflated,
 * so the stream roles are inferred. Against the roles the whole fixture
 * decodes to, per stream id: every stream gets the right role or `unknown`,
 * never a wrong one, never two streams with one single-instance role; in
 * the summary and in every event that names a role.
 */
import { describe, expect, it } from 'vitest';
import { CaptureDecoder } from '../../src/tcp/index.js';
import { SessionDecoder, type SessionSummary, type TimelineEvent } from '../../src/timeline/index.js';
import { fixtures, type Fixture } from '../robustness/harness.js';
import { render, type Seg } from '../robustness/model.js';
import { resegment } from '../robustness/transforms.js';

/** Roles that one remote command session has at most once. */
const SINGLE = new Set(['stdin', 'stdout', 'stderr', 'resize', 'error']);
/** Cut points per capture variant (evenly spread over the session's packets). */
const CUTS = 20;

interface Decoded {
  sessions: SessionSummary[];
  /** [session, stream id, role] of every event that names a stream's role. */
  eventRoles: Array<[number, number, string]>;
  /** Sessions with a direction where no frame start was found (decoded from the first byte: noise). */
  noFrameStart: Set<number>;
}

function decode(segs: Seg[]): Decoded {
  const dec = new SessionDecoder({ frameEvents: false });
  const eventRoles: Decoded['eventRoles'] = [];
  const noFrameStart = new Set<number>();
  const take = (events: TimelineEvent[]) => {
    for (const e of events) {
      if (e.kind === 'diagnostic' && e.error.code === 'TIMELINE_NO_FRAME_START' && e.session !== undefined && e.session !== null) noFrameStart.add(e.session);
      if (e.kind === 'stream-open' || e.kind === 'stream-data' || e.kind === 'half-close' || e.kind === 'stream-reset' || e.kind === 'stream-close') {
        eventRoles.push([e.session, e.streamId, e.role]);
      }
    }
  };
  const cap = new CaptureDecoder((e) => take(dec.push(e)));
  cap.push(render(segs, { format: 'pcap' }));
  cap.end();
  take(dec.finish());
  return { sessions: dec.summary().sessions, eventRoles, noFrameStart };
}

const spdyFixtures = (): Fixture[] =>
  fixtures().filter((f) => !f.truth.midSession && f.truth.sessions.some((s) => s.transport === 'spdy/3.1' || s.transport === 'websocket+spdy/3.1'));

const i101 = (segs: Seg[]) => segs.findIndex((s) => Buffer.from(s.payload.subarray(0, 12)).toString('latin1') === 'HTTP/1.1 101');

/** Problems of a cut decode against the whole decode's roles, as text ([] when none). */
function roleProblems(cut: Decoded, full: SessionSummary[], where: string): string[] {
  const out: string[] = [];
  const truthOf = (s: SessionSummary) => full.find((x) => x.client === s.client || x.client === s.server);
  for (const s of cut.sessions) {
    const t = truthOf(s);
    // a session cut into something else (a WebSocket tunnel read as channels) has no SPDY roles to compare;
    // nor one where a direction found no frame start and was read from its first byte (its frames are noise)
    if (!t || t.transport !== s.transport || cut.noFrameStart.has(s.session)) continue;
    const want = new Map(t.streams.map((x) => [x.id, x.role]));
    const portforward = t.kind === 'portforward';
    const taken = new Map<string, number>();
    for (const x of s.streams) {
      if (x.role === 'unknown') continue;
      if (x.role !== want.get(x.id)) out.push(`${where}: stream ${x.id} is ${x.role}, truth ${want.get(x.id) ?? 'no such stream'}`);
      if (!x.inferred) out.push(`${where}: stream ${x.id} not marked inferred`);
      if (!portforward && SINGLE.has(x.role)) {
        if (taken.has(x.role)) out.push(`${where}: streams ${taken.get(x.role)} and ${x.id} are both ${x.role}`);
        taken.set(x.role, x.id);
      }
    }
    for (const [session, id, role] of cut.eventRoles) {
      if (session !== s.session || role === 'unknown') continue;
      if (role !== want.get(id)) out.push(`${where}: an event calls stream ${id} ${role}, truth ${want.get(id) ?? 'no such stream'}`);
    }
  }
  return [...new Set(out)];
}

describe('SPDY fixtures joined after the upgrade: every role right or unknown', () => {
  for (const f of spdyFixtures()) {
    it(f.name, () => {
      const small = f.model.file.length < 200_000;
      let cuts = 0;
      let known = 0;
      for (const tiny of small ? [false, true] : [false]) {
        const upgrade = i101(f.model.segments);
        expect(upgrade, 'a 101 response').toBeGreaterThanOrEqual(0);
        // 7-byte pieces after the 101: cuts land inside frames
        const segs = tiny ? [...f.model.segments.slice(0, upgrade + 1), ...resegment(f.model.segments.slice(upgrade + 1), 7)] : f.model.segments;
        const full = decode(segs).sessions;
        const start = upgrade + 1;
        const step = Math.max(1, Math.floor((segs.length - start) / CUTS));
        const problems: string[] = [];
        for (let at = start; at < segs.length; at += step) {
          const cut = decode(segs.slice(at));
          cuts++;
          known += cut.sessions.flatMap((s) => s.streams).filter((x) => x.role !== 'unknown').length;
          problems.push(...roleProblems(cut, full, `${tiny ? '7-byte segments, ' : ''}from packet ${at - start + 1} after the 101`));
        }
        expect(problems).toEqual([]);
      }
      // not by saying unknown everywhere
      expect(known, `${cuts} cuts`).toBeGreaterThan(cuts);
    });
  }

  it('kubectl 1.27 exec with stdin, stdout and stderr joined after the upgrade: stream 7 is stderr, never a second stdout', () => {
    const f = fixtures().find((x) => x.name === 'k127-exec');
    if (!f) return void console.warn('fixture k127-exec missing; run npm run fixtures');
    const segs = f.model.segments;
    const start = i101(segs) + 1;
    // right after the 101: every stream shows enough
    const first = decode(segs.slice(start)).sessions[0]!;
    expect(first.inferred).toBe(true);
    expect(first.streams.map((x) => `${x.id}:${x.role}`)).toEqual(['1:error', '3:stdin', '5:stdout', '7:stderr']);
    // and where stderr is the first output the capture holds (stdout's bytes went by before it began)
    let stderrFirst = 0;
    for (let at = start; at < segs.length; at++) {
      const s = decode(segs.slice(at)).sessions[0];
      const byId = new Map(s?.streams.map((x) => [x.id, x]) ?? []);
      const seven = byId.get(7);
      if (!seven || seven.serverToClient.bytes === 0) continue;
      expect(seven.role, `from packet ${at - start + 1}`).toBe('stderr');
      expect(s!.streams.filter((x) => x.role === 'stdout').map((x) => x.id), `from packet ${at - start + 1}`).not.toContain(7);
      if ((byId.get(5)?.serverToClient.bytes ?? 0) === 0) stderrFirst++;
    }
    expect(stderrFirst, 'cuts where stream 7 has bytes and stream 5 none').toBeGreaterThan(0);
  });
});
