import { MessageChannel, type Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { KubewireError } from '../../src/common/errors.js';
import { RingQueue } from '../../src/tap/decode-ring.js';
import { readRing } from '../../src/tap/decode-ring-reader.js';
import type { ConnectionEvent, ConnectionGap } from '../../src/tcp/types.js';

/** A queue and a reader joined by a message channel (the worker's port, without a worker). */
function joined(maxBytes: number, consumer: (ev: ConnectionEvent) => void) {
  const { port1, port2 } = new MessageChannel();
  const drops: ConnectionGap[] = [];
  const errors: string[] = [];
  const queue = new RingQueue(port1 as unknown as Worker, { maxBytes, onDrop: (g) => drops.push(g), onConsumerError: (m) => errors.push(m) });
  readRing(port2, consumer, () => {});
  const close = () => {
    port1.close();
    port2.close();
  };
  return { queue, drops, errors, close };
}

const data = (offset: number, bytes: Uint8Array): ConnectionEvent => ({ kind: 'data', connection: 1, direction: 'clientToServer', bytes, offset, time: offset });

describe('RingQueue and readRing', () => {
  it('deliver every byte in order, as copies the consumer owns, across the wrap of the ring', async () => {
    const got: ConnectionEvent[] = [];
    const { queue, close } = joined(1000, (ev) => got.push(ev));
    const sent: number[] = [];
    let offset = 0;
    for (let round = 0; round < 20; round++) {
      const chunk = new Uint8Array(300).map((_, i) => (round * 7 + i) & 255);
      queue.push(data(offset, chunk));
      chunk.fill(0); // the caller's view may be reused at once
      sent.push(...new Uint8Array(300).map((_, i) => (round * 7 + i) & 255));
      offset += 300;
      await queue.idle();
    }
    close();
    const bytes = got.flatMap((ev) => (ev.kind === 'data' ? [...ev.bytes] : []));
    expect(bytes).toEqual(sent);
    expect(got.every((ev) => ev.kind === 'data' && !(ev.bytes.buffer instanceof SharedArrayBuffer))).toBe(true);
    expect(queue.stats()).toMatchObject({ droppedBytes: 0, queuedBytes: 0 });
  });

  it('turn what does not fit into one gap per run, at its offset, until the reader caught up to half', async () => {
    const got: ConnectionEvent[] = [];
    const { queue, drops, close } = joined(1000, (ev) => got.push(ev));
    for (let i = 0; i < 6; i++) queue.push(data(i * 300, new Uint8Array(300).fill(i + 1)));
    await queue.idle();
    close();
    // 3 × 300 fit; the next three are one gap of 900 at offset 900.
    expect(got.map((ev) => (ev.kind === 'gap' ? `gap ${ev.offset}+${ev.size}` : ev.kind === 'data' ? `data ${ev.offset}+${ev.bytes.length}` : ev.kind))).toEqual([
      'data 0+300',
      'data 300+300',
      'data 600+300',
      'gap 900+900',
    ]);
    expect(drops).toHaveLength(1);
    expect(queue.stats()).toMatchObject({ droppedBytes: 900, droppedChunks: 3, peakBytes: 900 });
  });

  it('carry diagnostics with their error class and fields, and report a consumer that throws', async () => {
    const got: ConnectionEvent[] = [];
    const { queue, errors, close } = joined(1000, (ev) => {
      if (ev.kind === 'close') throw new Error('boom');
      got.push(ev);
    });
    const error = new KubewireError('tap', 'TAP_DECODE_BEHIND', 'connection', 'behind', { connection: 3, offset: 42, direction: 'serverToClient' });
    queue.push({ kind: 'diagnostic', connection: 3, time: 5, error });
    queue.push({ kind: 'close', connection: 3, reason: 'fin', time: 6 });
    await queue.idle();
    await new Promise((r) => setImmediate(r));
    close();
    const d = got[0] as Extract<ConnectionEvent, { kind: 'diagnostic' }>;
    expect(d.error).toBeInstanceOf(KubewireError);
    expect(d.error.toJSON()).toEqual(error.toJSON());
    expect(errors).toEqual(['boom']);
  });
});
