/**
 * Every fixture, cut by a RST at a random byte: after the session was over
 * (exit status in, or every stream closed) the cut never raises a
 * diagnostic; inside a frame before that, it always does (issue 16).
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CaptureDecoder } from '../../src/tcp/index.js';
import type { ConnectionEvent, ConnectionData } from '../../src/tcp/types.js';
import { SessionDecoder, type TimelineEvent } from '../../src/timeline/index.js';
import { fixtureTruths } from '../helpers/fixture-truths.js';

interface Prepared {
  name: string;
  events: ConnectionEvent[];
  /** The session's connection. */
  connection: number;
  /** Index of the connection event after which the session was over. */
  overAt: number;
  /** Per direction: absolute offsets where frames start (to tell a cut inside a frame). */
  frameStarts: Record<string, Set<number>>;
  /** Index of the first connection event after the upgrade. */
  startAt: number;
}

function connectionEvents(file: string): ConnectionEvent[] {
  const out: ConnectionEvent[] = [];
  const cap = new CaptureDecoder((e) => out.push(e.kind === 'data' ? { ...e, bytes: e.bytes.slice() } : e));
  cap.push(readFileSync(file));
  cap.end();
  return out;
}

/** Decode once, watching when the (single) session starts and is over. */
function prepare(name: string, file: string): Prepared | null {
  const events = connectionEvents(file);
  const dec = new SessionDecoder({ frameEvents: true });
  const open = new Set<number>();
  let session: number | null = null;
  let connection = -1;
  let startAt = -1;
  let overAt = -1;
  const frameStarts: Record<string, Set<number>> = { clientToServer: new Set(), serverToClient: new Set() };
  const watch = (evs: TimelineEvent[], i: number) => {
    for (const ev of evs) {
      if (ev.kind === 'session-start' && session === null) {
        session = ev.session;
        connection = ev.connection;
        startAt = i + 1;
      }
      if (!('session' in ev) || ev.session !== session) continue;
      if (ev.kind === 'frame' && ev.layer === frameLayer) frameStarts[ev.direction]!.add(ev.offset);
      if (ev.kind === 'stream-open') open.add(ev.streamId);
      if (ev.kind === 'stream-close' || ev.kind === 'stream-reset') open.delete(ev.streamId);
      const over = ev.kind === 'exit' || ((ev.kind === 'stream-close' || ev.kind === 'stream-reset') && open.size === 0) || (ev.kind === 'frame' && ev.layer === 'websocket' && ev.type === 'close');
      if (over && overAt < 0) overAt = i;
    }
  };
  let frameLayer: string = 'spdy';
  events.forEach((e, i) => {
    const evs = dec.push(e);
    for (const ev of evs) if (ev.kind === 'upgrade') frameLayer = ev.transport === 'spdy/3.1' ? 'spdy' : 'websocket';
    watch(evs, i);
  });
  if (session === null || overAt < 0) return null;
  return { name, events, connection, overAt, frameStarts, startAt };
}

/** The capture up to data event `j` of the session's connection cut after `keep` bytes, then a RST. */
function cutAt(p: Prepared, j: number, keep: number): ConnectionEvent[] {
  const out: ConnectionEvent[] = [];
  for (let i = 0; i < p.events.length; i++) {
    const e = p.events[i]!;
    if (e.connection !== p.connection) {
      out.push(e);
      continue;
    }
    if (i < j) out.push(e);
    else if (i === j) {
      const d = e as ConnectionData;
      out.push({ ...d, bytes: d.bytes.subarray(0, keep) });
      out.push({ kind: 'close', connection: p.connection, reason: 'rst', direction: d.direction === 'clientToServer' ? 'serverToClient' : 'clientToServer', time: d.time + 1 });
    }
  }
  return out;
}

function diagnosticsOf(events: ConnectionEvent[]): string[] {
  const dec = new SessionDecoder({ frameEvents: false });
  const codes: string[] = [];
  const take = (evs: TimelineEvent[]) => {
    for (const ev of evs) if (ev.kind === 'diagnostic') codes.push(ev.error.code);
  };
  for (const e of events) take(dec.push(e));
  take(dec.finish());
  return codes;
}

const prepared = fixtureTruths()
  .filter((t) => !t.truth.midSession && t.truth.sessions.length === 1)
  .map((t) => prepare(t.truth.name, t.capture))
  .filter((p): p is Prepared => p !== null);

const dataIndexes = (p: Prepared, from: number, to: number) =>
  p.events.flatMap((e, i) => (i >= from && i < to && e.connection === p.connection && e.kind === 'data' && e.bytes.length > 1 ? [i] : []));

describe('a fixture cut by a RST', () => {
  it('has fixtures to cut', () => {
    expect(prepared.length).toBeGreaterThanOrEqual(10);
  });

  for (const p of prepared) {
    const after = dataIndexes(p, p.overAt + 1, p.events.length);
    it.skipIf(after.length === 0)(`${p.name}: after the session was over: never a diagnostic`, () => {
      fc.assert(
        fc.property(fc.nat(after.length - 1), fc.double({ min: 0, max: 1, noNaN: true }), (k, r) => {
          const j = after[k]!;
          const e = p.events[j] as ConnectionData;
          const keep = Math.min(e.bytes.length - 1, Math.floor(r * e.bytes.length));
          expect(diagnosticsOf(cutAt(p, j, keep))).toEqual([]);
        }),
        { numRuns: 25, seed: 16 },
      );
    });

    const before = dataIndexes(p, p.startAt, p.overAt).filter((i) => {
      const e = p.events[i] as ConnectionData;
      // a cut strictly inside a frame exists in this chunk
      for (let k = 1; k < e.bytes.length; k++) if (!p.frameStarts[e.direction]!.has(e.offset + k)) return true;
      return false;
    });
    it.skipIf(before.length === 0)(`${p.name}: inside a frame before the session was over: always a diagnostic`, () => {
      fc.assert(
        fc.property(fc.nat(before.length - 1), fc.double({ min: 0, max: 1, noNaN: true }), (k, r) => {
          const j = before[k]!;
          const e = p.events[j] as ConnectionData;
          const inside: number[] = [];
          for (let n = 1; n < e.bytes.length; n++) if (!p.frameStarts[e.direction]!.has(e.offset + n)) inside.push(n);
          const keep = inside[Math.min(inside.length - 1, Math.floor(r * inside.length))]!;
          expect(diagnosticsOf(cutAt(p, j, keep)).length).toBeGreaterThan(0);
        }),
        { numRuns: 25, seed: 16 },
      );
    });
  }
});
