import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel, type Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { KubewireError } from '../../src/common/errors.js';
import { RingQueue } from '../../src/tap/decode-ring.js';
import { readRing } from '../../src/tap/decode-ring-reader.js';
import { decodeCaptureBytes } from '../../src/tcp/index.js';
import type { ConnectionEvent, ConnectionGap } from '../../src/tcp/types.js';
import { SessionDecoder, timelineEventToJson, type TimelineEvent } from '../../src/timeline/index.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures');

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
  it('deliver every byte in order, as views into the ring that stay taken until the consumer returns, across its wrap', async () => {
    const got: number[] = [];
    let heldDuringCall = true;
    let inRing = true;
    const { queue, close } = joined(1000, (ev) => {
      if (ev.kind !== 'data') return;
      got.push(...ev.bytes);
      inRing &&= ev.bytes.buffer instanceof SharedArrayBuffer;
      // The consumer's bytes are not given back to the forwarding thread before it returns.
      heldDuringCall &&= queue.stats().queuedBytes >= ev.bytes.length;
    });
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
    expect(got).toEqual(sent);
    expect(inRing).toBe(true);
    expect(heldDuringCall).toBe(true);
    expect(queue.stats()).toMatchObject({ droppedBytes: 0, queuedBytes: 0 });
  });

  // The worker decodes where the bytes lie, so the decoders must copy what they keep:
  // a small ring reused at once, and every chunk scribbled over as soon as the decoder
  // returns, must give the events and summary that private copies give.
  it.each(['k133-exec-ws.pcapng', 'k127-transfer-2mib.pcap', 'k133-portforward-tunnel.pcapng', 'python-exec.pcapng', 'k127-exec-tty.pcap'])(
    'decode %s from a reused ring as from private copies',
    async (name) => {
      const events = decodeCaptureBytes(readFileSync(join(FIXTURES, name))).map((ev) => (ev.kind === 'data' ? { ...ev, bytes: Buffer.from(ev.bytes) } : ev));
      const render = (evs: TimelineEvent[]) => evs.map((e) => JSON.stringify(timelineEventToJson(e, { bytes: true })));

      const own = new SessionDecoder({ ownsInput: true });
      const expected: string[] = [];
      for (const ev of events) expected.push(...render(own.push(ev.kind === 'data' ? { ...ev, bytes: Buffer.from(ev.bytes) } : ev)));
      expected.push(...render(own.finish()));

      const ringed = new SessionDecoder({ ownsInput: true });
      const actual: string[] = [];
      const largest = Math.max(...events.map((ev) => (ev.kind === 'data' ? ev.bytes.length : 0)));
      const { queue, close } = joined(Math.max(4 * largest, 4096), (ev) => {
        actual.push(...render(ringed.push(ev)));
        if (ev.kind === 'data') ev.bytes.fill(0xee);
      });
      for (const [i, ev] of events.entries()) {
        queue.push(ev);
        if (i % 3 === 2) await queue.idle();
      }
      await queue.idle();
      close();
      actual.push(...render(ringed.finish()));
      expect(queue.stats().droppedBytes).toBe(0);
      expect(actual).toEqual(expected);
      expect(ringed.summary()).toEqual(own.summary());
    },
  );

  it('turn what does not fit into one gap per run, at its offset, until the reader caught up to half', async () => {
    const got: ConnectionEvent[] = [];
    const { queue, drops, close } = joined(1000, (ev) => got.push(ev));
    for (let i = 0; i < 6; i++) queue.push(data(i * 320, new Uint8Array(320).fill(i + 1)));
    await queue.idle();
    close();
    // 3 × 320 fit; the next three are one gap of 960 at offset 960.
    expect(got.map((ev) => (ev.kind === 'gap' ? `gap ${ev.offset}+${ev.size}` : ev.kind === 'data' ? `data ${ev.offset}+${ev.bytes.length}` : ev.kind))).toEqual([
      'data 0+320',
      'data 320+320',
      'data 640+320',
      'gap 960+960',
    ]);
    expect(drops).toHaveLength(1);
    expect(queue.stats()).toMatchObject({ droppedBytes: 960, droppedChunks: 3, peakBytes: 960 });
  });

  it("place each chunk at its source's alignment to 8 bytes (a word-wise copy), the padding counted as ring space", async () => {
    const skews: Array<[number, number]> = [];
    const { queue, close } = joined(1000, (ev) => {
      if (ev.kind === 'data') skews.push([ev.offset, ev.bytes.byteOffset & 7]);
    });
    const source = new Uint8Array(400).map((_, i) => i & 255);
    let offset = 0;
    for (const [start, length] of [[0, 100], [3, 101], [5, 90], [1, 300], [7, 250], [2, 399]] as const) {
      const view = source.subarray(start, start + length);
      queue.push(data(offset, view));
      offset += length;
      // one chunk in the ring at a time: every one of them fits, wrapped or not
      await queue.idle();
    }
    close();
    expect(skews).toEqual([[0, 0], [100, 3], [201, 5], [291, 1], [591, 7], [841, 2]]);
    expect(queue.stats()).toMatchObject({ droppedBytes: 0, queuedBytes: 0 });
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
