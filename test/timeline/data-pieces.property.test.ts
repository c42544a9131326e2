/**
 * `dataPieces`: counting bulk DATA as its pieces arrive gives the summary
 * counting whole frames gives, however the TCP bytes are cut into segments,
 * and when a gap or the end of the capture cuts a frame that was going out
 * in pieces (its pieces are taken back out of the counts and digests).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { WorkerDigests } from '../../src/cli/digest-worker.js';
import { CaptureDecoder } from '../../src/tcp/index.js';
import type { ConnectionEvent } from '../../src/tcp/types.js';
import { SessionDecoder, type DigestEngine } from '../../src/timeline/index.js';

const FILES = ['k127-transfer-2mib.pcap', 'containerd-exec-stdin-256k.pcap', 'k127-portforward.pcap', 'k127-exec-tty.pcap', 'k127-exec-midsession.pcap'];

function connectionEvents(file: string): ConnectionEvent[] {
  const out: ConnectionEvent[] = [];
  const cap = new CaptureDecoder((e) => out.push(e.kind === 'data' ? { ...e, bytes: e.bytes.slice() } : e));
  cap.push(readFileSync(new URL(`../../fixtures/${file}`, import.meta.url)));
  cap.end();
  return out;
}

const CAPTURES = FILES.map((f) => ({ name: f, events: connectionEvents(f) }));

/** Summary of `events` as JSON, with or without pieces. */
async function summaryOf(events: readonly ConnectionEvent[], dataPieces: boolean, digests: true | DigestEngine = true): Promise<string> {
  const dec = new SessionDecoder({ frameEvents: false, dataPieces, digests });
  let streamData = 0;
  for (const ev of events) for (const t of dec.push(ev)) if (t.kind === 'stream-data' && t.more !== undefined) streamData++;
  dec.finish();
  if (digests instanceof WorkerDigests) await digests.settle();
  return JSON.stringify({ summary: dec.summary(), pieced: dataPieces ? streamData > 0 : null });
}

/**
 * The capture's events with every data event cut at `cuts` (fractions of
 * its length), the bytes [from, to) of data event `gapAt` replaced by a gap,
 * and everything after event `endAt` left out (a capture that stops there).
 */
function reshape(events: readonly ConnectionEvent[], cuts: number[], gap: { at: number; from: number; to: number } | null, endAt: number): ConnectionEvent[] {
  const out: ConnectionEvent[] = [];
  let dataIndex = 0;
  for (let i = 0; i < events.length && i <= endAt; i++) {
    const ev = events[i]!;
    if (ev.kind !== 'data') {
      out.push(ev);
      continue;
    }
    const n = ev.bytes.length;
    const hole = gap && gap.at === dataIndex++ ? { from: Math.floor(gap.from * n), to: Math.floor(gap.to * n) } : null;
    const points = [...new Set(cuts.map((c) => Math.floor(c * n)).filter((c) => c > 0 && c < n))].sort((a, b) => a - b);
    let start = 0;
    for (const end of [...points, n]) {
      const lo = start;
      start = end;
      // the part of [lo, end) outside the hole, and the hole itself once
      const a = hole ? Math.min(Math.max(lo, hole.from), end) : end;
      const b = hole ? Math.min(Math.max(lo, hole.to), end) : end;
      if (a > lo) out.push({ ...ev, bytes: ev.bytes.subarray(lo, a), offset: ev.offset + lo });
      if (b > a) out.push({ kind: 'gap', connection: ev.connection, direction: ev.direction, offset: ev.offset + a, size: b - a, time: ev.time });
      if (end > b) out.push({ ...ev, bytes: ev.bytes.subarray(b, end), offset: ev.offset + b });
    }
  }
  return out;
}

describe('SessionDecoder dataPieces', () => {
  const workers: WorkerDigests[] = [];
  afterAll(async () => {
    for (const w of workers) await w.close();
  });

  it('pieces are used on the bulk captures, and the summary is the same', async () => {
    for (const c of CAPTURES.slice(0, 2)) {
      const whole = await summaryOf(c.events, false);
      const pieced = await summaryOf(c.events, true);
      expect(JSON.parse(pieced).pieced, c.name).toBe(true);
      expect(JSON.parse(pieced).summary, c.name).toEqual(JSON.parse(whole).summary);
    }
  });

  it('any segmentation, gap and end of the capture: the same summary with and without pieces', async () => {
    const captureArb = fc.constantFrom(...CAPTURES);
    const fraction = fc.noBias(fc.integer({ min: 0, max: 999_999 })).map((n) => n / 1_000_000);
    await fc.assert(
      fc.asyncProperty(
        captureArb.chain((c) => {
          const dataCount = c.events.filter((e) => e.kind === 'data').length;
          return fc.record({
            c: fc.constant(c),
            cuts: fc.array(fraction, { maxLength: 6 }),
            gap: fc.option(
              // positions as unbiased fractions: fast-check leans to small values, before the bulk of a transfer
              fc.record({ at: fraction, from: fraction, len: fraction }).map((g) => ({ at: Math.floor(g.at * dataCount), from: g.from, to: Math.min(1, g.from + g.len) })),
            ),
            endAt: fc.oneof(fc.constant(c.events.length), fraction.map((f) => Math.floor(f * c.events.length))),
          });
        }),
        async ({ c, cuts, gap, endAt }) => {
          const events = reshape(c.events, cuts, gap, endAt);
          const whole = JSON.parse(await summaryOf(events, false)).summary;
          const pieced = JSON.parse(await summaryOf(events, true)).summary;
          expect(pieced).toEqual(whole);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('a digest engine that cannot rewind: the same summary when frames are cut', async () => {
    // Only a stream's first frame may go in pieces (nothing is hashed yet to take back); later ones stay whole.
    const plain: DigestEngine = {
      open: () => {
        const h = createHash('sha256');
        return { update: (b) => void h.update(b), hex: () => h.copy().digest('hex') };
      },
    };
    const c = CAPTURES[0]!;
    for (const end of [0.3, 0.5, 0.7, 0.9]) {
      const events = reshape(c.events, [0.3, 0.6], null, Math.floor(end * c.events.length));
      const got = JSON.parse(await summaryOf(events, true, plain)).summary;
      expect(got).toEqual(JSON.parse(await summaryOf(events, false)).summary);
    }
  });

  it('a frame cut by a gap after some of its pieces is taken back out of the worker digests too', async () => {
    const c = CAPTURES[0]!;
    // cut every data event in three, and lose the middle of a data event in the bulk of the transfer
    const dataCount = c.events.filter((e) => e.kind === 'data').length;
    const events = reshape(c.events, [0.3, 0.6], { at: Math.floor(dataCount / 2), from: 0.4, to: 0.5 }, c.events.length);
    const whole = JSON.parse(await summaryOf(events, false)).summary;
    const worker = new WorkerDigests({ slotBytes: 64 * 1024 });
    workers.push(worker);
    const pieced = JSON.parse(await summaryOf(events, true, worker));
    expect(pieced.pieced).toBe(true);
    expect(pieced.summary).toEqual(whole);
    expect(whole.sessions[0].diagnostics).toBeGreaterThan(0);
  });
});
