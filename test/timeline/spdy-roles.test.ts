/**
 * Stream roles of a SPDY session joined after its upgrade, from what the
 * streams show (src/timeline/spdy-roles.ts): client-go's stream layouts,
 * direction of bytes, half-closes, resets, status documents, terminal sizes.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SpdyFrameEncoder } from '../../src/spdy/index.js';
import { inferSpdyRoles, inferSpdyRolesEitherWay, type FirstBytes, type SessionClues, type StreamClues } from '../../src/timeline/spdy-roles.js';
import { C, S, decode, enc, script, type Step } from './helpers.js';

const UNKNOWN: SessionClues = { family: 'unknown', version: null, ended: false };

type Partial = {
  c2s?: FirstBytes;
  s2c?: FirstBytes;
  finC?: boolean;
  finS?: boolean;
  reset?: 'c' | 's';
  late?: boolean;
};

function clue(id: number, p: Partial = {}): StreamClues {
  return {
    id,
    known: null,
    bytes: { clientToServer: p.c2s !== undefined, serverToClient: p.s2c !== undefined },
    fin: { clientToServer: p.finC ?? false, serverToClient: p.finS ?? false },
    reset: p.reset === 'c' ? 'clientToServer' : p.reset === 's' ? 'serverToClient' : null,
    look: { clientToServer: p.c2s ?? null, serverToClient: p.s2c ?? null },
    openedLate: p.late ?? false,
  };
}

const roles = (v: { roles: Map<number, string> }) => Object.fromEntries(v.roles);

describe('inferSpdyRoles', () => {
  it('kubectl exec -i with stdin, stdout and stderr: stream 7 is stderr, also when it speaks first', () => {
    // the case: only the server's output after the cut, stream 7 before stream 5
    const first = inferSpdyRoles([clue(7, { s2c: 'other' })], UNKNOWN);
    // exec would make it stderr (resize takes no server bytes), but port-forward's data fits as well
    expect(roles(first)).toEqual({ 7: 'unknown' });
    const later = inferSpdyRoles([clue(7, { s2c: 'other', finS: true }), clue(5, { s2c: 'other', finS: true }), clue(1, { s2c: 'status', finS: true, reset: 'c' })], UNKNOWN);
    expect(later.family).toBe('remotecommand');
    expect(roles(later)).toEqual({ 1: 'error', 5: 'stdout', 7: 'stderr' });
  });

  it('stream 7 with server bytes is never stdout: a fourth stream means stdin and stdout came before it', () => {
    const v = inferSpdyRoles([clue(7, { s2c: 'other' }), clue(1, { s2c: 'status' })], UNKNOWN);
    expect(roles(v)).toEqual({ 1: 'error', 7: 'stderr' });
  });

  it('a TTY: terminal sizes from the client make stream 7 the resize stream, and leave no stderr', () => {
    const v = inferSpdyRoles([clue(3, { c2s: 'other' }), clue(5, { s2c: 'other' }), clue(7, { c2s: 'resize' }), clue(1, { s2c: 'status' })], UNKNOWN);
    expect(roles(v)).toEqual({ 1: 'error', 3: 'stdin', 5: 'stdout', 7: 'resize' });
  });

  it('no stdin: stream 3 carries the server output and is stdout, stream 5 stderr', () => {
    const v = inferSpdyRoles([clue(3, { s2c: 'other' }), clue(5, { s2c: 'other' }), clue(1, { s2c: 'status' })], UNKNOWN);
    expect(roles(v)).toEqual({ 1: 'error', 3: 'stdout', 5: 'stderr' });
  });

  it('what several layouts explain stays unknown', () => {
    // stream 5 with output: stdout after stdin ([error, stdin, stdout…]) or stderr after stdout ([error, stdout, stderr])
    const v = inferSpdyRoles([clue(5, { s2c: 'other' }), clue(1, { s2c: 'status' })], UNKNOWN);
    expect(roles(v)).toEqual({ 1: 'error', 5: 'unknown' });
  });

  it('ids past 7, bytes both ways, or streams opened after data make it port-forward', () => {
    expect(inferSpdyRoles([clue(9, { c2s: 'other' })], UNKNOWN).family).toBe('portforward');
    expect(roles(inferSpdyRoles([clue(3, { c2s: 'other', s2c: 'other' })], UNKNOWN))).toEqual({ 3: 'data' });
    const v = inferSpdyRoles([clue(5, { finC: true, late: true }), clue(7, { c2s: 'other', s2c: 'other', late: true })], UNKNOWN);
    expect(v.family).toBe('portforward');
    expect(roles(v)).toEqual({ 5: 'error', 7: 'data' });
  });

  it('a known session kind or protocol version narrows the layouts', () => {
    // v2 has no resize stream: a fourth stream is stderr
    const v2 = inferSpdyRoles([clue(7, {})], { family: 'remotecommand', version: 2, ended: false });
    expect(roles(v2)).toEqual({ 7: 'stderr' });
    const pf = inferSpdyRoles([clue(1, {}), clue(3, { s2c: 'other' })], { family: 'portforward', version: null, ended: false });
    expect(roles(pf)).toEqual({ 1: 'error', 3: 'data' });
  });

  it('sides unknown: the orientation the streams fit better decides', () => {
    // the client's resets and the status document, seen with the sides the wrong way round
    const flipped = [clue(1, { c2s: 'status', finC: true, reset: 's' }), clue(5, { reset: 's' }), clue(7, { c2s: 'other', finC: true, reset: 's' }), clue(3, { s2c: 'other', finS: true })];
    expect(roles(inferSpdyRolesEitherWay(flipped, UNKNOWN))).toEqual({ 1: 'error', 3: 'stdin', 5: 'stdout', 7: 'stderr' });
  });

  it('any clues: never two streams with one single-instance role, never a role against the bytes', () => {
    const look = fc.option(fc.constantFrom<FirstBytes>('resize', 'status', 'other'), { nil: undefined });
    const stream = fc.record({
      id: fc.integer({ min: 0, max: 12 }),
      c2s: look,
      s2c: look,
      finC: fc.boolean(),
      finS: fc.boolean(),
      reset: fc.option(fc.constantFrom<'c' | 's'>('c', 's'), { nil: undefined }),
      late: fc.boolean(),
    });
    const session = fc.record({
      family: fc.constantFrom<SessionClues['family']>('unknown', 'remotecommand', 'portforward'),
      version: fc.option(fc.integer({ min: 1, max: 4 }), { nil: null }),
      ended: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.uniqueArray(stream, { selector: (s) => s.id, maxLength: 7 }), session, fc.boolean(), (list, sess, eitherWay) => {
        const clues = list.map(({ id, ...p }) => clue(id, p));
        const v = (eitherWay ? inferSpdyRolesEitherWay : inferSpdyRoles)(clues, sess);
        const pf = v.family === 'portforward' || [...v.roles.values()].includes('data');
        const seen = new Set<string>();
        for (const c of clues) {
          const r = v.roles.get(c.id)!;
          expect(r).toBeDefined();
          if (r === 'unknown' || r === 'data' || (r === 'error' && pf)) continue;
          expect(seen.has(r), `${r} twice in ${JSON.stringify([...v.roles])}`).toBe(false);
          seen.add(r);
          if (!eitherWay) {
            if (c.bytes.clientToServer) expect(['stdin', 'resize']).toContain(r);
            if (c.bytes.serverToClient) expect(['error', 'stdout', 'stderr']).toContain(r);
          }
        }
        if (sess.family === 'portforward') expect([...v.roles.values()].every((r) => r === 'error' || r === 'data' || r === 'unknown')).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('a joined port-forward session with thousands of streams', () => {
  it('each stream gets its pair role, in time linear in the streams (exec never gets past stream 7)', () => {
    const c = new SpdyFrameEncoder();
    const s = new SpdyFrameEncoder();
    const steps: Step[] = [];
    const requests = 3000;
    for (let i = 0; i < requests; i++) {
      const error = 4 * i + 1;
      const data = error + 2;
      // client-go closes its side of the error stream at once; the data stream carries both ways
      steps.push({ d: C, bytes: c.encode({ kind: 'data', streamId: error, data: new Uint8Array(0), fin: true }) });
      steps.push({ d: C, bytes: c.encode({ kind: 'data', streamId: data, data: enc(`GET /${i} HTTP/1.1\r\n\r\n`) }) });
      steps.push({ d: S, bytes: s.encode({ kind: 'data', streamId: data, data: enc('HTTP/1.1 204 No Content\r\n\r\n'), fin: true }) });
      steps.push({ d: S, bytes: s.encode({ kind: 'data', streamId: error, data: new Uint8Array(0), fin: true }) });
    }
    const sess = decode(script(steps, { startedLate: true })).decoder.summary().sessions[0]!;
    expect(sess.kind).toBe('portforward');
    expect(sess.streams).toHaveLength(2 * requests);
    for (const x of sess.streams) expect(x.role, `stream ${x.id}`).toBe(((x.id - 1) / 2) % 2 === 0 ? 'error' : 'data');
  });
});
