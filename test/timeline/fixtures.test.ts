/**
 * Every fixture (real clients, captured on loopback, with ground truth made
 * when it was recorded) decodes to its truth, to the byte: sha256 and length
 * per stream and direction, roles, exit status, resizes, protocol. Fixtures
 * cut after the upgrade (mid-session joins) still give every DATA byte, with
 * roles inferred.
 */
import { describe, expect, it } from 'vitest';
import { decodeCaptureToConnections } from '../../src/tcp/index.js';
import { fixtureTruths, type StreamTruth } from '../helpers/fixture-truths.js';
import { SessionDecoder, type DecodeSummary, type SessionSummary, type TimelineEvent } from '../../src/timeline/index.js';

async function decodeFile(path: string, digests = true): Promise<{ summary: DecodeSummary; diagnostics: TimelineEvent[] }> {
  const dec = new SessionDecoder({ frameEvents: false, digests });
  const diagnostics: TimelineEvent[] = [];
  await decodeCaptureToConnections(path, (e) => {
    for (const ev of dec.push(e)) if (ev.kind === 'diagnostic') diagnostics.push(ev);
  });
  for (const ev of dec.finish()) if (ev.kind === 'diagnostic') diagnostics.push(ev);
  return { summary: dec.summary(), diagnostics };
}

/** Our streams matched to the truth's by role, in id order within a role. */
function matchStreams(ours: SessionSummary['streams'], truth: StreamTruth[]): Array<[StreamTruth, SessionSummary['streams'][number] | undefined]> {
  const pool = [...ours].sort((a, b) => a.id - b.id);
  return truth.map((t) => {
    const i = pool.findIndex((s) => s.role === t.role && (t.requestId === undefined || s.requestId === undefined || s.requestId === t.requestId));
    return [t, i >= 0 ? pool.splice(i, 1)[0] : undefined];
  });
}

const all = fixtureTruths();
if (all.length === 0) console.warn('no fixtures with ground truth found; run `npm run fixtures`');

describe.skipIf(all.length === 0)('fixtures decode to their ground truth', () => {
  for (const { file, truth, capture } of all) {
    it(`${truth.name} (${file})`, async () => {
      const { summary, diagnostics } = await decodeFile(capture);
      const sessions = summary.sessions;
      expect(sessions.map((s) => s.transport), 'sessions').toEqual(truth.sessions.map((s) => s.transport));
      truth.sessions.forEach((t, i) => {
        const s = sessions[i]!;
        const where = `${truth.name} session ${i + 1}`;
        if (!truth.midSession) {
          expect(s.kind, where).toBe(t.kind);
          expect(s.protocol, where).toBe(t.protocol);
          if (t.tty !== undefined) expect(s.tty, where).toBe(t.tty);
          expect(s.inferred, where).toBe(false);
        } else {
          expect(s.inferred, where).toBe(true);
        }
        if (t.resizes) expect(s.resizes, where).toEqual(t.resizes);
        if (t.exit !== undefined) {
          expect(s.exit === null ? null : { status: s.exit.status, code: s.exit.code }, where).toEqual(t.exit === null ? null : { status: t.exit.status, code: t.exit.code });
        }
        for (const [ts, os] of matchStreams(s.streams, t.streams)) {
          const sw = `${where} ${ts.role}${ts.requestId !== undefined ? ` request ${ts.requestId}` : ''}`;
          expect(os, `${sw}: no such stream (have ${s.streams.map((x) => `${x.id}:${x.role}`).join(', ')})`).toBeDefined();
          expect({ c2s: os!.clientToServer, s2c: os!.serverToClient }, sw).toEqual({ c2s: ts.clientToServer, s2c: ts.serverToClient });
          if (ts.port !== undefined) expect(os!.port, sw).toBe(ts.port);
          if (truth.midSession) expect(os!.inferred, sw).toBe(true);
        }
        // no stream beyond the truth carries bytes
        const matched = new Set(matchStreams(s.streams, t.streams).map(([, o]) => o));
        const extra = s.streams.filter((x) => !matched.has(x) && x.clientToServer.bytes + x.serverToClient.bytes > 0);
        expect(extra.map((x) => `${x.id}:${x.role}`), `${where}: streams not in the truth`).toEqual([]);
      });
      if (truth.name.endsWith('-refused')) {
        // the refused WebSocket attempt is not a session, but the SPDY retry says it retried it
        const refused = summary.requests.find((r) => r.upgrade !== null && /websocket/i.test(r.upgrade) && (r.status ?? 0) >= 400);
        expect(refused, 'the refused upgrade request').toBeDefined();
        expect(sessions[0]!.retryOf).toBe(refused!.connection);
        expect(refused!.retriedBy).toBe(sessions[0]!.session);
      }
      // a complete capture of a well-behaved client decodes without diagnostics
      if (!truth.midSession) expect(diagnostics.map((d) => d.kind === 'diagnostic' && d.error.message), truth.name).toEqual([]);
      // a joined one says so (its summary is not the whole session), whatever the transport
      else expect(diagnostics.map((d) => d.kind === 'diagnostic' && d.error.code), truth.name).toContain('TIMELINE_JOINED_MIDWAY');
    });
  }
});

describe.skipIf(all.length === 0)('digests: false', () => {
  it('gives the same sessions and byte counts, with sha256 null, for every fixture', async () => {
    for (const { truth, capture } of all) {
      const withDigests = (await decodeFile(capture)).summary;
      const without = (await decodeFile(capture, false)).summary;
      const nullDigests = JSON.parse(JSON.stringify(withDigests), (k, v: unknown) => (k === 'sha256' ? null : v)) as DecodeSummary;
      expect(without, truth.name).toEqual(nullDigests);
      expect(
        without.sessions.flatMap((s) => s.streams.flatMap((st) => [st.clientToServer.sha256, st.serverToClient.sha256])).every((h) => h === null),
        truth.name,
      ).toBe(true);
    }
  });
});
