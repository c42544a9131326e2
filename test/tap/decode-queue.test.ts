import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Direction } from '../../src/common/errors.js';
import { DecodeQueue } from '../../src/tap/index.js';
import type { ConnectionEvent } from '../../src/tcp/types.js';

const open = (connection: number): ConnectionEvent => ({
  kind: 'open',
  connection,
  client: { address: '127.0.0.1', port: 40000 + connection },
  server: { address: '127.0.0.1', port: 6443 },
  time: 1,
  startedLate: false,
});
const data = (connection: number, direction: Direction, offset: number, length: number): ConnectionEvent => ({
  kind: 'data',
  connection,
  direction,
  bytes: new Uint8Array(length).fill(offset & 0xff),
  offset,
  time: 2,
});

describe('DecodeQueue', () => {
  it('delivers events later, in order, never during push', async () => {
    const seen: ConnectionEvent[] = [];
    const q = new DecodeQueue((ev) => seen.push(ev));
    const events = [open(1), data(1, 'clientToServer', 0, 10), data(1, 'serverToClient', 0, 5), open(2)];
    for (const ev of events) q.push(ev);
    expect(seen).toEqual([]);
    await q.idle();
    expect(seen).toEqual(events);
    expect(q.stats()).toMatchObject({ delivered: 4, droppedBytes: 0, queuedBytes: 0 });
  });

  it('turns data beyond the bound into one growing gap per direction, at the right offsets', async () => {
    const seen: ConnectionEvent[] = [];
    const drops: ConnectionEvent[] = [];
    const q = new DecodeQueue((ev) => seen.push(ev), { maxBytes: 1000, onDrop: (g) => drops.push({ ...g }) });
    q.push(open(1));
    q.push(data(1, 'clientToServer', 0, 600)); // fits (64 + 600)
    q.push(data(1, 'clientToServer', 600, 400)); // would exceed: gap 600..1000
    q.push(data(1, 'clientToServer', 1000, 300)); // extends the same gap
    q.push(data(1, 'serverToClient', 0, 300)); // other direction: its own gap
    await q.idle();
    expect(seen.map((e) => (e.kind === 'gap' ? `gap ${e.direction} ${e.offset}+${e.size}` : e.kind))).toEqual([
      'open',
      'data',
      'gap clientToServer 600+700',
      'gap serverToClient 0+300',
    ]);
    expect(drops).toHaveLength(2);
    expect(q.stats()).toMatchObject({ droppedBytes: 1000, droppedChunks: 3 });
    // Once drained, data fits again and is delivered whole.
    q.push(data(1, 'clientToServer', 1300, 500));
    await q.idle();
    expect(seen.at(-1)).toMatchObject({ kind: 'data', offset: 1300 });
  });

  it('once dropping, goes on dropping until the queue is down to half the bound (no data/gap alternation)', async () => {
    const seen: string[] = [];
    const q = new DecodeQueue((ev) => seen.push(ev.kind === 'gap' ? `gap ${ev.offset}+${ev.size}` : `${ev.kind} ${ev.kind === 'data' ? ev.offset : ''}`.trim()), {
      maxBytes: 1000,
    });
    q.push(data(1, 'clientToServer', 0, 700)); // 700 queued
    q.push(data(1, 'clientToServer', 700, 400)); // over 1000: dropped, gap queued (+64)
    q.push(data(1, 'clientToServer', 1100, 100)); // would fit under 1000, but not under 500: dropped too
    await q.idle();
    q.push(data(1, 'clientToServer', 1200, 400)); // queue empty: under half, accepted
    await q.idle();
    expect(seen).toEqual(['data 0', 'gap 700+500', 'data 1200']);
  });

  it('keeps going when the consumer throws, and reports each failure', async () => {
    const failures: unknown[] = [];
    let n = 0;
    const q = new DecodeQueue(
      () => {
        n++;
        if (n % 2 === 0) throw new Error(`boom ${n}`);
      },
      { onConsumerError: (e) => failures.push(e) },
    );
    for (let i = 0; i < 6; i++) q.push(open(i + 1));
    await q.idle();
    expect(n).toBe(6);
    expect(failures.map((e) => (e as Error).message)).toEqual(['boom 2', 'boom 4', 'boom 6']);
    expect(q.stats().consumerErrors).toBe(3);
  });

  it('yields to I/O between slices: a consumer slower than the slice does not run the whole queue at once', async () => {
    let clock = 0;
    let delivered = 0;
    const q = new DecodeQueue(
      () => {
        delivered++;
        clock += 1; // every event "takes" 1 ms
      },
      { sliceMs: 4, now: () => clock },
    );
    for (let i = 0; i < 100; i++) q.push(open(i + 1));
    await new Promise((resolve) => setImmediate(resolve));
    // The clock is read every 16 events, so one slice is 16 events here, not 100.
    expect(delivered).toBeLessThan(100);
    expect(delivered).toBeGreaterThan(0);
    await q.idle();
    expect(delivered).toBe(100);
  });

  it('once behind, gives the consumer a slice as long as the I/O since the last one (a fair share), up to a cap', async () => {
    let clock = 0;
    let delivered = 0;
    const q = new DecodeQueue(
      () => {
        delivered++;
        clock += 1;
      },
      { maxBytes: 100 * 64, sliceMs: 2, maxSliceMs: 50, now: () => clock },
    );
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    for (let i = 0; i < 20; i++) q.push(open(i + 1));
    await tick();
    // Not behind yet (first slice): the short slice, 16 events between clock reads.
    expect(delivered).toBe(16);
    // 40 ms of "I/O", and now well over an eighth of the bound queued.
    clock += 40;
    for (let i = 0; i < 80; i++) q.push(open(i + 21));
    await tick();
    // A 40 ms slice at 1 ms per event: 48 events (clock read every 16), not 16.
    expect(delivered).toBe(16 + 48);
    await q.idle();
    expect(delivered).toBe(100);
  });

  it('for any sequence of chunk sizes and bound: delivered data plus gaps cover each direction exactly, in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 3000 })), { maxLength: 60 }),
        fc.integer({ min: 64, max: 8000 }),
        fc.array(fc.integer({ min: 0, max: 59 }), { maxLength: 10 }),
        async (chunks, maxBytes, drainAfter) => {
          const next = { clientToServer: 0, serverToClient: 0 };
          const covered = { clientToServer: 0, serverToClient: 0 };
          const problems: string[] = [];
          const q = new DecodeQueue(
            (ev) => {
              if (ev.kind !== 'data' && ev.kind !== 'gap') return;
              if (ev.offset !== covered[ev.direction]) problems.push(`${ev.direction} at ${ev.offset}, expected ${covered[ev.direction]}`);
              covered[ev.direction] = ev.offset + (ev.kind === 'data' ? ev.bytes.length : ev.size);
            },
            { maxBytes },
          );
          q.push(open(1));
          for (let i = 0; i < chunks.length; i++) {
            const [c2s, size] = chunks[i]!;
            const dir: Direction = c2s ? 'clientToServer' : 'serverToClient';
            q.push(data(1, dir, next[dir], size));
            next[dir] += size;
            if (drainAfter.includes(i)) await q.idle();
            expect(q.stats().queuedBytes).toBeLessThanOrEqual(maxBytes + 64 * 4);
          }
          await q.idle();
          expect(problems).toEqual([]);
          expect(covered).toEqual(next);
        },
      ),
      { numRuns: 150 },
    );
  });
});
