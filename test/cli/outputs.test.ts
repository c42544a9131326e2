/**
 * The built CLI on every fixture, in every output form: the summary JSON
 * equals the ground truth to the byte, the other forms agree with it, and the
 * exit code says whether diagnostics were needed.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliMissing, fixtures, runCli, type Fixture, type StreamTruth } from './helpers.js';

interface Dir {
  bytes: number;
  sha256: string;
}
interface OurStream {
  role: string;
  id: number;
  port?: number;
  requestId?: string;
  inferred: boolean;
  clientToServer: Dir;
  serverToClient: Dir;
}
interface OurSession {
  kind: string;
  transport: string;
  protocol: string | null;
  tty: boolean;
  inferred: boolean;
  streams: OurStream[];
  resizes: Array<{ width: number; height: number }>;
  exit: { status: string; code: number | null } | null;
}
interface SummaryDoc {
  sessions: OurSession[];
}

const missing = cliMissing();
const all = fixtures();
if (missing) console.warn(missing);
if (all.length === 0) console.warn('no fixtures with ground truth; run npm run fixtures');

/** Pair each truth stream with one of ours of the same role (and request id), lowest id first. */
function pair(ours: OurStream[], truth: StreamTruth[]): Array<[StreamTruth, OurStream | undefined]> {
  const pool = [...ours].sort((a, b) => a.id - b.id);
  return truth.map((t) => {
    const i = pool.findIndex(
      (s) => s.role === t.role && (t.requestId === undefined || s.requestId === t.requestId) && (t.channel === undefined || s.id === t.channel),
    );
    return [t, i >= 0 ? pool.splice(i, 1)[0] : undefined];
  });
}

function expectSummaryMatchesTruth(doc: SummaryDoc, f: Fixture): void {
  const t = f.truth;
  expect(doc.sessions.length, `${f.name}: sessions`).toBe(t.sessions.length);
  t.sessions.forEach((ts, i) => {
    const s = doc.sessions[i]!;
    expect(s.transport).toBe(ts.transport);
    expect(s.inferred).toBe(t.midSession);
    if (!t.midSession) {
      expect(s.kind).toBe(ts.kind);
      expect(s.protocol).toBe(ts.protocol);
      expect(s.tty).toBe(ts.tty);
    }
    expect(s.resizes).toEqual(ts.resizes);
    expect(s.exit && { status: s.exit.status, code: s.exit.code }).toEqual(ts.exit);
    for (const [tst, ost] of pair(s.streams, ts.streams)) {
      const what = `${f.name} ${tst.role}${tst.requestId !== undefined ? ' ' + tst.requestId : ''}`;
      expect(ost, `${what}: missing`).toBeDefined();
      expect(ost!.clientToServer, what).toEqual(tst.clientToServer);
      expect(ost!.serverToClient, what).toEqual(tst.serverToClient);
      if (tst.port !== undefined) expect(ost!.port, what).toBe(tst.port);
      expect(ost!.inferred, what).toBe(t.midSession);
    }
  });
}

describe.skipIf(missing !== null || all.length === 0).concurrent('kubewire decode on the fixtures', () => {
  for (const f of all) {
    describe(f.name, () => {
      it('--summary --json equals the ground truth; exit 0 unless diagnostics', async () => {
        const r = await runCli(['decode', f.capture, '--summary', '--json']);
        expect(r.stderr).toBe('');
        const doc = JSON.parse(r.stdout.toString()) as SummaryDoc & { diagnostics: number };
        expectSummaryMatchesTruth(doc, f);
        expect(r.code).toBe(doc.diagnostics > 0 ? 1 : 0);
        if (!f.truth.midSession) expect(r.code).toBe(0);
      });

      it('--json is one document whose summary equals --summary --json', async () => {
        const [a, b] = await Promise.all([runCli(['decode', f.capture, '--json']), runCli(['decode', f.capture, '--summary', '--json'])]);
        const doc = JSON.parse(a.stdout.toString()) as { events: Array<{ kind: string }>; summary: unknown };
        expect(doc.summary).toEqual(JSON.parse(b.stdout.toString()));
        const kinds = new Set(doc.events.map((e) => e.kind));
        expect(kinds.has('session-start')).toBe(true);
        expect(kinds.has('frame')).toBe(true);
        expect(a.code).toBe(b.code);
      });

      it('--ndjson --bytes: one event per line; stream bytes add up to the truth', async () => {
        const r = await runCli(['decode', f.capture, '--ndjson', '--bytes']);
        const lines = r.stdout.toString().split('\n');
        expect(lines.pop()).toBe('');
        const events = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
        for (const e of events) {
          expect(typeof e.kind).toBe('string');
          expect(typeof e.time).toBe('number');
          expect(typeof e.connection).toBe('number');
        }
        // Concatenate every stream's bytes per direction, in event order, and hash.
        const hashes = new Map<string, ReturnType<typeof createHash>>();
        const roles = new Map<string, string>();
        for (const e of events) {
          if (e.kind !== 'stream-data') continue;
          const key = `${String(e.session)}/${String(e.streamId)}/${String(e.direction)}`;
          roles.set(key, String(e.role));
          const h = hashes.get(key) ?? createHash('sha256');
          h.update(Buffer.from(String(e.base64), 'base64'));
          expect(Buffer.from(String(e.base64), 'base64').length).toBe(e.length);
          hashes.set(key, h);
        }
        const got = new Map([...hashes].map(([k, h]) => [k, h.digest('hex')]));
        for (const ts of f.truth.sessions[0]!.streams) {
          for (const d of ['clientToServer', 'serverToClient'] as const) {
            if (ts[d].bytes === 0) continue;
            // joined mid-session, a role is given once the streams tell it: earlier events say unknown
            const roleOk = (r: string | undefined) => r === ts.role || (f.truth.midSession && r === 'unknown');
            const matching = [...got].filter(([k, sha]) => k.endsWith('/' + d) && sha === ts[d].sha256 && roleOk(roles.get(k)));
            expect(matching.length, `${f.name} ${ts.role} ${d}`).toBeGreaterThan(0);
          }
        }
      });

      it('the timeline names the session and its end', async () => {
        const r = await runCli(['decode', f.capture]);
        const text = r.stdout.toString();
        const t = f.truth.sessions[0]!;
        expect(text).toMatch(new RegExp(`session 1 ${f.truth.midSession ? '\\w+' : t.kind}`));
        if (t.exit) expect(text).toContain(`exit ${t.exit.status} code ${t.exit.code}`);
        expect(text).toMatch(/session 1 ended \(/);
        expect(text).not.toContain('\x1b[');
      });

      it('--extract writes each stream and direction, equal to the truth', async () => {
        const dir = mkdtempSync(join(tmpdir(), 'kubewire-extract-'));
        try {
          const r = await runCli(['decode', f.capture, '--summary', '--extract', dir]);
          expect(r.code === 0 || r.code === 1).toBe(true);
          const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as {
            files: Array<{ file: string; role: string; direction: string; bytes: number; sha256: string; requestId: string | null }>;
          };
          for (const entry of index.files) {
            const bytes = readFileSync(join(dir, entry.file));
            expect(bytes.length).toBe(entry.bytes);
            expect(createHash('sha256').update(bytes).digest('hex')).toBe(entry.sha256);
          }
          for (const ts of f.truth.sessions[0]!.streams) {
            for (const d of ['clientToServer', 'serverToClient'] as const) {
              if (ts[d].bytes === 0) continue;
              const hit = index.files.find(
                (e) => (e.role === ts.role || (f.truth.midSession && e.role === 'unknown')) && e.direction === d && e.sha256 === ts[d].sha256 && (ts.requestId === undefined || e.requestId === ts.requestId),
              );
              expect(hit, `${f.name}: extracted ${ts.role} ${d}`).toBeDefined();
              expect(hit!.bytes).toBe(ts[d].bytes);
            }
          }
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
    });
  }
});
